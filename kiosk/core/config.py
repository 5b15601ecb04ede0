"""Settings: one TOML file plus environment overrides, validated with one clear error.

This module merges the file and the environment into :class:`Settings`; the jobs around it
have modules of their own beside it: ``config_schema`` (what the file may hold, unknown keys
refused), ``config_files`` (finding and reading the file, its permissions), ``config_keys``
(secrets, the PIN hash, the CA bundle, the database key's credential) and ``config_demo`` (a
demo box's starter file).

* the file: ``--config FILE``, then ``$KIOSK_CONFIG``, then ``/etc/rehab-kiosk/kiosk.toml``,
  then ``kiosk.toml`` in the data directory; with none of them, the built-in defaults.
* the data directory (databases, virtual cards, printed tickets): ``$KIOSK_DATA_DIR``, then the
  file's ``data_dir``, then ``$XDG_DATA_HOME/rehab-kiosk`` (``~/.local/share/rehab-kiosk``).
* ``$KIOSK_SITE_ID``, ``$KIOSK_ID``, ``$KIOSK_LOCAL_URL``, ``$KIOSK_CENTRAL_URL``,
  ``$KIOSK_LOG_TARGET`` and ``$KIOSK_LOG_LEVEL`` win over the file's keys.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.core import config_keys
from kiosk.core.config_demo import demo_config_text
from kiosk.core.config_files import (
    check_private,
    default_data_dir,
    find_file,
    holds_secrets,
    read_toml,
)
from kiosk.core.config_schema import (
    LOG_LEVELS,
    LOG_TARGETS,
    SITE_ID,
    SITE_ID_RULE,
    ConfigError,
    KioskFile,
    parse,
)

if TYPE_CHECKING:
    from devices.eid.trust import TrustedRoots

__all__ = [
    "CheckinWindow",
    "ConfigError",
    "ParkingSettings",
    "Settings",
    "check_private",
    "demo_config_text",
    "from_mapping",
    "holds_secrets",
    "load",
]


# The defaults are the schema's: a Settings made in code (tests, benchmarks) is the empty file's.
_DEFAULT = KioskFile()


@dataclass(frozen=True)
class CheckinWindow:
    """When a booking can be checked in, relative to its start."""

    opens_before_minutes: int = _DEFAULT.checkin.opens_before_minutes
    closes_after_minutes: int = _DEFAULT.checkin.closes_after_minutes


@dataclass(frozen=True)
class ParkingSettings:
    """Parking ticket keys and validity."""

    signing_key: str = ""
    keys: Mapping[str, bytes] = field(default_factory=dict)
    grace_minutes: int = _DEFAULT.parking.grace_minutes


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know, validated."""

    source: Path | None
    data_dir: Path
    site_id: str = _DEFAULT.site_id
    kiosk_id: str = _DEFAULT.kiosk_id
    kiosk_number: int = _DEFAULT.kiosk_number
    """1 to 99, unique within a site: the first digits of this kiosk's parking ticket numbers."""
    centre_name: str = _DEFAULT.centre_name
    local_url: str = ""
    central_url: str = ""
    lookup_key: bytes = b""
    programmes_dir: Path | None = None
    checkin: CheckinWindow = field(default_factory=CheckinWindow)
    parking: ParkingSettings = field(default_factory=ParkingSettings)
    language: str = _DEFAULT.ui.language
    result_timeout_seconds: int = _DEFAULT.ui.result_timeout_seconds
    """How long a result stays while the card is still in; then the screen signals the card."""
    result_after_card_seconds: int = _DEFAULT.ui.result_after_card_seconds
    """How long a result stays readable after the card is taken out (or until the next card)."""
    warning_seconds: int = _DEFAULT.ui.warning_seconds
    """How long before a time limit of the patient screen a countdown warns of it (a touch, a
    click or a key gives the patient the whole time again)."""
    speech: str = _DEFAULT.ui.speech
    """Speech output of the patient screen: off (the default) or espeak-ng."""
    speech_output: str = _DEFAULT.ui.speech_output
    """Where the voice is heard: a speaker (the hall hears it: the patient's name is left out)
    or a headset (the name is said too)."""
    theme: str = _DEFAULT.ui.theme
    """The screens' colours: default, or high-contrast (white and yellow on black)."""
    reception_pin_hash: str = ""
    reception_idle_seconds: int = _DEFAULT.reception.idle_seconds
    """Reception on the kiosk closes by itself after this long without a key, click or tap."""
    reader: str = _DEFAULT.devices.reader
    reader_name: str = ""
    trusted_roots: Path | None = None
    """PEM bundle of the Belgium Root CA certificates the e-ID's RRN certificate must chain to;
    None: the PC/SC reader cannot tell a forged card (``kiosk doctor`` warns)."""
    printer: str = _DEFAULT.devices.printer
    printer_target: str = ""
    log_target: str = _DEFAULT.logging.target
    """Where log events go: stderr, journal (native protocol) or file; see kiosk.core.logs."""
    log_level: str = _DEFAULT.logging.level
    log_file: str = ""
    backup_keep: int = _DEFAULT.backup.keep
    """How many backups ``kiosk backup`` keeps in ``backup_dir`` (the oldest go first)."""
    backup_dir: Path | None = None
    db_key_credential: str = ""
    """Name of the systemd credential holding the SQLCipher key; empty: the database is plain."""

    def load_trusted_roots(self) -> TrustedRoots | None:
        """The ``[devices] trusted_roots`` bundle, loaded for a card reader; None when not set."""
        if self.trusted_roots is None:
            return None
        # Certificates are only parsed when roots are configured: every command reads the
        # configuration, and the cryptography import costs the kiosk's cold start.
        from devices.eid.trust import TrustedRoots, TrustRootsError

        try:
            return TrustedRoots.load(self.trusted_roots)
        except TrustRootsError as exc:  # the file changed since the settings were loaded
            where = self.source or "configuration"
            raise ConfigError(f"{where}: [devices] trusted_roots: {exc}") from None

    def require_lookup_key(self) -> bytes:
        """The key of the national-number hash, or a clear error when none is configured."""
        if not self.lookup_key:
            raise ConfigError(
                f"{self.source or 'the configuration'}: [privacy] lookup_key is not set "
                "(run `kiosk demo-data` for a demo configuration)"
            )
        return self.lookup_key


def load(explicit: Path | None = None) -> Settings:
    """Find, read and validate the configuration (see the module docstring for the order)."""
    path = find_file(explicit)
    raw: dict[str, Any] = {}
    if path is not None:
        raw = read_toml(path)
        # Files found on their own (the service's $KIOSK_CONFIG, /etc, the data directory) are
        # what a box runs from; an explicit --config is checked by `kiosk config check`.
        if explicit is None and holds_secrets(raw):
            check_private(path)
    return from_mapping(raw, path)


def from_mapping(raw: Mapping[str, Any], path: Path | None) -> Settings:
    """Validate an already parsed configuration table and apply the environment's overrides."""
    where = str(path or "configuration")
    file = parse(raw, where)
    env = os.environ
    data_dir = Path(env.get("KIOSK_DATA_DIR") or file.data_dir or default_data_dir())
    site_id = env.get("KIOSK_SITE_ID") or file.site_id
    if not re.fullmatch(SITE_ID, site_id):
        raise ConfigError(f"environment: KIOSK_SITE_ID: must be {SITE_ID_RULE}")
    signing_key, keys = config_keys.parking_keys(file.parking, where)
    ui, devices, logs = file.ui, file.devices, file.logging
    key_credential = file.database.key_credential
    return Settings(
        source=path,
        data_dir=data_dir,
        site_id=site_id,
        kiosk_id=env.get("KIOSK_ID") or file.kiosk_id,
        kiosk_number=file.kiosk_number,
        centre_name=file.centre_name,
        local_url=env.get("KIOSK_LOCAL_URL")
        or file.local_url
        or config_keys.local_sqlite_url(data_dir / "kiosk.sqlite", key_credential, where),
        central_url=env.get("KIOSK_CENTRAL_URL")
        or file.central_url
        or f"sqlite:///{data_dir / 'central.sqlite'}",
        lookup_key=config_keys.hex_secret(
            file.privacy.lookup_key, f"{where}: [privacy] lookup_key"
        ),
        programmes_dir=Path(file.programmes_dir) if file.programmes_dir else None,
        checkin=CheckinWindow(
            opens_before_minutes=file.checkin.opens_before_minutes,
            closes_after_minutes=file.checkin.closes_after_minutes,
        ),
        parking=ParkingSettings(
            signing_key=signing_key, keys=keys, grace_minutes=file.parking.grace_minutes
        ),
        language=ui.language,
        result_timeout_seconds=ui.result_timeout_seconds,
        result_after_card_seconds=ui.result_after_card_seconds,
        warning_seconds=ui.warning_seconds,
        speech=ui.speech,
        speech_output=ui.speech_output,
        theme=ui.theme,
        reception_pin_hash=config_keys.pin_hash(file.reception.pin_hash, where),
        reception_idle_seconds=file.reception.idle_seconds,
        reader=devices.reader,
        reader_name=devices.reader_name,
        trusted_roots=config_keys.trusted_roots(devices.trusted_roots, where),
        printer=devices.printer,
        printer_target=devices.printer_target,
        log_target=_env_choice("KIOSK_LOG_TARGET", LOG_TARGETS) or logs.target,
        log_level=_env_choice("KIOSK_LOG_LEVEL", LOG_LEVELS) or logs.level,
        log_file=logs.file,
        backup_keep=file.backup.keep,
        backup_dir=Path(file.backup.dir) if file.backup.dir else None,
        db_key_credential=key_credential,
    )


def _env_choice(name: str, choices: tuple[str, ...]) -> str:
    """An environment override that must be one of ``choices`` (empty when unset)."""
    value = os.environ.get(name, "")
    if value and value not in choices:
        raise ConfigError(f"environment: {name}: must be one of {', '.join(choices)}")
    return value
