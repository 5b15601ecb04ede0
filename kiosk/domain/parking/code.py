"""The parking ticket code, exactly as issue 4 fixes it (a barrier vendor implements it from there).

QR payload, ASCII, only characters of the QR alphanumeric set::

    RK1:<KID>:<SITE>:<TICKET>:<EXPIRES>:<TAG>

``KID`` 1-8 of ``A-Z0-9``; ``SITE`` 1-16 of ``A-Z0-9-``; ``TICKET`` exactly 10 digits;
``EXPIRES`` UTC ``YYYYMMDDHHMM``; ``TAG`` the first 16 characters of the unpadded RFC 4648 base32
of HMAC-SHA256(key ``KID``, ``RK1:<KID>:<SITE>:<TICKET>:<EXPIRES>``). A ticket is valid while the
time is not after ``EXPIRES``.

Short code (typed at a cashier): the 10 ticket digits and two check digits ``97 - TICKET mod 97``
(so 01 to 97), grouped ``XXX-XXXX-XXX-XX``. It proves nothing by itself: it is looked up in the
database of issued tickets.

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
_SHORT = re.compile(r"[0-9]{12}")


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


def check_digits(ticket_number: int) -> str:
    """The two check digits of a ticket number: ``97 - n mod 97``, 01 to 97."""
    if not 0 <= ticket_number <= MAX_TICKET:
        raise ValueError("a ticket number has at most 10 digits")
    return f"{97 - ticket_number % 97:02d}"


def short_code(ticket_number: int) -> str:
    """The code for typing at a cashier: ``XXX-XXXX-XXX-XX`` (ticket digits + check digits)."""
    digits = f"{ticket_number:010d}{check_digits(ticket_number)}"
    return f"{digits[0:3]}-{digits[3:7]}-{digits[7:10]}-{digits[10:12]}"


def parse_short_code(text: str) -> int:
    """The ticket number of a short code typed with or without its dashes and spaces."""
    digits = text.replace("-", "").replace(" ", "")
    if not _SHORT.fullmatch(digits):
        raise MalformedCode("a short code is 12 digits")
    number = int(digits[:TICKET_DIGITS])
    if digits[TICKET_DIGITS:] != check_digits(number):
        raise MalformedCode("the check digits do not match (a typing error?)")
    return number


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
