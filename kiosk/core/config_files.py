"""Where the configuration file is, reading it as TOML, and who may read it.

Where things are looked up, first match wins: ``--config FILE``, then ``$KIOSK_CONFIG``, then
``/etc/rehab-kiosk/kiosk.toml``, then ``kiosk.toml`` in the data directory; with none of them,
the built-in defaults.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kiosk.core.config_schema import ConfigError

SYSTEM_CONFIG = Path("/etc/rehab-kiosk/kiosk.toml")


def default_data_dir() -> Path:
    """The per-user data directory used when nothing else is set."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "rehab-kiosk"


def find_file(explicit: Path | None) -> Path | None:
    """The configuration file to read (see the module docstring), None for the defaults."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: no such configuration file")
        return explicit
    env = os.environ.get("KIOSK_CONFIG")
    if env:
        if not Path(env).is_file():
            raise ConfigError(f"{env}: no such configuration file (from KIOSK_CONFIG)")
        return Path(env)
    if SYSTEM_CONFIG.is_file():
        return SYSTEM_CONFIG
    env_dir = os.environ.get("KIOSK_DATA_DIR")
    candidate = (Path(env_dir) if env_dir else default_data_dir()) / "kiosk.toml"
    return candidate if candidate.is_file() else None


def read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML table; an unreadable or invalid file is one :class:`ConfigError`."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.__class__.__name__})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def holds_secrets(raw: Mapping[str, Any]) -> bool:
    """Whether a parsed configuration contains a key (lookup key, parking keys)."""
    privacy, parking = raw.get("privacy"), raw.get("parking")
    return bool(
        (isinstance(privacy, dict) and privacy.get("lookup_key"))
        or (isinstance(parking, dict) and parking.get("keys"))
    )


def check_private(path: Path) -> None:
    """Refuse a file holding secrets that its group or other users may read or change."""
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ConfigError(
            f"{path}: holds secrets but its mode is {mode:04o}; "
            f"run `chmod 600 {path}` (only the kiosk's user may read it)"
        )
