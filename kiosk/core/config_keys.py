"""The configuration's secrets and the files it points to: hex keys, the parking keys, the
reception PIN's hash, the e-ID's CA bundle and the systemd credential of the database key.

Each check names the file (``where``) and the key, as :mod:`kiosk.core.config_schema` does.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from kiosk.core.config_schema import ConfigError, ParkingTable
from kiosk.core.reception_pin import PinFormatError, parse_hash

MIN_KEY_BYTES = 32
_KEY_ID = re.compile(r"[A-Z0-9]{1,8}")


def hex_secret(value: object, what: str) -> bytes:
    """A secret written in hex (b"" when empty); ``what``: ``file: [table] key``."""
    if value == "":
        return b""
    try:
        secret = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        secret = b""
    if len(secret) < MIN_KEY_BYTES:
        raise ConfigError(f"{what}: must be at least {MIN_KEY_BYTES} bytes written in hex")
    return secret


def parking_keys(parking: ParkingTable, where: str) -> tuple[str, Mapping[str, bytes]]:
    """``[parking]``'s signing key id and its keys by id."""
    keys: dict[str, bytes] = {}
    for kid, value in parking.keys.items():
        if not _KEY_ID.fullmatch(kid):
            raise ConfigError(f"{where}: [parking.keys] {kid}: a key id is 1 to 8 of A-Z 0-9")
        keys[kid] = hex_secret(value, f"{where}: [parking.keys] {kid}")
    signing_key = parking.signing_key or next(iter(keys), "")
    if keys and signing_key not in keys:
        raise ConfigError(f"{where}: [parking] signing_key: names no key in [parking.keys]")
    return signing_key, keys


def pin_hash(value: str, where: str) -> str:
    """``[reception] pin_hash``: empty, or a hash ``kiosk pin-hash`` made."""
    if value:
        try:
            parse_hash(value)
        except PinFormatError as exc:
            raise ConfigError(f"{where}: [reception] pin_hash: {exc}") from None
    return value


def trusted_roots(value: str, where: str) -> Path | None:
    """``[devices] trusted_roots``: a readable PEM bundle of at least one CA certificate."""
    if not value:
        return None
    path = Path(value)
    # Certificates are only parsed when roots are configured: every command reads the
    # configuration, and the cryptography import costs the kiosk's cold start.
    from devices.eid.trust import TrustedRoots, TrustRootsError

    try:
        TrustedRoots.load(path)
    except TrustRootsError as exc:
        raise ConfigError(f"{where}: [devices] trusted_roots: {exc}") from None
    return path


def local_sqlite_url(path: Path, key_credential: str, where: str) -> str:
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
