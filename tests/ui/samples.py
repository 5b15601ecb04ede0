"""Check-in results to show on screen (fixed, so screenshots stay the same)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from kiosk.core.clock import BRUSSELS
from kiosk.domain.outcomes import (
    CheckinResult,
    Outcome,
    ParkingInfo,
    Progress,
    Reminder,
    SessionInfo,
    Special,
)

START = dt.datetime(2026, 3, 16, 8, 30, tzinfo=BRUSSELS)
TITLE = {
    "nl": "Groepssessie",
    "fr": "Séance de groupe",
    "en": "Group session",
    "de": "Gruppensitzung",
}
PHASE = {
    "nl": "Groepsprogramma",
    "fr": "Programme de groupe",
    "en": "Group programme",
    "de": "Gruppenprogramm",
}
TEST = {"nl": "Testmoment 2", "fr": "Test 2", "en": "Test moment 2", "de": "Testtermin 2"}
INTERIM = {
    "nl": "tussentijdse consultatie bij de revalidatiearts",
    "fr": "consultation intermédiaire chez le médecin rééducateur",
    "en": "interim consultation with the rehabilitation physician",
    "de": "Zwischensprechstunde beim Rehabilitationsarzt",
}
BRING = {
    "nl": "sportkledij, handdoek, drinkfles",
    "fr": "tenue de sport, serviette, gourde",
    "en": "sports clothes, towel, water bottle",
    "de": "Sportkleidung, Handtuch, Trinkflasche",
}
SESSION = SessionInfo("group", TITLE, START, START + dt.timedelta(hours=2), "Zaal 1", TITLE)
CHECKED_IN = CheckinResult(
    Outcome.CHECKED_IN,
    display_name="Lieve D.",
    session=SESSION,
    progress=Progress("group", PHASE, 18, 36),
    specials=(Special("milestone", TEST, INTERIM),),
    reminders=(Reminder("absences", count=1, limit=3), Reminder("bring", title=BRING)),
    parking=ParkingInfo(
        payload="RK1:K1:GENK:0100000001:202603161130:QH4S72NBXVEAFL3X",
        # Ticket 0100000001 at GENK under a key of 32 zero bytes (kiosk.domain.parking.code).
        short_code="0100-0000-0138-3385",
        expires_at=START + dt.timedelta(hours=3),
        ticket_id="t",
        printed=False,
    ),
)
TOO_EARLY = CheckinResult(
    Outcome.TOO_EARLY,
    display_name="Lieve D.",
    session=SESSION,
    opens_at=START - dt.timedelta(minutes=45),
)
ALREADY = dataclasses.replace(CHECKED_IN, outcome=Outcome.ALREADY_CHECKED_IN, reminders=())
LATE = dataclasses.replace(CHECKED_IN, late=True)
REFUSED = {
    outcome: CheckinResult(outcome, display_name="Lieve D.", session=SESSION)
    for outcome in Outcome
    if not outcome.admitted and outcome != Outcome.TOO_EARLY
}
OUTCOMES: dict[str, CheckinResult] = {
    "checked_in": CHECKED_IN,
    "already": ALREADY,
    "late": LATE,
    "too_early": TOO_EARLY,
    **{str(outcome): result for outcome, result in REFUSED.items()},
}
"""One sample per outcome the result screen can show (checked in with reminders, each refusal)."""
