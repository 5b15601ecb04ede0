"""What ``kiosk.toml`` may hold: its tables and keys as typed msgspec structs, unknown keys
refused, and msgspec's complaint turned into one sentence naming the file and the key.

Each key's rule is declared once, here, with its words (``Meta(description=...)``) for the
message; what needs more than a type and a range (secrets, the PIN hash, the CA bundle, the
credential) is checked in :mod:`kiosk.core.config_keys`.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec


class ConfigError(ValueError):
    """The configuration is wrong; the message names the file and the key."""


def _whole(low: int, high: int) -> msgspec.Meta:
    return msgspec.Meta(ge=low, le=high, description=f"a whole number from {low} to {high}")


# The longest setting in minutes (a day); the centre bounds a ticket's grace by it.
MAX_MINUTES = 24 * 60
Minutes = Annotated[int, _whole(0, MAX_MINUTES)]
ResultSeconds = Annotated[int, _whole(3, 600)]
AfterCardSeconds = Annotated[int, _whole(1, 600)]
WarningSeconds = Annotated[int, _whole(1, 60)]
IdleSeconds = Annotated[int, _whole(10, 3600)]
BackupsKept = Annotated[int, _whole(1, 1000)]
KioskNumber = Annotated[int, _whole(1, 99)]
Language = Literal["nl", "fr", "en", "de"]
"""kiosk.core.i18n.LANGUAGES as a type (a test keeps the two the same)."""
LogTarget = Literal["stderr", "journal", "file"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
LOG_TARGETS: tuple[str, ...] = typing.get_args(LogTarget)
LOG_LEVELS: tuple[str, ...] = typing.get_args(LogLevel)
SITE_ID = r"^[A-Z0-9-]{1,16}$"
SITE_ID_RULE = "1 to 16 of A-Z 0-9 -"


class _Table(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A table of the file: a key it does not declare is refused (a typo must not be ignored)."""


class CheckinTable(_Table, frozen=True):
    """``[checkin]``: the window around a session's start."""

    opens_before_minutes: Minutes = 45
    closes_after_minutes: Minutes = 20


class PrivacyTable(_Table, frozen=True):
    """``[privacy]``: the key of the national-number hash (hex)."""

    lookup_key: str = ""


class ParkingTable(_Table, frozen=True):
    """``[parking]``: ticket keys by id (hex; checked in config_keys), which one signs."""

    signing_key: str = ""
    grace_minutes: Minutes = 60
    keys: dict[str, object] = msgspec.field(default_factory=dict)


class UiTable(_Table, frozen=True):
    """``[ui]``: the screens."""

    language: Language = "nl"
    result_timeout_seconds: ResultSeconds = 15
    result_after_card_seconds: AfterCardSeconds = 8
    warning_seconds: WarningSeconds = 5
    speech: Literal["off", "espeak-ng"] = "off"
    speech_output: Literal["speaker", "headset"] = "speaker"
    theme: Literal["default", "high-contrast"] = "default"


class ReceptionTable(_Table, frozen=True):
    """``[reception]``: the hash of the reception PIN (``kiosk pin-hash``), and how long reception
    on the kiosk stays open without any input before it closes by itself."""

    pin_hash: str = ""
    idle_seconds: IdleSeconds = 120


class DevicesTable(_Table, frozen=True):
    """``[devices]``: card reader and ticket printer."""

    reader: Literal["simulated", "pcsc"] = "simulated"
    reader_name: str = ""
    trusted_roots: str = ""
    printer: Literal["none", "file", "escpos"] = "file"
    printer_target: str = ""


class LoggingTable(_Table, frozen=True):
    """``[logging]``: where log events go."""

    target: LogTarget = "stderr"
    level: LogLevel = "INFO"
    file: str = ""


class BackupTable(_Table, frozen=True):
    """``[backup]``: how many backups are kept, and where."""

    keep: BackupsKept = 14
    dir: str = ""


class DatabaseTable(_Table, frozen=True):
    """``[database]``: the systemd credential holding the SQLCipher key."""

    key_credential: str = ""


class KioskFile(_Table, frozen=True):
    """The whole file, every key with its default."""

    site_id: Annotated[str, msgspec.Meta(pattern=SITE_ID, description=SITE_ID_RULE)] = "GENK"
    kiosk_id: str = "GENK-1"
    kiosk_number: KioskNumber = 1
    centre_name: str = "Ambulante Revalidatie"
    data_dir: str = ""
    local_url: str = ""
    central_url: str = ""
    programmes_dir: str = ""
    checkin: CheckinTable = msgspec.field(default_factory=CheckinTable)
    privacy: PrivacyTable = msgspec.field(default_factory=PrivacyTable)
    parking: ParkingTable = msgspec.field(default_factory=ParkingTable)
    ui: UiTable = msgspec.field(default_factory=UiTable)
    reception: ReceptionTable = msgspec.field(default_factory=ReceptionTable)
    devices: DevicesTable = msgspec.field(default_factory=DevicesTable)
    logging: LoggingTable = msgspec.field(default_factory=LoggingTable)
    backup: BackupTable = msgspec.field(default_factory=BackupTable)
    database: DatabaseTable = msgspec.field(default_factory=DatabaseTable)


def parse(raw: Mapping[str, Any], where: str) -> KioskFile:
    """The parsed TOML table as a :class:`KioskFile`; raises :class:`ConfigError` naming
    ``where`` (the file) and the key."""
    try:
        return msgspec.convert(raw, KioskFile)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{where}: {_explain(str(exc))}") from None


# msgspec says what is wrong, then where: "Expected `int` <= 1440 - at `$.checkin.x`".
_AT = re.compile(r"(?P<what>.*) - at `\$(?P<path>[^`]*)`")
_UNKNOWN = re.compile(r"Object contains unknown field `(?P<key>[^`]*)`")
_NOUNS = {"str": "a string", "int": "a whole number", "object": "a table", "array": "a list"}


def _explain(message: str) -> str:
    """``[table] key: why`` for one of msgspec's validation messages."""
    match = _AT.fullmatch(message)
    what, path = (match["what"], match["path"]) if match else (message, "")
    names = [name for name in path.split(".") if name]
    unknown = _UNKNOWN.fullmatch(what)
    if unknown:
        return f"{_place([*names, unknown['key']])}: is not a setting (misspelt?)"
    return f"{_place(names)}: must be {_rule(names, what)}"


def _place(names: list[str]) -> str:
    """``[parking.keys] K1`` for the path ``parking.keys.K1``, ``site_id`` for a top key."""
    *tables, key = [name.replace("[...]", "") for name in names] or ["(the file)"]
    return f"[{'.'.join(tables)}] {key}" if tables else key


def _rule(names: list[str], what: str) -> str:
    """The key's rule in words, from its declaration in the schema."""
    kind: Any = KioskFile
    for name in names:
        fields = {f.name: f.type for f in msgspec.structs.fields(kind)} if _is_table(kind) else {}
        kind = fields.get(name.replace("[...]", ""))
    if _is_table(kind):
        return "a table"
    if typing.get_origin(kind) is Literal:
        return f"one of {', '.join(typing.get_args(kind))}"
    if typing.get_origin(kind) is Annotated:
        meta = typing.get_args(kind)[1]
        if isinstance(meta, msgspec.Meta) and meta.description:
            return str(meta.description)
    expected = re.match(r"Expected `(\w+)`", what)
    if expected and expected[1] in _NOUNS:
        return _NOUNS[expected[1]]
    return what[:1].lower() + what[1:]


def _is_table(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, _Table)
