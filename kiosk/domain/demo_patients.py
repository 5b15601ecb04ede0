"""Who the demo's patients are, and which sessions their programme plans for them.

Every random choice comes from the generator passed in, so a seed gives the same people and plans.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

from devices.eid.national_number import make
from kiosk.core.clock import BRUSSELS
from kiosk.programme.model import Phase, Programme

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


def _slots(programme: Programme, phase: Phase, rng: random.Random) -> list[tuple[int, dt.time]]:
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


def _kind_at(
    programme: Programme, kinds: list[str], weekday: int, time: dt.time, number: int
) -> str:
    """The kind of the ``number``-th session at a (weekday, time) slot: one whose timetable has
    that slot (Core 1 on Monday, Core 2 on Tuesday), so the demo books no session a timetable
    would flag; in turn among several."""
    fitting = [k for k in kinds if time in programme.timetable.get(k, {}).get(weekday, ())]
    pool = fitting or kinds
    return pool[(number - 1) % len(pool)]


def plan_sessions(
    programme: Programme, start: dt.date, rng: random.Random
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
                kind = replaced.get(number) or _kind_at(
                    programme, timetabled, weekday, time, number
                )
                yield kind, dt.datetime.combine(moment, time, tzinfo=BRUSSELS)
                if total is not None and number >= total:
                    break
            day = day + dt.timedelta(days=7 - day.weekday())  # next Monday
        day = day + dt.timedelta(days=7)  # a week for the team's decision between phases


def make_person(
    rng: random.Random, index: int, today: dt.date
) -> tuple[str, str, str, dt.date, str]:
    """A person for patient number ``index``: national number, first names, last name, birth
    date and sex."""
    first, sex = rng.choice(FIRST_NAMES)
    if rng.random() < 0.3:
        second, _ = rng.choice([n for n in FIRST_NAMES if n[1] == sex])
        first = f"{first} {second}" if second != first else first
    age = rng.randint(19, 74)
    birth = today - dt.timedelta(days=age * 365 + rng.randint(0, 364))
    sequence = (index % 499) * 2 + (1 if sex == "M" else 2)
    return make(birth, sequence), first, rng.choice(LAST_NAMES), birth, sex


def card_number(index: int) -> str:
    """A 12-digit e-ID card number whose last two digits are the mod-97 check of the first ten."""
    body = 5920000000 + index
    return f"{body:010d}{body % 97 or 97:02d}"
