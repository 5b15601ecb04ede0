"""The trajectory rules on plain values: no database, the shipped programme files."""

from __future__ import annotations

import datetime as dt

from kiosk.core.clock import BRUSSELS
from kiosk.core.config import CheckinWindow
from kiosk.domain import trajectory
from kiosk.domain.checkin_window import first_start_after, window_of
from kiosk.programme import load_programmes

PROGRAMMES = load_programmes()
BACK = PROGRAMMES["rugrevalidatie"]
NECK = PROGRAMMES["back-and-neck"]
MONDAY = dt.date(2026, 3, 2)


def at(day: dt.date, hhmm: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), tzinfo=BRUSSELS)


def standing(**changes: object) -> trajectory.Standing:
    values: dict[str, object] = {
        "started_on": MONDAY,
        "finished": False,
        "passed_gates": frozenset({"pre", "consultation"}),
    }
    values.update(changes)
    return trajectory.Standing(**values)  # type: ignore[arg-type]


def test_the_window_is_one_function() -> None:
    window = CheckinWindow(opens_before_minutes=45, closes_after_minutes=20)
    start = at(MONDAY, "13:00")
    assert window_of(start, window) == (at(MONDAY, "12:15"), at(MONDAY, "13:20"))
    assert first_start_after(at(MONDAY, "12:15"), window) == start


def test_a_phase_begun_before_the_kiosk_kept_decisions_has_passed_its_gate() -> None:
    attended = [("group", at(MONDAY, "13:00"), "b1")]
    undecided = standing(passed_gates=frozenset())
    assert trajectory.refusal(BACK, "group", [], undecided, MONDAY) == "gate_pending"
    assert trajectory.refusal(BACK, "group", attended, undecided, MONDAY) is None
    # The consultations wait for no gate.
    assert trajectory.refusal(BACK, "consultation", [], undecided, MONDAY) is None


def test_a_time_limit_whose_anchor_has_not_happened_sets_none() -> None:
    advanced = NECK.phases[-1]
    assert trajectory.last_day(NECK, advanced, [], MONDAY) is None
    intake = [("intake", at(MONDAY, "10:00"), "b1")]
    assert trajectory.last_day(NECK, advanced, intake, MONDAY - dt.timedelta(days=90)) == (
        dt.date(2027, 3, 2)
    )


def test_the_week_and_the_timetable_are_for_reception() -> None:
    week = [("group", at(MONDAY, "13:00"), "b1"), ("group", at(MONDAY, "14:00"), "b2")]
    wednesday = at(MONDAY + dt.timedelta(days=2), "13:00")
    assert len(trajectory.for_reception(BACK, "group", wednesday, week, "b3")) == 1
    assert trajectory.for_reception(BACK, "info_psy", wednesday, week, "b3") == ()
    # A group session at 11:00 is outside the timetable (8:30, 10:00, 13:00, 14:00 on Mondays).
    (note,) = trajectory.for_reception(BACK, "group", at(MONDAY, "11:00"), [], "b1")
    assert "timetable" in note and "Mon 11:00" in note


def test_a_follow_up_is_announced_two_weeks_ahead_until_a_consultation_answers_it() -> None:
    intake = [("intake", at(MONDAY, "10:00"), "b1")]
    due_day = dt.date(2026, 6, 2)
    before = due_day - dt.timedelta(days=15)
    assert trajectory.follow_ups_due(NECK, intake, [], MONDAY, before) == []
    (due,) = trajectory.follow_ups_due(NECK, intake, [], MONDAY, due_day - dt.timedelta(days=14))
    assert (due[0].months, due[1]) == (3, due_day)
    booked = [("consultation", at(due_day, "09:00"))]
    assert trajectory.follow_ups_due(NECK, intake, booked, MONDAY, due_day) == []
