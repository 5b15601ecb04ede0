"""The parts event declarations (:mod:`kiosk.domain.events`) are made of: the payload base
class, the checks the centre makes before taking an event, and the row changes it makes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import Table

from kiosk.core.config_schema import MAX_MINUTES


class Payload(msgspec.Struct, frozen=True, kw_only=True):
    """An event's payload: ids and values only, never a national number or a name."""

    def wire(self) -> dict[str, object]:
        """The payload as the outbox stores it (JSON values, instants in ISO form)."""
        return {
            name: value.isoformat() if isinstance(value, dt.datetime) else value
            for name, value in msgspec.structs.asdict(self).items()
        }


# What the centre checks. A reason may name the pushing kiosk's site as {site}.
@dataclass(frozen=True)
class AtSite:
    """The row ``field`` names (a booking, patient or enrolment) exists at the pushing kiosk's
    site; an empty or absent optional field passes."""

    field: str
    what: str

    @property
    def reason(self) -> str:
        """Why an event failing this check is refused."""
        return f"unknown {self.what} for site {{site}}"


@dataclass(frozen=True)
class OfBooking:
    """``field`` holds the same value as the column of that name of the booking ``booking_id``
    names (a check-in for the booking's own patient, an absence of its own enrolment)."""

    field: str
    what: str

    @property
    def reason(self) -> str:
        """Why an event failing this check is refused."""
        return f"the booking is another {self.what}'s"


@dataclass(frozen=True)
class OwnSite:
    """``field`` is the pushing kiosk's site."""

    field: str
    what: str

    @property
    def reason(self) -> str:
        """Why an event failing this check is refused."""
        return f"the {self.what} is for another site"


@dataclass(frozen=True)
class OwnKiosk:
    """``field`` is the pushing kiosk's id (the role's, on PostgreSQL)."""

    field: str
    what: str

    @property
    def reason(self) -> str:
        """Why an event failing this check is refused."""
        return f"the {self.what} is for another kiosk"


TICKET_NUMBER_TAKEN = "the ticket number is taken at this site (two kiosks with one kiosk_number?)"


@dataclass(frozen=True)
class TicketNumberFree:
    """No other ticket of the site has this ticket's number (two kiosks with one number)."""

    reason: str = TICKET_NUMBER_TAKEN


@dataclass(frozen=True)
class TicketCodeMatches:
    """The ticket's code (its ``payload``) is the RK1 code of this very ticket: its key id,
    site, ten-digit number and expiry to the minute, then a 16-character tag (which only a
    holder of the key can check)."""

    reason: str = "the parking code does not match the ticket"


# The longest grace a kiosk's configuration allows after a session's end ([parking]
# grace_minutes): the centre does not know each kiosk's own.
MAX_GRACE_MINUTES = MAX_MINUTES


@dataclass(frozen=True)
class TicketExpiryFits:
    """The ticket expires no later than the end of its booking's session plus the longest grace
    a kiosk may be configured with (:data:`MAX_GRACE_MINUTES`)."""

    grace_minutes: int = MAX_GRACE_MINUTES
    reason: str = "the ticket expires too long after its session"


Check = (
    AtSite
    | OfBooking
    | OwnSite
    | OwnKiosk
    | TicketNumberFree
    | TicketCodeMatches
    | TicketExpiryFits
)


# What the centre changes: values are a payload field (:class:`Field`), the pushing kiosk's site
# (:data:`SITE`) or a constant.
@dataclass(frozen=True)
class Field:
    """The value of a payload field."""

    name: str


SITE = "\x00site"
Value = Field | str | bool | None


@dataclass(frozen=True)
class Insert:
    """A new row of the payload's fields that are the table's columns. Already there (the
    table's own key per booking, else its id): left as it is, or with ``refresh``'s columns set
    to the payload's."""

    table: Table
    refresh: tuple[str, ...] = ()


@dataclass(frozen=True)
class Update:
    """Set ``values`` on the rows matching ``where`` (a state the row must be in included)."""

    table: Table
    where: Mapping[str, Value]
    values: Mapping[str, Value]


@dataclass(frozen=True)
class Delete:
    """Delete the rows matching ``where``."""

    table: Table
    where: Mapping[str, Value]


Effect = Insert | Update | Delete


@dataclass(frozen=True)
class Kind:
    """One event kind: its name on the wire, payload type, checks (the first failing one gives
    the refusal) and effects at the centre (in order)."""

    name: str
    payload: type[Payload]
    checks: tuple[Check, ...]
    effects: tuple[Effect, ...]

    @property
    def commutes(self) -> bool:
        """Plain inserts of new rows: their order within a batch does not matter."""
        only = self.effects[0] if len(self.effects) == 1 else None
        return isinstance(only, Insert) and not only.refresh


def table_of(model: Any) -> Table:
    """A model's table."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
