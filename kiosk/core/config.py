"""Settings: one TOML file plus environment overrides, validated with one clear error.

Where things are looked up, first match wins:

* the file: ``--config FILE``, then ``$KIOSK_CONFIG``, then ``/etc/rehab-kiosk/kiosk.toml``,
  then ``kiosk.toml`` in the data directory; with none of them, the built-in defaults.
* the data directory (databases, virtual cards, printed tickets): ``$KIOSK_DATA_DIR``, then the
  file's ``data_dir``, then ``$XDG_DATA_HOME/rehab-kiosk`` (``~/.local/share/rehab-kiosk``).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.core.i18n import LANGUAGES
from kiosk.core.reception_pin import PinFormatError, parse_hash

if TYPE_CHECKING:
    from devices.eid.trust import TrustedRoots


SYSTEM_CONFIG = Path("/etc/rehab-kiosk/kiosk.toml")
LOG_TARGETS = ("stderr", "journal", "file")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(ValueError):
    """The configuration is wrong; the message names the file and the key."""


def default_data_dir() -> Path:
    """The per-user data directory used when nothing else is set."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "rehab-kiosk"


@dataclass(frozen=True)
class CheckinWindow:
    """When a booking can be checked in, relative to its start."""

    opens_before_minutes: int = 45
    closes_after_minutes: int = 20


@dataclass(frozen=True)
class ParkingSettings:
    """Parking ticket keys and validity."""

    signing_key: str = ""
    keys: Mapping[str, bytes] = field(default_factory=dict)
    grace_minutes: int = 60


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know, validated."""

    source: Path | None
    data_dir: Path
    site_id: str = "GENK"
    kiosk_id: str = "GENK-1"
    kiosk_number: int = 1
    """1 to 99, unique within a site: the first digits of this kiosk's parking ticket numbers."""
    centre_name: str = "Ambulante Revalidatie"
    local_url: str = ""
    central_url: str = ""
    lookup_key: bytes = b""
    programmes_dir: Path | None = None
    checkin: CheckinWindow = field(default_factory=CheckinWindow)
    parking: ParkingSettings = field(default_factory=ParkingSettings)
    language: str = "nl"
    result_timeout_seconds: int = 15
    """How long a result stays while the card is still in; then the screen signals the card."""
    result_after_card_seconds: int = 8
    """How long a result stays readable after the card is taken out (or until the next card)."""
    warning_seconds: int = 5
    """How long before a time limit of the patient screen a countdown warns of it (a touch, a
    click or a key gives the patient the whole time again)."""
    speech: str = "off"
    """Speech output of the patient screen: off (the default) or espeak-ng."""
    speech_output: str = "speaker"
    """Where the voice is heard: a speaker (the hall hears it: the patient's name is left out)
    or a headset (the name is said too)."""
    theme: str = "default"
    """The screens' colours: default, or high-contrast (white and yellow on black)."""
    reception_pin_hash: str = ""
    reader: str = "simulated"
    reader_name: str = ""
    trusted_roots: Path | None = None
    """PEM bundle of the Belgium Root CA certificates the e-ID's RRN certificate must chain to;
    None: the PC/SC reader cannot tell a forged card (``kiosk doctor`` warns)."""
    printer: str = "file"
    printer_target: str = ""
    log_target: str = "stderr"
    """Where log events go: stderr, journal (native protocol) or file; see kiosk.core.logs."""
    log_level: str = "INFO"
    log_file: str = ""
    backup_keep: int = 14
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


class _Reader:
    """Typed access to a TOML table that names the file and key in every error."""

    def __init__(self, where: str, table: Mapping[str, Any], prefix: str = "") -> None:
        self.where, self.table, self.prefix = where, table, prefix

    def _fail(self, key: str, why: str) -> ConfigError:
        return ConfigError(f"{self.where}: {self.prefix}{key}: {why}")

    def table_of(self, key: str) -> _Reader:
        value = self.table.get(key, {})
        if not isinstance(value, dict):
            raise self._fail(key, "must be a table")
        return _Reader(self.where, value, f"[{self.prefix}{key}] ")

    def text(self, key: str, default: str, *, choices: tuple[str, ...] = ()) -> str:
        value = self.table.get(key, default)
        if not isinstance(value, str):
            raise self._fail(key, "must be a string")
        if choices and value not in choices:
            raise self._fail(key, f"must be one of {', '.join(choices)}")
        return value

    def whole(self, key: str, default: int, *, low: int = 0, high: int = 10**6) -> int:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self._fail(key, f"must be a whole number from {low} to {high}")
        return value

    def hex_secret(self, key: str, *, min_bytes: int) -> bytes:
        value = self.table.get(key, "")
        if value == "":
            return b""
        try:
            secret = bytes.fromhex(value) if isinstance(value, str) else b""
        except ValueError:
            secret = b""
        if len(secret) < min_bytes:
            raise self._fail(key, f"must be at least {min_bytes} bytes written in hex")
        return secret


def _find_file(explicit: Path | None) -> Path | None:
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


def load(explicit: Path | None = None) -> Settings:
    """Find, read and validate the configuration (see the module docstring for the order)."""
    path = _find_file(explicit)
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot be read ({exc.__class__.__name__})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
        # Files found on their own (the service's $KIOSK_CONFIG, /etc, the data directory) are
        # what a box runs from; an explicit --config is checked by `kiosk config check`.
        if explicit is None and holds_secrets(raw):
            check_private(path)
    return from_mapping(raw, path)


def from_mapping(raw: Mapping[str, Any], path: Path | None) -> Settings:
    """Validate an already parsed configuration table."""
    top = _Reader(str(path or "configuration"), raw)
    env = os.environ
    data_dir = Path(env.get("KIOSK_DATA_DIR") or top.text("data_dir", "") or default_data_dir())
    checkin = top.table_of("checkin")
    parking = top.table_of("parking")
    keys_table = parking.table_of("keys")
    keys: dict[str, bytes] = {}
    for kid in keys_table.table:
        if not (1 <= len(kid) <= 8 and kid.isascii() and kid.isalnum() and kid.upper() == kid):
            raise ConfigError(f"{top.where}: [parking.keys] {kid}: a key id is 1 to 8 of A-Z 0-9")
        keys[kid] = keys_table.hex_secret(kid, min_bytes=32)
    signing_key = parking.text("signing_key", next(iter(keys), ""))
    if keys and signing_key not in keys:
        raise ConfigError(f"{top.where}: [parking] signing_key: names no key in [parking.keys]")
    ui = top.table_of("ui")
    devices = top.table_of("devices")
    programmes_dir = top.text("programmes_dir", "")
    logs = top.table_of("logging")
    backup = top.table_of("backup")
    key_credential = top.table_of("database").text("key_credential", "")
    backup_dir = backup.text("dir", "")
    site_id = env.get("KIOSK_SITE_ID") or top.text("site_id", "GENK")
    if not re.fullmatch(r"[A-Z0-9-]{1,16}", site_id):
        raise ConfigError(f"{top.where}: site_id: must be 1 to 16 of A-Z 0-9 -")
    return Settings(
        source=path,
        data_dir=data_dir,
        site_id=site_id,
        kiosk_id=env.get("KIOSK_ID") or top.text("kiosk_id", "GENK-1"),
        kiosk_number=top.whole("kiosk_number", 1, low=1, high=99),
        centre_name=top.text("centre_name", "Ambulante Revalidatie"),
        local_url=env.get("KIOSK_LOCAL_URL")
        or top.text("local_url", "")
        or _local_sqlite_url(data_dir / "kiosk.sqlite", key_credential, top.where),
        central_url=env.get("KIOSK_CENTRAL_URL")
        or top.text("central_url", "")
        or f"sqlite:///{data_dir / 'central.sqlite'}",
        lookup_key=top.table_of("privacy").hex_secret("lookup_key", min_bytes=32),
        programmes_dir=Path(programmes_dir) if programmes_dir else None,
        checkin=CheckinWindow(
            opens_before_minutes=checkin.whole("opens_before_minutes", 45, high=24 * 60),
            closes_after_minutes=checkin.whole("closes_after_minutes", 20, high=24 * 60),
        ),
        parking=ParkingSettings(
            signing_key=signing_key,
            keys=keys,
            grace_minutes=parking.whole("grace_minutes", 60, high=24 * 60),
        ),
        language=ui.text("language", "nl", choices=LANGUAGES),
        result_timeout_seconds=ui.whole("result_timeout_seconds", 15, low=3, high=600),
        result_after_card_seconds=ui.whole("result_after_card_seconds", 8, low=1, high=600),
        warning_seconds=ui.whole("warning_seconds", 5, low=1, high=60),
        speech=ui.text("speech", "off", choices=("off", "espeak-ng")),
        speech_output=ui.text("speech_output", "speaker", choices=("speaker", "headset")),
        theme=ui.text("theme", "default", choices=("default", "high-contrast")),
        reception_pin_hash=_pin_hash(top.table_of("reception")),
        reader=devices.text("reader", "simulated", choices=("simulated", "pcsc")),
        reader_name=devices.text("reader_name", ""),
        trusted_roots=_trusted_roots(devices),
        printer=devices.text("printer", "file", choices=("none", "file", "escpos")),
        printer_target=devices.text("printer_target", ""),
        log_target=_env_choice("KIOSK_LOG_TARGET", LOG_TARGETS)
        or logs.text("target", "stderr", choices=LOG_TARGETS),
        log_level=_env_choice("KIOSK_LOG_LEVEL", LOG_LEVELS)
        or logs.text("level", "INFO", choices=LOG_LEVELS),
        log_file=logs.text("file", ""),
        backup_keep=backup.whole("keep", 14, low=1, high=1000),
        backup_dir=Path(backup_dir) if backup_dir else None,
        db_key_credential=key_credential,
    )


def _pin_hash(reception: _Reader) -> str:
    """``[reception] pin_hash``: empty, or a hash ``kiosk pin-hash`` made."""
    value = reception.text("pin_hash", "")
    if value:
        try:
            parse_hash(value)
        except PinFormatError as exc:
            raise reception._fail("pin_hash", str(exc)) from None
    return value


def _trusted_roots(devices: _Reader) -> Path | None:
    """``[devices] trusted_roots``: a readable PEM bundle of at least one CA certificate."""
    value = devices.text("trusted_roots", "")
    if not value:
        return None
    path = Path(value)
    from devices.eid.trust import TrustedRoots, TrustRootsError  # see load_trusted_roots

    try:
        TrustedRoots.load(path)
    except TrustRootsError as exc:
        raise devices._fail("trusted_roots", str(exc)) from None
    return path


def _local_sqlite_url(path: Path, key_credential: str, where: str) -> str:
    """The kiosk database's URL: plain SQLite, or SQLCipher keyed from a systemd credential."""
    if not key_credential:
        return f"sqlite:///{path}"
    key = read_credential(key_credential, f"{where}: [database] key_credential")
    if len(key) != 64 or any(c not in "0123456789abcdef" for c in key.lower()):
        raise ConfigError(
            f"{where}: [database] key_credential: credential {key_credential!r} must hold "
            "32 bytes written in hex (64 characters)"
        )
    # SQLAlchemy only here: every command reads the configuration, and importing it costs the
    # kiosk's cold start about a tenth of a second.
    from sqlalchemy import URL

    # x'...' makes SQLCipher use the raw 256-bit key (no passphrase derivation on every open).
    return URL.create(
        "sqlite+pysqlcipher", username="", password=f"x'{key.lower()}'", database=str(path)
    ).render_as_string(hide_password=False)


def read_credential(name: str, what: str) -> str:
    """A systemd credential's text (``$CREDENTIALS_DIRECTORY/name``), stripped."""
    folder = os.environ.get("CREDENTIALS_DIRECTORY")
    if not folder:
        raise ConfigError(
            f"{what}: credential {name!r} needs $CREDENTIALS_DIRECTORY (run under systemd "
            "with LoadCredential=, or with systemd-run -p LoadCredential=...)"
        )
    try:
        return (Path(folder) / name).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        raise ConfigError(f"{what}: credential {name!r} cannot be read in {folder}") from None


def _env_choice(name: str, choices: tuple[str, ...]) -> str:
    """An environment override that must be one of ``choices`` (empty when unset)."""
    value = os.environ.get(name, "")
    if value and value not in choices:
        raise ConfigError(f"environment: {name}: must be one of {', '.join(choices)}")
    return value


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


def demo_config_text(data_dir: Path) -> str:
    """A starter configuration with freshly generated secrets (never committed anywhere)."""
    return f"""# Rehab kiosk configuration (demo). Secrets below were generated on this machine.
site_id = "GENK"
kiosk_id = "GENK-1"
kiosk_number = 1
centre_name = "Ambulante Revalidatie"
data_dir = "{data_dir}"

[checkin]
opens_before_minutes = 45
closes_after_minutes = 20

[privacy]
# Key of the hash the kiosk looks patients up by; the same on every kiosk and the centre.
lookup_key = "{os.urandom(32).hex()}"

[parking]
signing_key = "K1"
grace_minutes = 60

[parking.keys]
K1 = "{os.urandom(32).hex()}"

[ui]
language = "nl"
result_timeout_seconds = 15
result_after_card_seconds = 8
warning_seconds = 5
speech = "off"
speech_output = "speaker"
theme = "default"

[devices]
reader = "simulated"
printer = "file"
"""
