"""The data model, the same on every kiosk's SQLite and on the central database.

Ids are UUID strings so that a kiosk can create rows while offline. Instants are UTC
(:class:`UTCDateTime`). The national register number is kept only where it is needed (the
centre and the demo database); lookups go through ``nn_hash``, a keyed hash of it.

Two models are named ``...Row``: :class:`SessionRow` (SQLAlchemy has its own ``Session``) and
:class:`ProgrammeRow` (the programme itself is :class:`kiosk.programme.Programme`, from its file).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from kiosk.db.types import UTCDateTime, new_id

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with stable constraint names (Alembic needs them on SQLite)."""

    metadata = MetaData(naming_convention=NAMING)


def _id() -> Mapped[str]:
    return mapped_column(String(36), primary_key=True, default=new_id)


def _change_seq() -> Mapped[int | None]:
    # Stamped by a database trigger (migration 0002) on every insert and update, in commit order;
    # kiosks pull what changed after the last value they saw. Never set by the application.
    return mapped_column(BigInteger, index=True)


class EnrolmentStatus(enum.StrEnum):
    """Where an enrolment stands."""

    ACTIVE = "active"
    STOPPED = "stopped"
    FINISHED = "finished"


class BookingStatus(enum.StrEnum):
    """A booking is either on or cancelled."""

    BOOKED = "booked"
    CANCELLED = "cancelled"


class Site(Base):
    """A place where sessions happen (a hospital campus)."""

    __tablename__ = "sites"
    change_seq: Mapped[int | None] = _change_seq()
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))


class Patient(Base):
    """A patient, known by a keyed hash of the national register number."""

    __tablename__ = "patients"
    change_seq: Mapped[int | None] = _change_seq()
    id: Mapped[str] = _id()
    nn_hash: Mapped[str] = mapped_column(String(64), unique=True)
    national_number: Mapped[str | None] = mapped_column(String(11))
    first_name: Mapped[str] = mapped_column(String(120))
    last_name: Mapped[str] = mapped_column(String(120), default="")
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    language: Mapped[str | None] = mapped_column(String(2))
    """The patient's language as the schedule gives it (one of the kiosk's), None when unknown."""

    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="patient")


class ProgrammeRow(Base):
    """A programme known to the database; its rules live in the programme's TOML file."""

    __tablename__ = "programmes"
    change_seq: Mapped[int | None] = _change_seq()
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Enrolment(Base):
    """A patient following a programme."""

    __tablename__ = "enrolments"
    change_seq: Mapped[int | None] = _change_seq()
    id: Mapped[str] = _id()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    programme_code: Mapped[str] = mapped_column(ForeignKey("programmes.code"))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    status: Mapped[EnrolmentStatus] = mapped_column(
        Enum(EnrolmentStatus, native_enum=False, length=16), default=EnrolmentStatus.ACTIVE
    )
    started_on: Mapped[dt.date] = mapped_column(Date)
    stopped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    stop_reason: Mapped[str] = mapped_column(String(200), default="")
    decisions: Mapped[str] = mapped_column(String(200), default="", server_default="")
    """The team's decisions at the programme's gates: ``GATE:go`` or ``GATE:alternative``,
    comma-separated (migration 0008)."""

    patient: Mapped[Patient] = relationship(back_populates="enrolments")
    bookings: Mapped[list[Booking]] = relationship(back_populates="enrolment")


class SessionRow(Base):
    """A bookable session: one slot of a kind, at a site, in a room."""

    __tablename__ = "sessions"
    change_seq: Mapped[int | None] = _change_seq()
    id: Mapped[str] = _id()
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    programme_code: Mapped[str] = mapped_column(ForeignKey("programmes.code"))
    kind: Mapped[str] = mapped_column(String(40))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    room: Mapped[str] = mapped_column(String(60), default="")

    __table_args__ = (Index("ix_sessions_site_start", "site_id", "starts_at"),)


class Booking(Base):
    """An enrolment booked on a session."""

    __tablename__ = "bookings"
    change_seq: Mapped[int | None] = _change_seq()
    id: Mapped[str] = _id()
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"))
    enrolment_id: Mapped[str] = mapped_column(ForeignKey("enrolments.id"), index=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    status: Mapped[BookingStatus] = mapped_column(
        Enum(BookingStatus, native_enum=False, length=16), default=BookingStatus.BOOKED
    )

    session: Mapped[SessionRow] = relationship()
    enrolment: Mapped[Enrolment] = relationship(back_populates="bookings")
    checkin: Mapped[CheckIn | None] = relationship(back_populates="booking", uselist=False)
    absence: Mapped[Absence | None] = relationship(back_populates="booking", uselist=False)
    cancellation: Mapped[Cancellation | None] = relationship(
        back_populates="booking", uselist=False
    )

    __table_args__ = (
        UniqueConstraint("session_id", "enrolment_id", name="uq_bookings_session_enrolment"),
        Index("ix_bookings_patient", "patient_id"),
    )


class CheckIn(Base):
    """Attendance: at most one per booking (the unique key is what makes a second tap harmless)."""

    __tablename__ = "checkins"
    change_seq: Mapped[int | None] = _change_seq()
    id: Mapped[str] = _id()
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id"), unique=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    kiosk_id: Mapped[str] = mapped_column(String(40))
    checked_in_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    # How the identity was established, kept for billing: "chip", "manual", "command".
    identity_method: Mapped[str] = mapped_column(String(20))
    card_number: Mapped[str] = mapped_column(String(20), default="")
    document_type: Mapped[str] = mapped_column(String(4), default="")
    identity_note: Mapped[str] = mapped_column(String(200), default="")

    booking: Mapped[Booking] = relationship(back_populates="checkin")


class Absence(Base):
    """A booked session nobody came to and nobody cancelled."""

    __tablename__ = "absences"
    change_seq: Mapped[int | None] = _change_seq()
    id: Mapped[str] = _id()
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id"), unique=True)
    enrolment_id: Mapped[str] = mapped_column(ForeignKey("enrolments.id"), index=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    excused: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(200), default="")

    booking: Mapped[Booking] = relationship(back_populates="absence")


class Cancellation(Base):
    """A booking called off; a late one carries the administration fee."""

    __tablename__ = "cancellations"
    change_seq: Mapped[int | None] = _change_seq()
    id: Mapped[str] = _id()
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id"), unique=True)
    cancelled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    notice_minutes: Mapped[int] = mapped_column(Integer)
    fee_cents: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(200), default="")

    booking: Mapped[Booking] = relationship(back_populates="cancellation")


class ParkingTicket(Base):
    """The free-exit ticket issued with a check-in; the ticket number is unique per site."""

    __tablename__ = "parking_tickets"
    change_seq: Mapped[int | None] = _change_seq()
    id: Mapped[str] = _id()
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    # Up to 99 * 10**8 + 10**8 - 1 (kiosk.domain.parking.issue): 64 bits, as SQLite's INTEGER is.
    ticket_number: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id"), unique=True)
    key_id: Mapped[str] = mapped_column(String(8))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    payload: Mapped[str] = mapped_column(String(120))
    printed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    print_error: Mapped[str] = mapped_column(String(200), default="")
    redeemed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("site_id", "ticket_number", name="uq_parking_tickets_site_number"),
    )


class Alert(Base):
    """Something reception must see (programme stopped, second absence, device fault)."""

    __tablename__ = "alerts"
    id: Mapped[str] = _id()
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    site_id: Mapped[str] = mapped_column(String(16))
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"))
    enrolment_id: Mapped[str | None] = mapped_column(ForeignKey("enrolments.id"))
    message: Mapped[str] = mapped_column(String(300))
    # The lifecycle: raised, seen by reception, resolved (by whom, and how), each an outbox event.
    seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str] = mapped_column(String(40), default="")
    resolution: Mapped[str] = mapped_column(String(200), default="")


class AuditEntry(Base):
    """Who did what when. Never the national register number or a name: ids only."""

    __tablename__ = "audit"
    id: Mapped[str] = _id()
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    kiosk_id: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(40), default="")
    patient_id: Mapped[str | None] = mapped_column(String(36))
    booking_id: Mapped[str | None] = mapped_column(String(36))
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class OutboxEvent(Base):
    """An event waiting to go to the central database (written in the same transaction)."""

    __tablename__ = "outbox"
    id: Mapped[str] = _id()
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    set_aside: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_outbox_pending", "sent_at", "set_aside", "seq"),)


REPLICATED = (
    "sites",
    "programmes",
    "patients",
    "enrolments",
    "sessions",
    "bookings",
    "checkins",
    "absences",
    "cancellations",
    "parking_tickets",
)
"""Tables with a ``change_seq``, parents before children (the order a replica applies them in)."""


class SyncCounter(Base):
    """The one-row counter behind ``change_seq`` on SQLite.

    Writers bump it inside their transaction and SQLite's database lock orders them: a change
    with a higher number never commits before one with a lower number, and a reader that saw
    number N has seen everything up to N. PostgreSQL hands numbers out from a sequence instead,
    announced until commit, without making writers wait for each other (migration 0004).
    """

    __tablename__ = "sync_counter"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class SyncDeletion(Base):
    """A tombstone written by a trigger when a replicated row is deleted (ids only)."""

    __tablename__ = "sync_deletions"
    change_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    table_name: Mapped[str] = mapped_column(String(40))
    row_id: Mapped[str] = mapped_column(String(40))


class CentralEvent(Base):
    """Every outbox event the centre received, once (the kiosk's event id is the key)."""

    __tablename__ = "sync_events"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(16), index=True)
    kiosk_id: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    schema_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    payload: Mapped[dict[str, object]] = mapped_column(JSON)


class SyncState(Base):
    """A kiosk's side of the exchange with one central database (the pull checkpoint and health)."""

    __tablename__ = "sync_state"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    checkpoint: Mapped[int] = mapped_column(BigInteger, default=0)
    window_from: Mapped[dt.date | None] = mapped_column(Date)
    window_to: Mapped[dt.date | None] = mapped_column(Date)
    last_pull_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_push_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    failures: Mapped[int] = mapped_column(Integer, default=0)
