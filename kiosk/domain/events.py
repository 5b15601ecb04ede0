"""One declaration per outbox event kind: its payload, what the centre checks, what it changes.

Each kind is a typed payload (a frozen ``msgspec.Struct``, so mypy catches a field renamed between
the code that emits it and the centre that decodes it) and one :class:`Kind` in :data:`KINDS`
saying which checks the centre makes before taking it and which rows it changes there (the parts
are in :mod:`kiosk.domain.event_parts`). The centre applies the row changes the kiosk's domain
made, as declared here; it decides nothing of its own: ``sync/`` derives from these declarations
its decoding in Python and SQL, its refusals, its apply order, what a pull must leave alone and
the kiosk role's grants, and names no kind.

**Adding a kind** is one change in this module: a payload class and a :class:`Kind` in
:data:`KINDS` (its name, checks and effects), then ``emit(db, ThePayload(...), now)`` where the
domain makes the change. Payload fields are ``str`` (required), ``str = ""``,
``str | None = None``, ``dt.datetime``, ``dt.datetime | None = None``, ``bool = False``, ``int``
(or ``int = 0``) or ``dict[str, object]``; the wire form is JSON with instants as
``datetime.isoformat`` writes them. A kind whose only effect is a plain :class:`Insert` commutes
and is decoded in SQL on a PostgreSQL centre. A payload's fields only grow (a new one with a
default): kiosks queue events for days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import msgspec

from kiosk.db.models import (
    Absence,
    Alert,
    AuditEntry,
    Booking,
    BookingStatus,
    Cancellation,
    CheckIn,
    Enrolment,
    EnrolmentStatus,
    ParkingTicket,
)
from kiosk.domain.event_parts import (
    SITE,
    TICKET_NUMBER_TAKEN,
    AtSite,
    Delete,
    Field,
    Insert,
    Kind,
    OfBooking,
    OwnKiosk,
    OwnSite,
    Payload,
    TicketCodeMatches,
    TicketExpiryFits,
    TicketNumberFree,
    Update,
)
from kiosk.domain.event_parts import table_of as _t

__all__ = ["TICKET_NUMBER_TAKEN", "Payload"]


class CheckinPayload(Payload, frozen=True, kw_only=True):
    """A check-in (the kiosk's, or reception's correction)."""

    id: str
    booking_id: str
    patient_id: str
    site_id: str
    kiosk_id: str
    checked_in_at: dt.datetime
    late: bool = False
    identity_method: str
    card_number: str = ""
    document_type: str = ""
    identity_note: str = ""


class CheckinUndonePayload(Payload, frozen=True, kw_only=True):
    """Reception took a check-in back."""

    id: str
    booking_id: str
    at: dt.datetime | None = None


class AbsencePayload(Payload, frozen=True, kw_only=True):
    """An absence recorded, excused, or counted again."""

    id: str
    booking_id: str
    enrolment_id: str
    recorded_at: dt.datetime
    excused: bool = False
    reason: str = ""


class AbsenceWithdrawnPayload(Payload, frozen=True, kw_only=True):
    """An absence that no longer stands (a late check-in, or the patient was there)."""

    id: str
    booking_id: str
    at: dt.datetime | None = None


class CancellationPayload(Payload, frozen=True, kw_only=True):
    """A cancellation, with the notice and the fee the domain computed."""

    id: str
    booking_id: str
    cancelled_at: dt.datetime
    notice_minutes: int
    fee_cents: int = 0
    reason: str = ""


class CancellationUndonePayload(Payload, frozen=True, kw_only=True):
    """A cancellation taken back: the booking is booked again."""

    id: str
    booking_id: str
    at: dt.datetime | None = None
    reason: str = ""


class EnrolmentStoppedPayload(Payload, frozen=True, kw_only=True):
    """An enrolment stopped (by its absences): when and why."""

    id: str
    at: dt.datetime
    reason: str = ""


class EnrolmentResumedPayload(Payload, frozen=True, kw_only=True):
    """A stopped enrolment resumed: when and why."""

    id: str
    at: dt.datetime
    reason: str = ""


class EnrolmentDecidedPayload(Payload, frozen=True, kw_only=True):
    """The team's decisions at the enrolment's gates (``pre:go``...), as the kiosk now has them;
    an alternative plan is followed by an ``enrolment_stopped``."""

    id: str
    at: dt.datetime
    decisions: str = ""


class EnrolmentFinishedPayload(Payload, frozen=True, kw_only=True):
    """An enrolment had its last counted session."""

    id: str
    at: dt.datetime


class ParkingTicketPayload(Payload, frozen=True, kw_only=True):
    """A parking ticket issued."""

    id: str
    site_id: str
    ticket_number: int
    booking_id: str
    key_id: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    payload: str
    printed_at: dt.datetime | None = None
    print_error: str = ""


class TicketPrintedPayload(Payload, frozen=True, kw_only=True):
    """What printing a ticket did: printed, or the fault."""

    id: str
    printed_at: dt.datetime | None = None
    print_error: str = ""


class AlertPayload(Payload, frozen=True, kw_only=True):
    """An alert raised for reception."""

    id: str
    raised_at: dt.datetime
    kind: str
    site_id: str
    patient_id: str | None = None
    enrolment_id: str | None = None
    message: str


class AlertSeenPayload(Payload, frozen=True, kw_only=True):
    """Reception read an alert."""

    id: str
    at: dt.datetime
    actor: str


class AlertResolvedPayload(Payload, frozen=True, kw_only=True):
    """An alert closed: who and how."""

    id: str
    at: dt.datetime
    actor: str
    resolution: str = ""


class AuditPayload(Payload, frozen=True, kw_only=True):
    """An audit entry (who did what)."""

    id: str
    at: dt.datetime
    kiosk_id: str
    actor: str
    action: str
    outcome: str = ""
    patient_id: str | None = None
    booking_id: str | None = None
    detail: dict[str, object] = msgspec.field(default_factory=dict)


_BOOKING = AtSite("booking_id", "booking")
_ID, _BOOKING_ID = Field("id"), Field("booking_id")
KINDS: tuple[Kind, ...] = (
    Kind(
        "checkin",
        CheckinPayload,
        (
            OwnSite("site_id", "check-in"),
            OwnKiosk("kiosk_id", "check-in"),
            _BOOKING,
            AtSite("patient_id", "patient"),
            OfBooking("patient_id", "patient"),
        ),
        (Insert(_t(CheckIn)),),
    ),
    Kind(
        "parking_ticket",
        ParkingTicketPayload,
        (
            OwnSite("site_id", "parking ticket"),
            _BOOKING,
            TicketNumberFree(),
            TicketCodeMatches(),
            TicketExpiryFits(),
        ),
        (Insert(_t(ParkingTicket)),),
    ),
    Kind(
        "audit",
        AuditPayload,
        (OwnKiosk("kiosk_id", "audit entry"),),
        (Insert(_t(AuditEntry)),),
    ),
    Kind(
        "alert",
        AlertPayload,
        (
            OwnSite("site_id", "alert"),
            AtSite("patient_id", "patient"),
            AtSite("enrolment_id", "enrolment"),
        ),
        (Insert(_t(Alert)),),
    ),
    Kind(
        "checkin_undone",
        CheckinUndonePayload,
        (_BOOKING,),
        (Delete(_t(CheckIn), {"id": _ID, "booking_id": _BOOKING_ID}),),
    ),
    Kind(
        "absence",
        AbsencePayload,
        (_BOOKING, AtSite("enrolment_id", "enrolment"), OfBooking("enrolment_id", "enrolment")),
        (Insert(_t(Absence), refresh=("excused", "reason")),),
    ),
    Kind(
        "absence_withdrawn",
        AbsenceWithdrawnPayload,
        (_BOOKING,),
        (Delete(_t(Absence), {"booking_id": _BOOKING_ID}),),
    ),
    Kind(
        "cancellation",
        CancellationPayload,
        (_BOOKING,),
        # The domain cancels the booking and drops its absence (kiosk/domain/attendance.py).
        (
            Insert(_t(Cancellation)),
            Update(_t(Booking), {"id": _BOOKING_ID}, {"status": BookingStatus.CANCELLED}),
            Delete(_t(Absence), {"booking_id": _BOOKING_ID}),
        ),
    ),
    Kind(
        "cancellation_undone",
        CancellationUndonePayload,
        (_BOOKING,),
        (
            Delete(_t(Cancellation), {"id": _ID}),
            Update(
                _t(Booking),
                {"id": _BOOKING_ID, "status": BookingStatus.CANCELLED},
                {"status": BookingStatus.BOOKED},
            ),
        ),
    ),
    Kind(
        "enrolment_stopped",
        EnrolmentStoppedPayload,
        (AtSite("id", "enrolment"),),
        (
            Update(
                _t(Enrolment),
                {"id": _ID, "status": EnrolmentStatus.ACTIVE},
                {
                    "status": EnrolmentStatus.STOPPED,
                    "stopped_at": Field("at"),
                    "stop_reason": Field("reason"),
                },
            ),
        ),
    ),
    Kind(
        "enrolment_resumed",
        EnrolmentResumedPayload,
        (AtSite("id", "enrolment"),),
        (
            Update(
                _t(Enrolment),
                {"id": _ID, "status": EnrolmentStatus.STOPPED},
                {"status": EnrolmentStatus.ACTIVE, "stopped_at": None, "stop_reason": ""},
            ),
        ),
    ),
    Kind(
        "enrolment_decided",
        EnrolmentDecidedPayload,
        (AtSite("id", "enrolment"),),
        (Update(_t(Enrolment), {"id": _ID}, {"decisions": Field("decisions")}),),
    ),
    Kind(
        "enrolment_finished",
        EnrolmentFinishedPayload,
        (AtSite("id", "enrolment"),),
        (
            Update(
                _t(Enrolment),
                {"id": _ID, "status": EnrolmentStatus.ACTIVE},
                {"status": EnrolmentStatus.FINISHED},
            ),
        ),
    ),
    Kind(
        "ticket_printed",
        TicketPrintedPayload,
        (),
        # The ticket may be in the same batch: scoped to the site rather than checked.
        (
            Update(
                _t(ParkingTicket),
                {"id": _ID, "site_id": SITE},
                {"printed_at": Field("printed_at"), "print_error": Field("print_error")},
            ),
        ),
    ),
    Kind(
        "alert_seen",
        AlertSeenPayload,
        (),
        (
            Update(
                _t(Alert), {"id": _ID, "site_id": SITE, "seen_at": None}, {"seen_at": Field("at")}
            ),
        ),
    ),
    Kind(
        "alert_resolved",
        AlertResolvedPayload,
        (),
        (
            Update(
                _t(Alert),
                {"id": _ID, "site_id": SITE, "resolved_at": None},
                {
                    "resolved_at": Field("at"),
                    "resolved_by": Field("actor"),
                    "resolution": Field("resolution"),
                },
            ),
        ),
    ),
)
BY_NAME: Mapping[str, Kind] = {k.name: k for k in KINDS}
BY_PAYLOAD: Mapping[type[Payload], Kind] = {k.payload: k for k in KINDS}
assert len(BY_NAME) == len(BY_PAYLOAD) == len(KINDS), "one payload type and one name per kind"
