"""Whatever the sequence of taps, cancellations, excuses and day closings (in time order), a
booking ends up at most once checked in, never both attended and absent, and the unexcused
absences stop the programme exactly when they reach the limit."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from kiosk.core.clock import SettableClock
from kiosk.db.models import AuditEntry, Booking, Enrolment, ProgrammeRow, Site
from kiosk.domain.attendance import CAME_BUT_REFUSED, AttendanceError
from kiosk.domain.context import open_context
from kiosk.domain.progress import unexcused_absences
from tests.domain.conftest import MONDAY, Centre, local_time, settings_for

DAYS = [MONDAY + dt.timedelta(days=d) for d in (0, 1, 2, 7, 8)]
SLOTS = [(0, "13:00"), (0, "17:00"), (1, "13:00"), (2, "13:00"), (3, "13:00"), (4, "13:00")]

tap = st.tuples(st.just("tap"), st.integers(0, len(DAYS) - 1), st.integers(11 * 60, 18 * 60))
cancel = st.tuples(st.just("cancel"), st.integers(0, len(SLOTS) - 1), st.integers(-3, 60))
excuse = st.tuples(st.just("excuse"), st.integers(0, len(SLOTS) - 1), st.just(0))
close = st.tuples(st.just("close"), st.integers(0, len(DAYS) - 1), st.just(0))


def moment(op: tuple[str, int, int]) -> dt.datetime:
    kind, index, value = op
    if kind == "tap":
        return local_time(DAYS[index], "00:00") + dt.timedelta(minutes=value)
    if kind == "close":
        return local_time(DAYS[index], "20:00")
    day, hhmm = SLOTS[index]
    start = local_time(DAYS[day], hhmm)
    return start - dt.timedelta(hours=value) if kind == "cancel" else start + dt.timedelta(days=1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(tap, cancel, excuse, close), max_size=25))
def test_any_sequence_keeps_attendance_consistent(ops: list[tuple[str, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clock = SettableClock(local_time(MONDAY, "06:00"), running=False)
        context = open_context(settings_for(Path(tmp)), clock=clock, create=True)
        with context.sessions() as db, db.begin():
            db.add(Site(id="GENK", name="Genk"))
            db.add(ProgrammeRow(code="rugrevalidatie", name="Back"))
        centre = Centre(context, clock)
        nn, enrolment = centre.patient()
        bookings = [centre.book(enrolment, local_time(DAYS[d], t)) for d, t in SLOTS]
        attendance = context.attendance()
        closed: set[int] = set()
        for op in sorted(ops, key=moment):
            kind, index, _ = op
            clock.set(moment(op))
            if kind == "tap":
                centre.tap(nn, moment(op))
            elif kind == "close":
                attendance.close_day(DAYS[index])
                closed.add(index)
            else:
                try:
                    if kind == "cancel":
                        attendance.cancel(bookings[index])
                    else:
                        attendance.excuse(bookings[index], reason="ill")
                except AttendanceError:
                    pass  # not applicable in this state: must change nothing
        with context.sessions() as db:
            rows = {b.id: b for b in db.scalars(select(Booking))}
            for slot, booking_id in enumerate(bookings):
                b = rows[booking_id]
                states = [b.checkin is not None, b.absence is not None, b.cancellation is not None]
                assert sum(states) <= 1, states
                assert (b.status == "cancelled") == (b.cancellation is not None)
                came = db.scalar(
                    select(AuditEntry.id).where(
                        AuditEntry.booking_id == booking_id,
                        AuditEntry.outcome.in_(sorted(CAME_BUT_REFUSED)),
                    )
                )
                if SLOTS[slot][0] in closed and came is None:
                    assert sum(states) == 1, "a closed day leaves no booking unaccounted for"
                elif SLOTS[slot][0] in closed:
                    assert b.absence is None, "a patient refused at the kiosk is no no-show"
                elif b.absence is not None:
                    raise AssertionError("an absence on a day nobody closed")
            row = db.get(Enrolment, enrolment)
            assert row is not None
            if unexcused_absences(db, enrolment) >= 3:
                assert row.status == "stopped"
            if row.status == "stopped":
                assert row.stopped_at is not None
                late = [
                    b
                    for b in rows.values()
                    if b.checkin is not None and b.checkin.checked_in_at > row.stopped_at
                ]
                assert late == [], "no check-in after the programme stopped"
        context.close()
