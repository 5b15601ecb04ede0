"""The parking keyring: every configured key verifies, the one named ``signing_key`` signs.

Keys live in the configuration file's ``[parking.keys]`` table (key id = secret in hex, at least
32 random bytes), never in the repository. Rotating a key: add the new one, make it the signing
key, keep the old one listed until its last ticket has expired, then remove it.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field

from kiosk.core.config import ConfigError, ParkingSettings
from kiosk.domain.parking.code import KEY_ID

MIN_KEY_BYTES = 32
GENERATED_KID_LENGTH = 6


class ParkingNotConfigured(ConfigError):
    """Tickets cannot be issued: no signing key, or a site id the code cannot carry."""


@dataclass(frozen=True)
class Keyring:
    """The keys that verify (by key id) and the id of the one that signs ("" for none)."""

    keys: Mapping[str, bytes] = field(default_factory=dict)
    signing_key_id: str = ""

    def __post_init__(self) -> None:
        for kid, secret in self.keys.items():
            if not KEY_ID.fullmatch(kid):
                raise ValueError("a key id is 1 to 8 characters A-Z 0-9")
            if len(secret) < MIN_KEY_BYTES:
                raise ValueError(f"parking key {kid} is shorter than {MIN_KEY_BYTES} bytes")
        if self.signing_key_id and self.signing_key_id not in self.keys:
            raise ValueError(f"the signing key {self.signing_key_id} is not in the keyring")

    @classmethod
    def from_settings(cls, parking: ParkingSettings) -> Keyring:
        """The keyring of the ``[parking]`` settings."""
        return cls(dict(parking.keys), parking.signing_key if parking.keys else "")

    def signing(self) -> tuple[str, bytes]:
        """The id and secret of the signing key, or :class:`ParkingNotConfigured`."""
        if not self.signing_key_id:
            raise ParkingNotConfigured(
                "no parking signing key is configured: add one to [parking.keys] "
                "(`kiosk parking keygen` makes one) and name it in [parking] signing_key"
            )
        return self.signing_key_id, self.keys[self.signing_key_id]


def generate_key(kid: str | None = None) -> tuple[str, bytes]:
    """A new key: a random id of A-Z 0-9 (or ``kid``) and 32 random bytes."""
    if kid is None:
        alphabet = string.ascii_uppercase + string.digits
        kid = "".join(secrets.choice(alphabet) for _ in range(GENERATED_KID_LENGTH))
    if not KEY_ID.fullmatch(kid):
        raise ValueError(f"{kid!r} is not a key id (1 to 8 characters A-Z 0-9)")
    return kid, secrets.token_bytes(MIN_KEY_BYTES)


def config_line(kid: str, secret: bytes) -> str:
    """The key as a line for the ``[parking.keys]`` table: ``KID = "hex"``."""
    return f'{kid} = "{secret.hex()}"'
