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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session

from devices.eid.national_number import make
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
    Programme,
    Site,
)
from kiosk.db.models import Session as SessionRow
from kiosk.db.types import new_id
from kiosk.domain.patients import nn_hash
from kiosk.programme.model import Phase
from kiosk.programme.model import Programme as ProgrammeSpec

FIRST_NAMES = (
    ("Zoë", "F"),
    ("Hélène", "F"),
    ("Marie", "F"),
    ("Anneleen", "F"),
    ("Sofie", "F"),
    ("Ilse", "F"),
    ("Fatima", "F"),
    ("Françoise", "F"),
    ("Ann-Sophie", "F"),
    ("Lieve", "F"),
    ("Gül", "F"),
    ("Renée", "F"),
    ("Jérôme", "M"),
    ("Luc", "M"),
    ("Jan", "M"),
    ("Pieter", "M"),
    ("Mohamed", "M"),
    ("Ömer", "M"),
    ("François", "M"),
    ("Dirk", "M"),
    ("Kris", "M"),
    ("Jürgen", "M"),
    ("Noël", "M"),
    ("Bart", "M"),
)
LAST_NAMES = (
    "Peeters",
    "Janssens",
    "Maes",
    "Jacobs",
    "Mertens",
    "Willems",
    "Claes",
    "Goossens",
    "Wouters",
    "De Smedt",
    "Dubois",
    "Lambert",
    "Dupont",
    "Vandenbroucke",
    "Van de Velde",
    "El Amrani",
    "Yılmaz",
    "Müller",
    "Nuñez",
    "Lefèvre",
    "Çelik",
    "Vermeulen",
    "D'Hondt",
)
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
    sessions: list[dict[str, object]] = field(default_factory=list)
    bookings: list[dict[str, object]] = field(default_factory=list)
    checkins: list[dict[str, object]] = field(default_factory=list)
    absences: list[dict[str, object]] = field(default_factory=list)
    cancellations: list[dict[str, object]] = field(default_factory=list)
    shared: dict[tuple[str, str, dt.datetime], str] = field(default_factory=dict)


def _slots(programme: ProgrammeSpec, phase: Phase, rng: random.Random) -> list[tuple[int, dt.time]]:
    """The weekly slots (weekday, time) this patient follows in ``phase``."""
    per_week = phase.max_per_week or 2
    options = sorted(
        {
            (day, time)
            for kind in phase.kinds
            for day, times in programme.timetable.get(kind, {}).items()
            for time in times
        }
    )
    if not options:
        # No timetable (individual sessions): the therapist's own slots, one weekday each.
        days = rng.sample(range(5), k=min(per_week, 5))
        return sorted((d, dt.time(rng.choice((9, 10, 11, 14, 15)), 0)) for d in days)
    chosen: list[tuple[int, dt.time]] = []
    for day, time in rng.sample(options, k=len(options)):
        if all(day != d for d, _ in chosen) and len(chosen) < per_week:
            chosen.append((day, time))
    return sorted(chosen)


def _plan(
    programme: ProgrammeSpec, start: dt.date, rng: random.Random
) -> Iterator[tuple[str, dt.datetime]]:
    """The sessions (kind, local start) of a whole programme followed from ``start``."""
    day = start
    end = None
    if programme.ends_months_after_start is not None:
        end = start + dt.timedelta(days=30 * programme.ends_months_after_start)
    for phase in programme.phases:
        slots = _slots(programme, phase, rng)
        timetabled = [k for k in phase.kinds if k in programme.timetable] or list(phase.kinds)
        # An open-ended phase before others (the consultations): one session of each kind here.
        last = phase is programme.phases[-1]
        total = phase.sessions or (None if last else len(phase.kinds))
        replaced: dict[int, str] = {}
        if total:
            spots = rng.sample(range(2, total - 1), k=sum(r.count for r in phase.required))
            kinds = [r.kind for r in phase.required for _ in range(r.count)]
            replaced = dict(zip(spots, kinds, strict=True))
        number = 0
        while total is None or number < total:
            for weekday, time in slots:
                moment = day + dt.timedelta(days=(weekday - day.weekday()) % 7)
                if end is not None and moment > end:
                    return
                number += 1
                kind = replaced.get(number, timetabled[(number - 1) % len(timetabled)])
                yield kind, dt.datetime.combine(moment, time, tzinfo=BRUSSELS)
                if total is not None and number >= total:
                    break
            day = day + dt.timedelta(days=7 - day.weekday())  # next Monday
        day = day + dt.timedelta(days=7)  # a week for the team's decision between phases


def _person(rng: random.Random, index: int, today: dt.date) -> tuple[str, str, str, dt.date, str]:
    first, sex = rng.choice(FIRST_NAMES)
    if rng.random() < 0.3:
        second, _ = rng.choice([n for n in FIRST_NAMES if n[1] == sex])
        first = f"{first} {second}" if second != first else first
    age = rng.randint(19, 74)
    birth = today - dt.timedelta(days=age * 365 + rng.randint(0, 364))
    sequence = (index % 499) * 2 + (1 if sex == "M" else 2)
    return make(birth, sequence), first, rng.choice(LAST_NAMES), birth, sex


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
    programmes: Mapping[str, ProgrammeSpec],
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
    rng = random.Random(seed)
    today = now.astimezone(BRUSSELS).date()
    summary = DemoSummary()
    rows = _Rows()
    for site_id, name in sites:
        db.add(Site(id=site_id, name=name))
    for programme in programmes.values():
        # Merged: `kiosk central init` has already stored the programme files on a centre.
        db.merge(Programme(code=programme.code, name=programme.title["en"]))
    db.flush()
    codes = sorted(programmes)
    weights = [3 if programmes[c].once_in_a_lifetime else 1 for c in codes]
    patient_rows: list[dict[str, object]] = []
    enrolment_rows: list[dict[str, object]] = []
    for index in range(patients):
        site_id = sites[index % len(sites)][0]
        programme = programmes[rng.choices(codes, weights)[0]]
        stage = rng.choices([s for s, _ in STAGES], [w for _, w in STAGES])[0]
        nn, first, last, birth, sex = _person(rng, index, today)
        patient_id, enrolment_id = new_id(), new_id()
        plan_start = today
        plan = list(_plan(programme, plan_start, rng))
        reached = {
            "starting": 0,
            "pre": 3,
            "early": 12,
            "mid": len(plan) // 2,
            "near_end": len(plan) - 4,
            "stopped": len(plan) // 3,
            "finished": len(plan),
        }[stage]
        reached = min(reached + rng.randint(0, 2), len(plan)) if stage != "finished" else reached
        misses = {"mid": 2, "stopped": programme.unexcused_absence_limit or 0}.get(stage, 0)
        # Shift the plan back by whole weeks so that `reached` sessions lie in the past.
        anchor = plan[reached][1] if reached < len(plan) else plan[-1][1] + dt.timedelta(days=7)
        weeks_back = (anchor.date() - today).days // 7
        shift = dt.timedelta(weeks=weeks_back)
        missed_at = (
            set(rng.sample(range(2, max(reached, misses + 3)), k=misses)) if misses else set()
        )
        status = {"stopped": EnrolmentStatus.STOPPED, "finished": EnrolmentStatus.FINISHED}.get(
            stage, EnrolmentStatus.ACTIVE
        )
        started = plan[0][1].date() - shift
        patient_rows.append(
            {
                "id": patient_id,
                "nn_hash": nn_hash(lookup_key, nn),
                "national_number": nn,
                "first_name": first,
                "last_name": last,
                "birth_date": birth,
                "site_id": site_id,
            }
        )
        enrolment_rows.append(
            {
                "id": enrolment_id,
                "patient_id": patient_id,
                "programme_code": programme.code,
                "site_id": site_id,
                "status": status,
                "started_on": started,
                "stopped_at": now - dt.timedelta(days=3)
                if status == EnrolmentStatus.STOPPED
                else None,
                "stop_reason": "3 unexcused absences" if status == EnrolmentStatus.STOPPED else "",
                # The team said go at every gate (a demo patient follows the whole trajectory).
                "decisions": ",".join(f"{p.key}:go" for p in programme.phases if p.gate_after),
            }
        )
        horizon = now + dt.timedelta(weeks=future_weeks)
        misses_done = 0
        for position, (kind, planned) in enumerate(plan):
            start = planned - shift
            if start > horizon or (status != EnrolmentStatus.ACTIVE and start > now):
                break
            spec = programme.kind(kind)
            shared = kind in programme.timetable
            session_id = _session_id(
                rows, site_id, programme.code, kind, start, spec.minutes, shared, rng
            )
            booking_id = new_id()
            rows.bookings.append(
                {
                    "id": booking_id,
                    "session_id": session_id,
                    "enrolment_id": enrolment_id,
                    "patient_id": patient_id,
                    "status": BookingStatus.BOOKED,
                }
            )
            end_of = start + dt.timedelta(minutes=spec.minutes)
            if end_of > now:
                continue
            if position in missed_at and misses_done < misses:
                misses_done += 1
                rows.absences.append(
                    {
                        "id": new_id(),
                        "booking_id": booking_id,
                        "enrolment_id": enrolment_id,
                        "recorded_at": end_of.astimezone(dt.UTC),
                        "excused": False,
                        "reason": "",
                    }
                )
                continue
            if rng.random() < 0.02:
                rows.bookings[-1]["status"] = BookingStatus.CANCELLED
                rows.cancellations.append(
                    {
                        "id": new_id(),
                        "booking_id": booking_id,
                        "cancelled_at": (start - dt.timedelta(days=2)).astimezone(dt.UTC),
                        "notice_minutes": 2 * 24 * 60,
                        "fee_cents": 0,
                        "reason": "ill",
                    }
                )
                continue
            late = rng.random() < 0.08
            arrived = start + dt.timedelta(
                minutes=rng.randint(1, 12) if late else -rng.randint(3, 30)
            )
            rows.checkins.append(
                {
                    "id": new_id(),
                    "booking_id": booking_id,
                    "patient_id": patient_id,
                    "kiosk_id": kiosk_id,
                    "checked_in_at": arrived.astimezone(dt.UTC),
                    "late": late,
                    "identity_method": "chip",
                    "card_number": _card_number(index),
                    "document_type": "1",
                    "identity_note": "",
                }
            )
        summary.patients.append(
            DemoPatient(
                patient_id=patient_id,
                national_number=nn,
                first_names=first,
                last_name=last,
                birth_date=birth,
                sex=sex,
                site_id=site_id,
                programme_code=programme.code,
                stage=stage,
                card_number=_card_number(index),
                document_type=rng.choice(("1",) * 9 + ("11",)),
            )
        )
    for model, batch in (
        (Patient, patient_rows),
        (Enrolment, enrolment_rows),
        (SessionRow, rows.sessions),
        (Booking, rows.bookings),
        (CheckIn, rows.checkins),
        (Absence, rows.absences),
        (Cancellation, rows.cancellations),
    ):
        for chunk in range(0, len(batch), 5000):
            db.execute(insert(model), batch[chunk : chunk + 5000])
    summary.sessions = len(rows.sessions)
    summary.bookings = len(rows.bookings)
    summary.checkins = len(rows.checkins)
    summary.absences = len(rows.absences)
    return summary


def _card_number(index: int) -> str:
    """A 12-digit e-ID card number whose last two digits are the mod-97 check of the first ten."""
    body = 5920000000 + index
    return f"{body:010d}{body % 97 or 97:02d}"


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
                "label": f"{patient.first_names.split()[0]} {patient.last_name[0]}.",
                "programme": patient.programme_code,
                "stage": patient.stage,
                "patient_id": patient.patient_id,
            }
        )
    path = directory / "index.json"
    path.write_text(json.dumps(index, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path
