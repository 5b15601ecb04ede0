"""Issue 15, rule by rule, on a centre built from an imported schedule (not the demo): the
commands a user runs (``kiosk central import``, ``kiosk sync``, ``kiosk checkin``, ``kiosk
enrolment decide``/``resume``, ``kiosk booking admit``, ``kiosk close-day``).

A trajectory spans up to a year, a kiosk's replica a fortnight of sessions: the schedule is
imported straight into the kiosk's own database (``central_url`` names it, as on a one-box
centre), so every session of the year is there. Every tap names its moment (``--at``): the
tests hold on any day and at any time of day. Long histories (34 group sessions) are checked in
by the same engine in this process.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from devices.eid.national_number import make
from kiosk.core import config
from kiosk.core.clock import BRUSSELS
from kiosk.domain.checkin import IdentityEvidence
from kiosk.domain.context import open_context
from kiosk.domain.trajectory import add_months
from kiosk.programme import load_programmes
from sync.importer import HEADER
from tests.commands import run_kiosk

PROGRAMMES = load_programmes()
TODAY = dt.datetime.now(BRUSSELS).date()
# A Monday well before today: every session of the schedule lies before today.
BASE = TODAY - dt.timedelta(days=TODAY.weekday(), weeks=60)
CONFIG = """site_id = "GENK"
kiosk_id = "GENK-1"
kiosk_number = 1
data_dir = "{data_dir}"
central_url = "sqlite:///{data_dir}/kiosk.sqlite"
[privacy]
lookup_key = "69c69a04aa33998ac1fd13aa12470bff93dc24bc55725903a008d65287224f32"
[parking]
signing_key = "K1"
[parking.keys]
K1 = "8340290cda99a7bb669e29b95d4a1c38db3074889b5098e0af9c387169e9c456"
"""


def at(day: dt.date, hhmm: str) -> dt.datetime:
    """Brussels local time."""
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), tzinfo=BRUSSELS)


def week(n: int, weekday: int = 0) -> dt.date:
    """The ``weekday`` of the ``n``-th week after :data:`BASE`."""
    return BASE + dt.timedelta(weeks=n, days=weekday)


@dataclass
class Person:
    """One patient of the schedule: their sessions (kind, local start) in one enrolment."""

    first_name: str
    programme: str = "rugrevalidatie"
    enrolment_start: dt.date = BASE
    sessions: list[tuple[str, dt.datetime]] = field(default_factory=list)
    number: int = 0

    @property
    def nn(self) -> str:
        return make(dt.date(1970, 1, 1) + dt.timedelta(days=self.number), 7 + self.number * 2)

    def book(self, kind: str, moment: dt.datetime) -> dt.datetime:
        self.sessions.append((kind, moment))
        return moment

    def rows(self) -> list[dict[str, str]]:
        programme = PROGRAMMES[self.programme]
        return [
            {
                "national_number": self.nn,
                "first_name": self.first_name,
                "last_name": "Janssens",
                "birth_date": (dt.date(1970, 1, 1) + dt.timedelta(days=self.number)).isoformat(),
                "site_id": "GENK",
                "programme": self.programme,
                "enrolment_start": self.enrolment_start.isoformat(),
                "kind": kind,
                "starts_at": start.isoformat(),
                "ends_at": (start + dt.timedelta(minutes=programme.kind(kind).minutes)).isoformat(),
                "room": "Zaal 1",
                "status": "booked",
            }
            for kind, start in self.sessions
        ]


class Centre:
    """A data directory with a central database filled from an export, and its kiosk."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir
        path = data_dir / "kiosk.toml"
        path.write_text(CONFIG.format(data_dir=data_dir), encoding="utf-8")
        path.chmod(0o600)
        self.people: list[Person] = []
        self.kiosk("central", "init")

    def person(self, first_name: str, programme: str = "rugrevalidatie", **kw: Any) -> Person:
        person = Person(first_name, programme, number=len(self.people) + 1, **kw)
        self.people.append(person)
        return person

    def kiosk(self, *args: str, code: int = 0) -> str:
        done = run_kiosk(self.dir, *args)
        assert done.returncode == code, done.stderr
        assert "Traceback" not in done.stderr
        return done.stdout if code == 0 else done.stderr

    def export(self, people: list[Person] | None = None) -> Path:
        out = io.StringIO()
        writer = csv.DictWriter(out, HEADER, lineterminator="\n")
        writer.writeheader()
        for person in people or self.people:
            writer.writerows(person.rows())
        path = self.dir / "export.csv"
        path.write_text(out.getvalue(), encoding="utf-8")
        return path

    def load(self) -> str:
        """Import the schedule; the import's output."""
        return self.kiosk("central", "import", str(self.export()))

    def tap(self, person: Person, moment: dt.datetime) -> dict[str, Any]:
        """``kiosk checkin`` ten minutes before ``moment``."""
        when = (moment - dt.timedelta(minutes=10)).replace(tzinfo=None).isoformat()
        done = run_kiosk(
            self.dir, "checkin", "--national-number", person.nn, "--at", when, "--json"
        )
        result: dict[str, Any] = json.loads(done.stdout)
        # Exit 0 when checked in, 1 for a refusal.
        assert done.returncode == (0 if "checked_in" in result["outcome"] else 1), done.stderr
        return result

    def attend(self, person: Person, moments: list[dt.datetime]) -> None:
        """Check in at each of ``moments`` by the engine in this process (long histories)."""
        context = open_context(config.load(self.dir / "kiosk.toml"))
        try:
            engine = context.checkin_engine()
            for moment in moments:
                result = engine.check_in(
                    IdentityEvidence(person.nn, method="command"),
                    at=(moment - dt.timedelta(minutes=10)).astimezone(dt.UTC),
                )
                assert result.outcome == "checked_in", (moment, result.outcome)
        finally:
            context.close()

    def query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.dir / "kiosk.sqlite") as db:
            return db.execute(sql, params).fetchall()

    def enrolment(self, person: Person) -> str:
        rows = self.query(
            "SELECT e.id FROM enrolments e JOIN patients p ON p.id = e.patient_id "
            "WHERE p.first_name = ? AND e.started_on = ?",
            person.first_name,
            person.enrolment_start.isoformat(),
        )
        assert len(rows) == 1
        return str(rows[0][0])

    def booking(self, person: Person, moment: dt.datetime) -> str:
        rows = self.query(
            "SELECT b.id FROM bookings b JOIN sessions s ON s.id = b.session_id "
            "JOIN patients p ON p.id = b.patient_id WHERE p.first_name = ? AND s.starts_at = ?",
            person.first_name,
            moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
        )
        assert len(rows) == 1, rows
        return str(rows[0][0])

    def alerts(self, person: Person) -> list[str]:
        rows = self.query(
            "SELECT a.kind FROM alerts a JOIN patients p ON p.id = a.patient_id "
            "WHERE p.first_name = ? ORDER BY a.raised_at",
            person.first_name,
        )
        return [str(r[0]) for r in rows]

    def events(self, kind: str) -> list[dict[str, Any]]:
        rows = self.query("SELECT payload FROM outbox WHERE kind = ? ORDER BY seq", kind)
        return [json.loads(r[0]) for r in rows]


def group_days(first_week: int, count: int) -> list[dt.datetime]:
    """``count`` group sessions, Monday and Wednesday 13:00, from ``first_week`` on."""
    return [at(week(first_week + i // 2, (i % 2) * 2), "13:00") for i in range(count)]


@pytest.fixture
def centre(tmp_path: Path) -> Centre:
    return Centre(tmp_path)


def pre_programme(person: Person, weeks_from: int = 0) -> list[dt.datetime]:
    """The first consultation, then six individual sessions (Tuesday and Thursday 10:00)."""
    person.book("consultation", at(week(weeks_from), "09:00"))
    return [
        person.book("individual", at(week(weeks_from + 1 + i // 2, 1 + (i % 2) * 2), "10:00"))
        for i in range(6)
    ]


# 1. No team decision --------------------------------------------------------------------------


def test_the_group_programme_waits_for_the_team_decision(centre: Centre) -> None:
    zoe = centre.person("Zoë")
    individual = pre_programme(zoe)
    seventh = zoe.book("individual", at(week(4, 1), "10:00"))
    groups = [zoe.book("group", moment) for moment in group_days(5, 2)]
    early_group = zoe.book("group", at(week(1, 4), "13:00"))
    centre.load()
    enrolment = centre.enrolment(zoe)
    assert centre.tap(zoe, at(week(0), "09:00"))["outcome"] == "checked_in"
    assert centre.tap(zoe, individual[0])["outcome"] == "checked_in"
    # After 1 of 6 individual sessions a group session is not yet for her.
    refused = centre.tap(zoe, early_group)
    assert refused["outcome"] == "gate_pending"
    centre.attend(zoe, individual[1:5])
    sixth = centre.tap(zoe, individual[5])
    assert sixth["progress"] == {"phase": "pre", "number": 6, "total": 6}
    assert "gate_pending" in [r["code"] for r in sixth["reminders"]]
    assert "decision_due" in centre.alerts(zoe)
    # A 7th individual session: the pre-programme is complete (not the programme).
    assert centre.tap(zoe, seventh)["outcome"] == "phase_complete"
    assert centre.tap(zoe, groups[0])["outcome"] == "gate_pending"

    bad = centre.kiosk("enrolment", "decide", enrolment, "--gate", "group", "--go",
                       "--reason", "x", code=2)  # fmt: skip
    assert bad == "kiosk: the programme has no gate 'group' (its gates: pre)\n"
    done = centre.kiosk(
        "enrolment", "decide", enrolment, "--gate", "pre", "--go", "--reason", "team meeting"
    )
    assert done == "team decision at pre: go\n"
    first = centre.tap(zoe, groups[0])
    assert first["outcome"] == "checked_in"
    assert first["progress"] == {"phase": "group", "number": 1, "total": 36}
    assert [s["title"] for s in first["specials"]] == ["Test moment 1"]
    (decided,) = centre.events("enrolment_decided")
    assert decided["decisions"] == "pre:go"
    assert centre.events("enrolment_stopped") == []
    audit = centre.query("SELECT actor, outcome, detail FROM audit WHERE action = 'decide'")
    assert [(a, o, json.loads(d)["reason"]) for a, o, d in audit] == [
        ("technician", "go", "team meeting")
    ]


def test_an_alternative_plan_stops_and_the_physician_may_resume(centre: Centre) -> None:
    jan = centre.person("Jan")
    individual = pre_programme(jan)
    group = jan.book("group", group_days(5, 1)[0])
    later = jan.book("group", group_days(6, 1)[0])
    centre.load()
    enrolment = centre.enrolment(jan)
    centre.attend(jan, individual)
    centre.kiosk(
        "enrolment", "decide", enrolment, "--gate", "pre", "--alternative",
        "--reason", "individual physiotherapy instead",
    )  # fmt: skip
    assert centre.tap(jan, group)["outcome"] == "programme_stopped"
    centre.kiosk(
        "enrolment", "resume", enrolment, "--reason", "Dr Peeters: start the group programme"
    )
    resumed = centre.events("enrolment_resumed")
    assert [e["reason"] for e in resumed] == ["Dr Peeters: start the group programme"]
    # Resumed, but the team's word at the gate is still the alternative plan.
    assert centre.tap(jan, later)["outcome"] == "gate_pending"
    centre.kiosk("enrolment", "decide", enrolment, "--gate", "pre", "--go", "--reason", "go")
    assert centre.tap(jan, later)["outcome"] == "checked_in"


def test_reception_can_admit_a_patient_the_gate_turned_away(centre: Centre) -> None:
    an = centre.person("An")
    individual = pre_programme(an)
    group = an.book("group", at(week(2, 0), "13:00"))
    centre.load()
    centre.attend(an, individual[:1])
    assert centre.tap(an, group)["outcome"] == "gate_pending"
    booking = centre.booking(an, group)
    centre.kiosk("booking", "admit", booking, "--reason", "decision taken by phone")
    notes = centre.query("SELECT identity_note FROM checkins WHERE booking_id = ?", booking)
    assert notes == [("admitted: decision taken by phone",)]


def decided(centre: Centre, person: Person) -> str:
    """The team said go after the pre-programme; the enrolment's id."""
    enrolment = centre.enrolment(person)
    centre.kiosk("enrolment", "decide", enrolment, "--gate", "pre", "--go", "--reason", "team")
    return enrolment


# 2. Information sessions, counting, test moments, 6. finishing ---------------------------------


def test_thirty_six_sessions_are_34_group_and_2_information_sessions(centre: Centre) -> None:
    lien = centre.person("Lien")
    groups = [lien.book("group", moment) for moment in group_days(1, 35)]
    info_ergo = lien.book("info_ergo", at(week(19, 1), "13:00"))
    info_psy = lien.book("info_psy", at(week(19, 3), "13:00"))
    after = lien.book("group", at(week(20, 0), "13:00"))
    consultation = lien.book("consultation", at(week(20, 2), "09:00"))
    centre.load()
    decided(centre, lien)
    centre.attend(lien, groups[:33])
    test_3 = centre.tap(lien, groups[33])
    assert test_3["progress"]["number"] == 34
    assert [(s["title"], s["followed_by"]) for s in test_3["specials"]] == [
        ("Test moment 3", "final consultation with the rehabilitation physician")
    ]
    # The 35th group session would take an information session's place.
    assert centre.tap(lien, groups[34])["outcome"] == "phase_complete"
    ergo = centre.tap(lien, info_ergo)
    assert ergo["outcome"] == "checked_in" and ergo["progress"]["number"] == 35
    assert [s["code"] for s in ergo["specials"]] == ["info_session"]
    last = centre.tap(lien, info_psy)
    assert last["progress"] == {"phase": "group", "number": 36, "total": 36}
    enrolment = centre.enrolment(lien)
    assert centre.query("SELECT status FROM enrolments WHERE id = ?", enrolment) == [("FINISHED",)]
    (finished,) = centre.events("enrolment_finished")
    assert finished["id"] == enrolment
    assert centre.tap(lien, after)["outcome"] == "programme_finished"
    # The final consultation after the programme is still welcome.
    assert centre.tap(lien, consultation)["outcome"] == "checked_in"


def test_an_information_session_is_never_crowded_out_by_the_week(centre: Centre) -> None:
    mia = centre.person("Mia")
    # Group on Monday and Tuesday, the psychologist's information session on Wednesday.
    groups = [mia.book("group", at(week(1, day), "13:00")) for day in (0, 1)]
    info = mia.book("info_psy", at(week(1, 2), "14:00"))
    groups += [mia.book("group", at(week(2, day), "13:00")) for day in (0, 1)]
    third = mia.book("group", at(week(2, 2), "13:00"))
    centre.load()
    decided(centre, mia)
    centre.attend(mia, groups[:2])
    assert centre.tap(mia, info)["outcome"] == "checked_in"
    assert centre.alerts(mia) == []
    # A third group session in a week: checked in, and reception judges it.
    centre.attend(mia, groups[2:])
    assert centre.tap(mia, third)["outcome"] == "checked_in"
    assert centre.alerts(mia) == ["check_booking"]


def test_test_moment_two_is_a_group_session_never_an_information_session(centre: Centre) -> None:
    noor = centre.person("Noor")
    groups = [noor.book("group", moment) for moment in group_days(1, 18)]
    info = noor.book("info_ergo", at(week(9, 4), "13:00"))
    centre.load()
    decided(centre, noor)
    centre.attend(noor, groups[:17])
    eighteenth = centre.tap(noor, info)
    assert eighteenth["progress"]["number"] == 18
    assert [s["code"] for s in eighteenth["specials"]] == ["info_session"]
    test_2 = centre.tap(noor, groups[17])
    assert [(s["title"], s["followed_by"]) for s in test_2["specials"]] == [
        ("Test moment 2", "interim consultation with the rehabilitation physician")
    ]


# 3. Once in a lifetime -------------------------------------------------------------------------


def test_a_second_back_rehabilitation_is_flagged(centre: Centre) -> None:
    first = centre.person("Tom")
    first.book("consultation", at(week(0), "09:00"))
    second = Person("Tom", enrolment_start=week(30), number=first.number)
    centre.people.append(second)
    again = second.book("consultation", at(week(30), "09:00"))
    imported = centre.load()
    assert "once in a lifetime" in imported
    centre.attend(first, [at(week(0), "09:00")])
    assert centre.tap(second, again)["outcome"] == "checked_in"
    assert centre.alerts(second) == ["once_in_a_lifetime"]


# 4. Back and neck: the year from the intake, follow-ups, timetable, no absence rule -----------


def test_back_and_neck_counts_its_year_from_the_intake(centre: Centre) -> None:
    eva = centre.person("Eva", "back-and-neck")
    eva.book("consultation", at(week(0), "09:00"))
    intake = eva.book("intake", at(week(12, 1), "10:00"))
    # Eleven months after the intake (fourteen after the first consultation): still welcome.
    eleven = eva.book("advanced", at(week(12 + 48, 2), "09:00"))
    past = eva.book("advanced", at(week(12 + 53, 2), "09:00"))
    monday = eva.book("advanced", at(week(12 + 47, 0), "16:00"))
    centre.load()
    enrolment = centre.enrolment(eva)
    centre.attend(eva, [at(week(0), "09:00"), intake])
    centre.kiosk(
        "enrolment", "decide", enrolment, "--gate", "consultation", "--go", "--reason", "meeting"
    )
    # A Monday 16:00 advanced session: checked in, reception alerted.
    assert centre.tap(eva, monday)["outcome"] == "checked_in"
    assert centre.alerts(eva) == ["check_booking"]
    assert centre.tap(eva, eleven)["outcome"] == "checked_in"
    assert centre.tap(eva, past)["outcome"] == "deadline_passed"


def test_back_and_neck_announces_the_follow_ups_and_never_stops_for_absences(
    centre: Centre,
) -> None:
    wim = centre.person("Wim", "back-and-neck")
    wim.book("consultation", at(week(0), "09:00"))
    intake = wim.book("intake", at(week(1, 1), "10:00"))
    classes = [wim.book("class", at(week(2 + i, 3), "10:00")) for i in range(5)]
    core = wim.book("core1", at(week(13, 0), "09:00"))
    centre.load()
    enrolment = centre.enrolment(wim)
    centre.attend(wim, [at(week(0), "09:00"), intake])
    centre.kiosk(
        "enrolment", "decide", enrolment, "--gate", "consultation", "--go", "--reason", "meeting"
    )
    # Three classes missed without a reason: the page names no absence rule.
    for moment in classes[:3]:
        centre.kiosk("close-day", "--date", moment.date().isoformat())
    assert centre.query("SELECT status FROM enrolments WHERE id = ?", enrolment) == [("ACTIVE",)]
    # Three months after the intake, with no consultation booked: the follow-up is announced.
    result = centre.tap(wim, core)
    assert result["outcome"] == "checked_in"
    due = [r for r in result["reminders"] if r["code"] == "follow_up_due"]
    assert [r["date"] for r in due] == [add_months(intake.date(), 3).isoformat()]
