"""What the commands and the box use of sync: its one public surface.

``kiosk.cli`` and ``kiosk.box`` import sync only through this module (an import-linter contract),
so the modules behind it can be split, renamed and rewritten without touching a command.
"""

from __future__ import annotations

from sync.central import (
    CentreUnreachable,
    NoCentre,
    OwnerLacks,
    RoleRefused,
    add_exit_at,
    add_kiosk_at,
    import_at,
    init_at,
)
from sync.importer import ImportFailed, parse_file
from sync.push import requeue_set_aside, role_identity
from sync.service import SyncService
from sync.status import SyncStatus, sync_status

__all__ = [
    "CentreUnreachable",
    "ImportFailed",
    "NoCentre",
    "OwnerLacks",
    "RoleRefused",
    "SyncService",
    "SyncStatus",
    "add_exit_at",
    "add_kiosk_at",
    "import_at",
    "init_at",
    "parse_file",
    "requeue_set_aside",
    "role_identity",
    "sync_status",
]
