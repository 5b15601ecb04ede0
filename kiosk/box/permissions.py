"""Who may read and change the configuration: a file holding keys is the kiosk user's alone.

``kiosk.core.config.load`` already refuses a group- or world-readable configuration with
secrets when it finds the file itself (the services' case); this module reports every problem
with the file (also an explicit ``--config``), for ``kiosk config check`` and ``kiosk doctor``.
"""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

from kiosk.core.config import ConfigError, check_private, holds_secrets


def config_file_problems(path: Path) -> list[str]:
    """One sentence per problem with the configuration file's permissions (none: empty list)."""
    info = path.stat()
    problems: list[str] = []
    if info.st_mode & stat.S_IWOTH or info.st_mode & stat.S_IWGRP:
        problems.append(
            f"others may change it (mode {info.st_mode & 0o777:04o}); run `chmod 600 {path}`"
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return problems  # load() reports an unreadable file with the reason
    if holds_secrets(raw):
        try:
            check_private(path)
        except ConfigError as exc:
            problems.append(str(exc).removeprefix(f"{path}: "))
    return problems
