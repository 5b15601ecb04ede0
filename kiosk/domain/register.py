"""The attendance register the insurer's rules ask for (nomenclature 558994 and the like).

One line per patient, programme and day: the start of the first and the end of the last
attended session, the code when at least one session that day qualifies, the place, and how the
identity was established. Which sessions qualify comes from the programme file's ``[billing]``
table: the session kinds, the minimum scheduled duration, and at most so many per period
(counted from the first qualifying session), so 558994 is never put on a consultation, a 60-minute
session or the 37th session.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, sessionmaker

from kiosk.core.clock import local, local_day_bounds
from kiosk.db.models import Booking, CheckIn, Enrolment, SessionRow, Site
from kiosk.domain import progress, trajectory
from kiosk.domain.unknown_schedule import unknown_reason
from kiosk.programme.model import Billing, Programme

COLUMNS = (
    "date",
    "national_number",
    "last_name",
    "first_name",
    "programme",
    "first_start",
    "last_end",
    "nomenclature_code",
    "billed_sessions",
    "sessions",
    "place",
    "identity_method",
    "card_number",
    "document_type",
)
"""The CSV header of ``kiosk register --csv``, one column per field of :meth:`RegisterLine.row`."""


@dataclass(frozen=True)
class AttendedSession:
    """One attended session of the day, with its place in its phase and whether it is billed."""

    kind: str
    phase: str
    number: int
    total: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    billed: bool
    identity_method: str
    card_number: str
    document_type: str

    @property
    def place_in_phase(self) -> str:
        """``group 12/36``: the phase and the session's number in it (``core1 ?`` for a kind the
        programme files no longer follow)."""
        if self.number == 0:
            return f"{self.phase} ?"
        of = f"/{self.total}" if self.total is not None else ""
        return f"{self.phase} {self.number}{of}"


@dataclass(frozen=True)
class RegisterLine:
    """What one patient attended of one programme on one day."""

    date: dt.date
    national_number: str
    """Empty on a kiosk (its replica holds no national number); the centre has it."""
    last_name: str
    first_name: str
    programme: str
    place: str
    code: str
    """The programme's code when at least one session qualifies, else empty."""
    sessions: tuple[AttendedSession, ...]

    @property
    def first_start(self) -> dt.datetime:
        """The start of the day's first attended session."""
        return self.sessions[0].starts_at

    @property
    def last_end(self) -> dt.datetime:
        """The end of the day's last attended session."""
        return max(s.ends_at for s in self.sessions)

    @property
    def billed_sessions(self) -> int:
        """How many of the day's sessions carry the code."""
        return sum(s.billed for s in self.sessions)

    def row(self) -> list[str]:
        """The line as CSV cells, in the order of :data:`COLUMNS`."""
        return [
            self.date.isoformat(),
            self.national_number,
            self.last_name,
            self.first_name,
            self.programme,
            local(self.first_start).isoformat(),
            local(self.last_end).isoformat(),
            self.code,
            str(self.billed_sessions),
            "; ".join(s.place_in_phase for s in self.sessions),
            self.place,
            _joined(s.identity_method for s in self.sessions),
            _joined(s.card_number for s in self.sessions),
            _joined(s.document_type for s in self.sessions),
        ]


def _joined(values: Iterable[str]) -> str:
    """The distinct non-empty values, in order (one card read twice is one card)."""
    return "+".join(dict.fromkeys(v for v in values if v))


_ATTENDED_SESSIONS = (
    select(Booking.enrolment_id, SessionRow.kind, SessionRow.starts_at, SessionRow.ends_at)
    .join(SessionRow, SessionRow.id == Booking.session_id)
    .join(CheckIn, CheckIn.booking_id == Booking.id)
    .order_by(SessionRow.starts_at)
)


def billed_starts(
    sessions: Iterable[tuple[str, dt.datetime, dt.datetime]], billing: Billing
) -> set[dt.datetime]:
    """The starts of the attended sessions ``(kind, start, end)`` of one enrolment that carry the
    code: of a billed kind, long enough, and within the cap counted from the first one."""
    billed: list[dt.datetime] = []
    for kind, starts_at, ends_at in sorted(sessions, key=lambda s: s[1]):
        if kind not in billing.kinds:
            continue
        if ends_at - starts_at < dt.timedelta(minutes=billing.minimum_minutes):
            continue
        if billing.at_most is not None and billing.per_months is not None:
            if len(billed) >= billing.at_most:
                break
            if billed and local(starts_at).date() >= trajectory.add_months(
                local(billed[0]).date(), billing.per_months
            ):
                break
        billed.append(starts_at)
    return set(billed)


def read_register(
    sessions: sessionmaker[Session],
    *,
    day: dt.date,
    site_id: str | None,
    programmes: Mapping[str, Programme],
) -> list[RegisterLine]:
    """:func:`register_for` in a session of its own (for the command line)."""
    with sessions() as db:
        return register_for(db, day=day, site_id=site_id, programmes=programmes)


def register_for(
    db: Session, *, day: dt.date, site_id: str | None, programmes: Mapping[str, Programme]
) -> list[RegisterLine]:
    """The register lines of ``day`` (every site when ``site_id`` is None), by first start."""
    start, end = local_day_bounds(day)
    query = (
        select(CheckIn)
        .join(Booking, Booking.id == CheckIn.booking_id)
        .join(SessionRow, SessionRow.id == Booking.session_id)
        .where(SessionRow.starts_at >= start, SessionRow.starts_at < end)
        .options(
            joinedload(CheckIn.booking).joinedload(Booking.session),
            joinedload(CheckIn.booking).joinedload(Booking.enrolment).joinedload(Enrolment.patient),
        )
        .order_by(SessionRow.starts_at)
    )
    if site_id is not None:
        query = query.where(SessionRow.site_id == site_id)
    checkins = db.scalars(query).unique().all()
    enrolment_ids = {c.booking.enrolment_id for c in checkins}
    attended = progress.attended_of(db, enrolment_ids)
    billed = _billed_of(db, enrolment_ids, checkins, programmes)
    by_day: dict[tuple[str, str], list[CheckIn]] = defaultdict(list)
    for checkin in checkins:
        by_day[(checkin.booking.enrolment_id, checkin.booking.session.site_id)].append(checkin)
    sites = {s.id: s.name for s in db.scalars(select(Site))}
    lines = [
        _line(day, group, programmes, attended, billed, sites.get(site, site))
        for (_enrolment, site), group in by_day.items()
    ]
    return sorted(lines, key=lambda line: (line.first_start, line.last_name, line.first_name))


def _billed_of(
    db: Session,
    enrolment_ids: set[str],
    checkins: Sequence[CheckIn],
    programmes: Mapping[str, Programme],
) -> dict[str, set[dt.datetime]]:
    """Per enrolment, the starts of its billed sessions (its whole history counts for the cap)."""
    codes = {c.booking.enrolment_id: c.booking.enrolment.programme_code for c in checkins}
    history: dict[str, list[tuple[str, dt.datetime, dt.datetime]]] = defaultdict(list)
    if enrolment_ids:
        rows = db.execute(_ATTENDED_SESSIONS.where(Booking.enrolment_id.in_(enrolment_ids)))
        for enrolment_id, kind, starts_at, ends_at in rows.tuples():
            history[enrolment_id].append((kind, starts_at, ends_at))
    billed: dict[str, set[dt.datetime]] = {}
    for enrolment_id in enrolment_ids:
        programme = programmes.get(codes[enrolment_id])
        billing = programme.billing if programme is not None else None
        billed[enrolment_id] = (
            billed_starts(history[enrolment_id], billing) if billing is not None else set()
        )
    return billed


def _line(
    day: dt.date,
    checkins: list[CheckIn],
    programmes: Mapping[str, Programme],
    attended: Mapping[str, list[tuple[str, dt.datetime, str]]],
    billed: Mapping[str, set[dt.datetime]],
    place: str,
) -> RegisterLine:
    enrolment = checkins[0].booking.enrolment
    programme = programmes.get(enrolment.programme_code)
    sessions = []
    for checkin in checkins:
        session = checkin.booking.session
        slot: tuple[str, int, int | None] = (session.kind, 0, None)
        if programme is not None and not unknown_reason(programmes, programme.code, session.kind):
            # An attendance the programme files no longer follow stays in the register, unbilled.
            phase = programme.phase_of(session.kind)
            number = progress.count_attended(attended[enrolment.id], phase, session.starts_at)
            slot = (phase.key, number + 1, phase.sessions)
        sessions.append(
            AttendedSession(
                kind=session.kind,
                phase=slot[0],
                number=slot[1],
                total=slot[2],
                starts_at=session.starts_at,
                ends_at=session.ends_at,
                billed=session.starts_at in billed[enrolment.id],
                identity_method=checkin.identity_method,
                card_number=checkin.card_number,
                document_type=checkin.document_type,
            )
        )
    patient = enrolment.patient
    any_billed = any(s.billed for s in sessions)
    return RegisterLine(
        date=day,
        national_number=patient.national_number or "",
        last_name=patient.last_name,
        first_name=patient.first_name,
        programme=enrolment.programme_code,
        place=place,
        code=programme.billing.code if programme and programme.billing and any_billed else "",
        sessions=tuple(sessions),
    )
