"""A believable centre for demos, tests and benchmarks, built from the programme files.

Every patient gets a plan made from their programme's phases (timetable slots, weekly maximum,
required sessions) and a place on it relative to today: just started, in the pre-programme, early,
mid-way with two absences, near the end, stopped after three absences, or finished. Past sessions
are attended (or missed), today's and the coming weeks' are booked. Deterministic for a seed.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session

from devices.eid.virtual_card import VirtualAddress, VirtualCard
from kiosk.core.clock import BRUSSELS
from kiosk.db.models import (
    Absence,
    Booking,
    BookingStatus,
    Cancellation,
    CheckIn,
    Enrolment,
    EnrolmentStatus,
    Patient,
    ProgrammeRow,
    SessionRow,
    Site,
)
from kiosk.db.types import new_id
from kiosk.domain.demo_patients import card_number, make_person, plan_sessions
from kiosk.domain.patients import nn_hash, public_name
from kiosk.domain.programme_rows import programme_rows
from kiosk.programme.model import Programme

STAGES = (
    ("starting", 0.10),
    ("pre", 0.12),
    ("early", 0.20),
    ("mid", 0.22),
    ("near_end", 0.16),
    ("stopped", 0.08),
    ("finished", 0.12),
)
ROOMS = ("Zaal 1", "Zaal 2", "Oefenzaal")
DEFAULT_SITES = (
    ("GENK", "Campus Genk"),
    ("HASSELT", "Campus Hasselt"),
    ("LEUVEN", "Campus Leuven"),
)


@dataclass(frozen=True)
class DemoPatient:
    """What the demo knows of a patient; enough to make the virtual e-ID card."""

    patient_id: str
    national_number: str
    first_names: str
    last_name: str
    birth_date: dt.date
    sex: str
    site_id: str
    programme_code: str
    stage: str
    card_number: str
    document_type: str


@dataclass
class DemoSummary:
    """What was generated."""

    patients: list[DemoPatient] = field(default_factory=list)
    sessions: int = 0
    bookings: int = 0
    checkins: int = 0
    absences: int = 0


@dataclass
class _Rows:
    """The rows of the centre, in the order they are inserted."""

    patients: list[dict[str, object]] = field(default_factory=list)
    enrolments: list[dict[str, object]] = field(default_factory=list)
    sessions: list[dict[str, object]] = field(default_factory=list)
    bookings: list[dict[str, object]] = field(default_factory=list)
    checkins: list[dict[str, object]] = field(default_factory=list)
    absences: list[dict[str, object]] = field(default_factory=list)
    cancellations: list[dict[str, object]] = field(default_factory=list)
    shared: dict[tuple[str, str, dt.datetime], str] = field(default_factory=dict)
    """Group sessions already made, by (site, kind, start): patients share them."""


@dataclass(frozen=True)
class _Run:
    """What every step of one generation shares. Every random choice comes from ``rng``, in a
    fixed order: that is what makes a seed give the same centre."""

    rng: random.Random
    now: dt.datetime
    today: dt.date
    horizon: dt.datetime
    """Sessions are booked up to here."""
    lookup_key: bytes
    kiosk_id: str


@dataclass(frozen=True)
class _Enrolled:
    """One patient's enrolment, as the rows of their sessions refer to it."""

    patient_id: str
    enrolment_id: str
    site_id: str
    programme: Programme
    card_number: str


@dataclass(frozen=True)
class _Place:
    """Where a patient stands on their plan: which sessions lie in the past, which were missed."""

    plan: list[tuple[str, dt.datetime]]
    shift: dt.timedelta
    """How far the plan (made from today) is moved back so that its past sessions lie behind."""
    missed_at: frozenset[int]
    """The positions in the plan of the unexcused absences."""
    status: EnrolmentStatus


def _session_id(
    rows: _Rows,
    site: str,
    programme: str,
    kind: str,
    start: dt.datetime,
    minutes: int,
    shared: bool,
    rng: random.Random,
) -> str:
    key = (site, kind, start)
    if shared and key in rows.shared:
        return rows.shared[key]
    session_id = new_id()
    rows.sessions.append(
        {
            "id": session_id,
            "site_id": site,
            "programme_code": programme,
            "kind": kind,
            "starts_at": start.astimezone(dt.UTC),
            "ends_at": (start + dt.timedelta(minutes=minutes)).astimezone(dt.UTC),
            "room": rng.choice(ROOMS) if shared else f"Kabinet {rng.randint(1, 6)}",
        }
    )
    if shared:
        rows.shared[key] = session_id
    return session_id


def generate(
    db: Session,
    programmes: Mapping[str, Programme],
    *,
    lookup_key: bytes,
    now: dt.datetime,
    patients: int = 200,
    sites: Sequence[tuple[str, str]] = DEFAULT_SITES[:1],
    kiosk_id: str = "DEMO",
    future_weeks: int = 3,
    seed: int = 7,
) -> DemoSummary:
    """Fill ``db`` (already migrated, empty) with a centre; the caller commits."""
    today = now.astimezone(BRUSSELS).date()
    run = _Run(
        rng=random.Random(seed),
        now=now,
        today=today,
        horizon=now + dt.timedelta(weeks=future_weeks),
        lookup_key=lookup_key,
        kiosk_id=kiosk_id,
    )
    _add_sites_and_programmes(db, sites, programmes)
    codes = sorted(programmes)
    weights = [3 if programmes[c].once_in_a_lifetime else 1 for c in codes]
    summary = DemoSummary()
    rows = _Rows()
    for index in range(patients):
        programme = programmes[run.rng.choices(codes, weights)[0]]
        summary.patients.append(
            _patient(run, rows, index, site_id=sites[index % len(sites)][0], programme=programme)
        )
    _insert(db, rows)
    summary.sessions = len(rows.sessions)
    summary.bookings = len(rows.bookings)
    summary.checkins = len(rows.checkins)
    summary.absences = len(rows.absences)
    return summary


def _add_sites_and_programmes(
    db: Session, sites: Sequence[tuple[str, str]], programmes: Mapping[str, Programme]
) -> None:
    for site_id, name in sites:
        db.add(Site(id=site_id, name=name))
    for row in programme_rows(programmes):
        # Merged: `kiosk central init` has already stored the programme files on a centre.
        db.merge(ProgrammeRow(**row))
    db.flush()


def _patient(
    run: _Run, rows: _Rows, index: int, *, site_id: str, programme: Programme
) -> DemoPatient:
    """One patient: their person, enrolment, place on the plan and sessions."""
    stage = run.rng.choices([s for s, _ in STAGES], [w for _, w in STAGES])[0]
    nn, first, last, birth, sex = make_person(run.rng, index, run.today)
    who = _Enrolled(new_id(), new_id(), site_id, programme, card_number(index))
    place = _place(run, programme, stage)
    rows.patients.append(
        {
            "id": who.patient_id,
            "nn_hash": nn_hash(run.lookup_key, nn),
            "national_number": nn,
            "first_name": first,
            "last_name": last,
            "birth_date": birth,
            "site_id": site_id,
        }
    )
    stopped = place.status == EnrolmentStatus.STOPPED
    rows.enrolments.append(
        {
            "id": who.enrolment_id,
            "patient_id": who.patient_id,
            "programme_code": programme.code,
            "site_id": site_id,
            "status": place.status,
            "started_on": place.plan[0][1].date() - place.shift,
            "stopped_at": run.now - dt.timedelta(days=3) if stopped else None,
            "stop_reason": "3 unexcused absences" if stopped else "",
            # The team said go at every gate (a demo patient follows the whole trajectory).
            "decisions": ",".join(f"{p.key}:go" for p in programme.phases if p.gate_after),
        }
    )
    _follow(run, rows, who, place)
    return DemoPatient(
        patient_id=who.patient_id,
        national_number=nn,
        first_names=first,
        last_name=last,
        birth_date=birth,
        sex=sex,
        site_id=site_id,
        programme_code=programme.code,
        stage=stage,
        card_number=who.card_number,
        document_type=run.rng.choice(("1",) * 9 + ("11",)),
    )


def _place(run: _Run, programme: Programme, stage: str) -> _Place:
    """The plan of a patient at ``stage``, moved back by whole weeks to put them there."""
    plan = list(plan_sessions(programme, run.today, run.rng))
    reached = {
        "starting": 0,
        "pre": 3,
        "early": 12,
        "mid": len(plan) // 2,
        "near_end": len(plan) - 4,
        "stopped": len(plan) // 3,
        "finished": len(plan),
    }[stage]
    if stage != "finished":
        reached = min(reached + run.rng.randint(0, 2), len(plan))
    misses = {"mid": 2, "stopped": programme.unexcused_absence_limit or 0}.get(stage, 0)
    # Shift the plan back by whole weeks so that `reached` sessions lie in the past.
    anchor = plan[reached][1] if reached < len(plan) else plan[-1][1] + dt.timedelta(days=7)
    weeks_back = (anchor.date() - run.today).days // 7
    missed_at = (
        frozenset(run.rng.sample(range(2, max(reached, misses + 3)), k=misses))
        if misses
        else frozenset()
    )
    status = {"stopped": EnrolmentStatus.STOPPED, "finished": EnrolmentStatus.FINISHED}.get(
        stage, EnrolmentStatus.ACTIVE
    )
    return _Place(plan, dt.timedelta(weeks=weeks_back), missed_at, status)


def _follow(run: _Run, rows: _Rows, who: _Enrolled, place: _Place) -> None:
    """Book the patient's sessions up to the horizon (a programme that ended: up to now) and
    give each one that is over its absence, cancellation or check-in."""
    for position, (kind, planned) in enumerate(place.plan):
        start = planned - place.shift
        if start > run.horizon or (place.status != EnrolmentStatus.ACTIVE and start > run.now):
            break
        minutes = who.programme.kind(kind).minutes
        shared = kind in who.programme.timetable
        booking: dict[str, object] = {
            "id": new_id(),
            "session_id": _session_id(
                rows, who.site_id, who.programme.code, kind, start, minutes, shared, run.rng
            ),
            "enrolment_id": who.enrolment_id,
            "patient_id": who.patient_id,
            "status": BookingStatus.BOOKED,
        }
        rows.bookings.append(booking)
        end_of = start + dt.timedelta(minutes=minutes)
        if end_of > run.now:
            continue
        if position in place.missed_at:
            rows.absences.append(
                {
                    "id": new_id(),
                    "booking_id": booking["id"],
                    "enrolment_id": who.enrolment_id,
                    "recorded_at": end_of.astimezone(dt.UTC),
                    "excused": False,
                    "reason": "",
                }
            )
        else:
            _cancel_or_attend(run, rows, who, booking, start)


def _cancel_or_attend(
    run: _Run, rows: _Rows, who: _Enrolled, booking: dict[str, object], start: dt.datetime
) -> None:
    """A past session: now and then cancelled two days ahead, else attended (a few late)."""
    if run.rng.random() < 0.02:
        booking["status"] = BookingStatus.CANCELLED
        rows.cancellations.append(
            {
                "id": new_id(),
                "booking_id": booking["id"],
                "cancelled_at": (start - dt.timedelta(days=2)).astimezone(dt.UTC),
                "notice_minutes": 2 * 24 * 60,
                "fee_cents": 0,
                "reason": "ill",
            }
        )
        return
    late = run.rng.random() < 0.08
    arrived = start + dt.timedelta(
        minutes=run.rng.randint(1, 12) if late else -run.rng.randint(3, 30)
    )
    rows.checkins.append(
        {
            "id": new_id(),
            "booking_id": booking["id"],
            "patient_id": who.patient_id,
            "kiosk_id": run.kiosk_id,
            "checked_in_at": arrived.astimezone(dt.UTC),
            "late": late,
            "identity_method": "chip",
            "card_number": who.card_number,
            "document_type": "1",
            "identity_note": "",
        }
    )


def _insert(db: Session, rows: _Rows) -> None:
    """Insert the rows in batches, parents before children."""
    for model, batch in (
        (Patient, rows.patients),
        (Enrolment, rows.enrolments),
        (SessionRow, rows.sessions),
        (Booking, rows.bookings),
        (CheckIn, rows.checkins),
        (Absence, rows.absences),
        (Cancellation, rows.cancellations),
    ):
        for chunk in range(0, len(batch), 5000):
            db.execute(insert(model), batch[chunk : chunk + 5000])


CARD_LANGUAGES = ("nl", "nl", "nl", "fr", "de")


def write_cards(patients: Iterable[DemoPatient], directory: Path) -> Path:
    """Write a virtual e-ID card per patient, and ``index.json`` for the simulation panel.

    File names carry a running number only; the index gives each card a label with the first
    name and initial (what the public screen may show), the patient's stage and record id (so the
    simulation panel can pick a patient who is booked at the time it jumps to).
    """
    directory.mkdir(parents=True, exist_ok=True)
    index = []
    for number, patient in enumerate(patients, start=1):
        name = f"card-{number:04d}.json"
        VirtualCard(
            national_number=patient.national_number,
            last_name=patient.last_name,
            first_names=patient.first_names,
            birth_date=patient.birth_date.isoformat(),
            sex=patient.sex,
            card_number=patient.card_number,
            document_type=patient.document_type,
            nationality="Belg" if patient.document_type == "1" else "Marokkaan",
            address=VirtualAddress("Stalenstraat 2", "3600", "Genk"),
            language=CARD_LANGUAGES[number % len(CARD_LANGUAGES)],
        ).save(directory / name)
        index.append(
            {
                "file": name,
                "label": public_name(patient.first_names, patient.last_name),
                "programme": patient.programme_code,
                "stage": patient.stage,
                "patient_id": patient.patient_id,
            }
        )
    path = directory / "index.json"
    path.write_text(json.dumps(index, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path
