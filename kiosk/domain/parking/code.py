"""The parking ticket code, exactly as issue 4 fixes it (a barrier vendor implements it from there).

QR payload, ASCII, only characters of the QR alphanumeric set::

    RK1:<KID>:<SITE>:<TICKET>:<EXPIRES>:<TAG>

``KID`` 1-8 of ``A-Z0-9``; ``SITE`` 1-16 of ``A-Z0-9-``; ``TICKET`` exactly 10 digits;
``EXPIRES`` UTC ``YYYYMMDDHHMM``; ``TAG`` the first 16 characters of the unpadded RFC 4648 base32
of HMAC-SHA256(key ``KID``, ``RK1:<KID>:<SITE>:<TICKET>:<EXPIRES>``). A ticket is valid while the
time is not after ``EXPIRES``.

Short code (typed at a cashier): the 10 ticket digits, 4 secret digits and two check digits,
grouped ``XXXX-XXXX-XXXX-XXXX``. The secret digits are the HMAC-SHA256 (key ``KID``) of
``RK1S:<SITE>:<TICKET>``, its first 8 bytes as a big-endian number, modulo 10 000: ticket
numbers are sequential, so without them the first guess at the exit was a valid code. The check
digits are ``97 - (the 14 digits) mod 97`` (01 to 97) and catch typing errors. A short code is
looked up in the database of issued tickets; one whose secret digits are wrong is answered as
an unknown ticket, so a guess learns nothing.

This module is pure (no database, no clock): everything else builds on it.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

VERSION = "RK1"
TAG_LENGTH = 16
TICKET_DIGITS = 10
MAX_TICKET = 10**TICKET_DIGITS - 1
KEY_ID = re.compile(r"[A-Z0-9]{1,8}")
SITE_ID = re.compile(r"[A-Z0-9-]{1,16}")
_PAYLOAD = re.compile(
    r"RK1:(?P<kid>[A-Z0-9]{1,8}):(?P<site>[A-Z0-9-]{1,16}):(?P<ticket>[0-9]{10})"
    r":(?P<expires>[0-9]{12}):(?P<tag>[A-Z2-7]{16})"
)
SECRET_DIGITS = 4
SHORT_DIGITS = TICKET_DIGITS + SECRET_DIGITS + 2
_SHORT = re.compile(rf"[0-9]{{{SHORT_DIGITS}}}")


class Reason(enum.StrEnum):
    """Why a code is refused; the words are part of the command's output."""

    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown key"
    BAD_TAG = "bad tag"
    EXPIRED = "expired"
    WRONG_SITE = "wrong site"
    ALREADY_USED = "already used"
    UNKNOWN_TICKET = "unknown ticket"


class MalformedCode(ValueError):
    """The text is not a parking code of the fixed format."""


@dataclass(frozen=True)
class TicketCode:
    """The signed fields of a ticket; ``expires_at`` is an aware UTC instant on a whole minute."""

    key_id: str
    site_id: str
    ticket_number: int
    expires_at: dt.datetime

    def __post_init__(self) -> None:
        if not KEY_ID.fullmatch(self.key_id):
            raise ValueError("a key id is 1 to 8 characters A-Z 0-9")
        if not SITE_ID.fullmatch(self.site_id):
            raise ValueError("a site id is 1 to 16 characters A-Z 0-9 -")
        if not 0 <= self.ticket_number <= MAX_TICKET:
            raise ValueError("a ticket number has at most 10 digits")
        if self.expires_at.tzinfo is None:
            raise ValueError("the expiry must be an aware datetime")
        if self.expires_at.second or self.expires_at.microsecond:
            raise ValueError("the expiry must fall on a whole minute")

    @property
    def ticket_text(self) -> str:
        """The ticket number as its 10 digits."""
        return f"{self.ticket_number:010d}"

    @property
    def expires_text(self) -> str:
        """The expiry as ``YYYYMMDDHHMM`` in UTC."""
        t = self.expires_at.astimezone(dt.UTC)
        return f"{t.year:04d}{t.month:02d}{t.day:02d}{t.hour:02d}{t.minute:02d}"

    @property
    def message(self) -> str:
        """The text the tag signs: the payload without ``:<TAG>``."""
        fields = (VERSION, self.key_id, self.site_id, self.ticket_text, self.expires_text)
        return ":".join(fields)

    def payload(self, key: bytes) -> str:
        """The QR payload, signed with ``key`` (the secret of ``key_id``)."""
        return f"{self.message}:{tag(self.message, key)}"


def tag(message: str, key: bytes) -> str:
    """The first 16 characters of base32(HMAC-SHA256(key, message)), no padding."""
    digest = hmac.new(key, message.encode("ascii"), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:TAG_LENGTH]


def parse_payload(payload: str) -> tuple[TicketCode, str]:
    """The fields and the tag of a QR payload; checks the format only, not the tag."""
    match = _PAYLOAD.fullmatch(payload)
    if match is None:
        raise MalformedCode("not a parking code of the RK1 format")
    expires = match["expires"]
    try:
        expires_at = dt.datetime(
            int(expires[0:4]),
            int(expires[4:6]),
            int(expires[6:8]),
            int(expires[8:10]),
            int(expires[10:12]),
            tzinfo=dt.UTC,
        )
    except ValueError:
        raise MalformedCode("the expiry is not a date and time") from None
    fields = TicketCode(match["kid"], match["site"], int(match["ticket"]), expires_at)
    return fields, match["tag"]


def secret_digits(ticket_number: int, site_id: str, key: bytes) -> str:
    """The 4 digits of a short code that only a holder of the ticket's key can compute."""
    if not 0 <= ticket_number <= MAX_TICKET:
        raise ValueError("a ticket number has at most 10 digits")
    message = f"RK1S:{site_id}:{ticket_number:010d}".encode("ascii")
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**SECRET_DIGITS:0{SECRET_DIGITS}d}"


def check_digits(digits: str) -> str:
    """The two check digits of the ticket and secret digits: ``97 - n mod 97``, 01 to 97."""
    if not digits.isascii() or not digits.isdigit():
        raise ValueError("check digits are computed over digits")
    return f"{97 - int(digits) % 97:02d}"


def short_code(ticket_number: int, site_id: str, key: bytes) -> str:
    """The code for typing at a cashier: ``XXXX-XXXX-XXXX-XXXX``."""
    body = f"{ticket_number:010d}{secret_digits(ticket_number, site_id, key)}"
    digits = body + check_digits(body)
    return "-".join(digits[i : i + 4] for i in range(0, SHORT_DIGITS, 4))


@dataclass(frozen=True)
class ShortCode:
    """A short code as typed: the ticket number and the secret digits it claims."""

    ticket_number: int
    secret: str

    def matches(self, site_id: str, key: bytes) -> bool:
        """True when the secret digits are this ticket's under ``key`` (constant time)."""
        expected = secret_digits(self.ticket_number, site_id, key)
        return hmac.compare_digest(expected, self.secret)


def parse_short_code(text: str) -> ShortCode:
    """The ticket number and secret digits of a short code typed with or without dashes and
    spaces; checks the format and the check digits, not the secret."""
    digits = text.replace("-", "").replace(" ", "")
    if not _SHORT.fullmatch(digits):
        raise MalformedCode(f"a short code is {SHORT_DIGITS} digits")
    body = digits[: TICKET_DIGITS + SECRET_DIGITS]
    if digits[TICKET_DIGITS + SECRET_DIGITS :] != check_digits(body):
        raise MalformedCode("the check digits do not match (a typing error?)")
    return ShortCode(int(digits[:TICKET_DIGITS]), digits[TICKET_DIGITS:-2])


def is_payload(text: str) -> bool:
    """True when the text claims to be a QR payload (rather than a short code)."""
    return text.startswith(f"{VERSION}:")


@dataclass(frozen=True)
class Verdict:
    """The answer to "may this car leave for free?"; ``reason`` is None when it may."""

    reason: Reason | None
    ticket: TicketCode | None = None
    """The ticket's fields, when the code could be read."""
    redeemed_at: dt.datetime | None = None
    detail: str = ""

    @property
    def valid(self) -> bool:
        """True when the code is accepted."""
        return self.reason is None


def verify_payload(
    payload: str, *, keys: Mapping[str, bytes], site_id: str, at: dt.datetime
) -> Verdict:
    """Check a QR payload offline: format, key, tag (constant time), site, then expiry."""
    try:
        fields, presented = parse_payload(payload)
    except MalformedCode as exc:
        return Verdict(Reason.MALFORMED, detail=str(exc))
    key = keys.get(fields.key_id)
    if key is None:
        return Verdict(Reason.UNKNOWN_KEY, detail=f"key {fields.key_id} is not configured")
    if not hmac.compare_digest(tag(fields.message, key), presented):
        return Verdict(Reason.BAD_TAG)
    if fields.site_id != site_id:
        return Verdict(Reason.WRONG_SITE, fields, detail=f"issued for site {fields.site_id}")
    if at > fields.expires_at:
        return Verdict(Reason.EXPIRED, fields)
    return Verdict(None, fields)
