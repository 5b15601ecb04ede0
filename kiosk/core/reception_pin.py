"""The reception PIN: stored as an scrypt hash, and locked for a while after too many wrong tries.

Plain Python (no screen): the kiosk's PIN screen asks a :class:`PinGate` whether a PIN opens
reception. Log lines say that a lockout happened, never the PIN or who typed it.

The count of wrong PINs and the lockout are kept in a small file in the data directory, so
pulling the plug does not give a guesser five fresh tries; each lockout in a row lasts twice as
long as the one before (5, 10, 20 ... minutes, at most :data:`MAX_LOCK_MINUTES`) until the right
PIN is typed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from kiosk.core.clock import Clock
from kiosk.core.writing import write_whole

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
LOCK_MINUTES = 5
MAX_LOCK_MINUTES = 4 * 60
PIN_LENGTHS = range(4, 9)
_SCHEME = "scrypt"
# scrypt cost: about 50 ms on a small kiosk box; enough against a stolen configuration file
# when combined with the salt, cheap enough not to delay the PIN screen.
_N, _R, _P = 2**14, 8, 1


class PinFormatError(ValueError):
    """The PIN is not 4 to 8 digits, or a stored hash is malformed."""


def check_format(pin: str) -> str:
    """``pin`` when it is 4 to 8 digits, else :class:`PinFormatError`."""
    if not (pin.isascii() and pin.isdigit() and len(pin) in PIN_LENGTHS):
        raise PinFormatError("a PIN is 4 to 8 digits")
    return pin


def _derive(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=32)


def hash_pin(pin: str) -> str:
    """A storable hash of ``pin``: ``scrypt$n$r$p$salt$hash`` (hex), salted afresh each time."""
    salt = secrets.token_bytes(16)
    digest = _derive(check_format(pin), salt, _N, _R, _P)
    return f"{_SCHEME}${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


@dataclass(frozen=True)
class StoredPin:
    """A stored PIN hash, read: the scrypt cost, the salt and the digest."""

    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes


def parse_hash(stored: str) -> StoredPin:
    """Read a :func:`hash_pin` value, or :class:`PinFormatError` in one sentence (checked when
    the configuration loads, so a damaged hash never reaches the PIN screen)."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != _SCHEME:
        raise PinFormatError("the stored PIN hash is not an scrypt hash from `kiosk pin-hash`")
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt, digest = bytes.fromhex(parts[4]), bytes.fromhex(parts[5])
    except ValueError:
        raise PinFormatError("the stored PIN hash is damaged") from None
    # What hashlib.scrypt accepts within its default memory limit (128 * r * n bytes < 32 MiB).
    if not (n > 1 and n & (n - 1) == 0 and r >= 1 and 1 <= p <= 16 and 128 * r * n < 2**25):
        raise PinFormatError("the stored PIN hash has a cost `kiosk pin-hash` does not make")
    if not salt or len(digest) != 32:
        raise PinFormatError("the stored PIN hash is damaged")
    return StoredPin(n, r, p, salt, digest)


def verify_pin(pin: str, stored: str) -> bool:
    """True when ``pin`` matches ``stored`` (a :func:`hash_pin` value); constant-time compare."""
    parsed = parse_hash(stored)
    if not (pin.isascii() and pin.isdigit()):
        return False
    digest = _derive(pin, parsed.salt, parsed.n, parsed.r, parsed.p)
    return hmac.compare_digest(digest, parsed.digest)


@dataclass(frozen=True)
class PinAnswer:
    """What the gate says to one try."""

    accepted: bool
    locked_until: dt.datetime | None = None
    """Set while the gate is locked (the try was not even checked)."""
    attempts_left: int = MAX_ATTEMPTS


class PinGate:
    """Checks PINs against one stored hash; ``MAX_ATTEMPTS`` wrong ones lock it, for
    ``LOCK_MINUTES`` the first time and twice as long each time again (see the module)."""

    def __init__(self, stored_hash: str, clock: Clock, state_file: Path | None = None) -> None:
        self._stored = stored_hash
        self._clock = clock
        self._state_file = state_file
        self._failures = 0
        self._lockouts = 0
        """Lockouts since the last right PIN: the next one lasts longer."""
        self._locked_until: dt.datetime | None = None
        self._restore()

    @property
    def configured(self) -> bool:
        """False when no PIN hash is configured (reception cannot be opened from the kiosk)."""
        return bool(self._stored)

    def locked_until(self) -> dt.datetime | None:
        """The end of the current lockout, or None when the gate is open for tries."""
        if self._locked_until is not None and self._clock.now() >= self._locked_until:
            self._locked_until = None
            self._failures = 0
            self._save()
        return self._locked_until

    def attempt(self, pin: str) -> PinAnswer:
        """Try ``pin``; a correct PIN resets the count of wrong ones and of lockouts."""
        locked = self.locked_until()
        if locked is not None:
            return PinAnswer(False, locked_until=locked, attempts_left=0)
        if self._stored and verify_pin(pin, self._stored):
            self._failures = self._lockouts = 0
            self._save()
            return PinAnswer(True)
        self._failures += 1
        left = MAX_ATTEMPTS - self._failures
        if left <= 0:
            minutes = min(LOCK_MINUTES * 2**self._lockouts, MAX_LOCK_MINUTES)
            self._lockouts += 1
            self._locked_until = self._clock.now() + dt.timedelta(minutes=minutes)
            logger.warning(
                "reception PIN locked for %d minutes after %d wrong PINs (lockout %d in a row)",
                minutes,
                MAX_ATTEMPTS,
                self._lockouts,
            )
        self._save()
        if self._locked_until is not None:
            return PinAnswer(False, locked_until=self._locked_until, attempts_left=0)
        return PinAnswer(False, attempts_left=left)

    def _save(self) -> None:
        if self._state_file is None:
            return
        until = self._locked_until.isoformat() if self._locked_until is not None else None
        state = {"failures": self._failures, "lockouts": self._lockouts, "locked_until": until}
        try:
            write_whole(self._state_file, json.dumps(state))
        except OSError as exc:
            # Reception must still open: the lockout then holds until the kiosk restarts.
            logger.warning("the PIN lockout cannot be kept on disk (%s)", exc.strerror)

    def _restore(self) -> None:
        if self._state_file is None or not self._state_file.exists():
            return
        try:
            state = json.loads(self._state_file.read_text(encoding="utf-8"))
            failures, lockouts = int(state["failures"]), int(state["lockouts"])
            until = state["locked_until"]
            locked_until = dt.datetime.fromisoformat(until) if until is not None else None
            if locked_until is not None and locked_until.tzinfo is None:
                raise ValueError("a moment without its offset")
        except (OSError, ValueError, KeyError, TypeError):
            # A damaged record is no way around the lockout: it counts as one.
            logger.warning("the PIN lockout record is damaged; reception is locked for a while")
            self._lockouts = 1
            self._locked_until = self._clock.now() + dt.timedelta(minutes=LOCK_MINUTES)
            self._save()
            return
        self._failures = max(0, min(failures, MAX_ATTEMPTS - 1))
        self._lockouts = max(0, lockouts)
        # A clock set back after the lockout must not stretch it beyond the longest one.
        longest = self._clock.now() + dt.timedelta(minutes=MAX_LOCK_MINUTES)
        self._locked_until = min(locked_until, longest) if locked_until is not None else None
