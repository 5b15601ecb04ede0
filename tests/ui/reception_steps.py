"""The steps reception's tests share: opening reception (F9 and the PIN on the kiosk), its day
shown, picking a booking, a manual check-in, the call moment of a cancellation."""

from __future__ import annotations

import datetime as dt

from textual.app import App
from textual.pilot import Pilot

from kiosk.domain.today import Status
from kiosk.ui.app import KioskApp
from kiosk.ui.screens.manual_checkin import ManualCheckinScreen
from kiosk.ui.screens.reason_prompt import ReasonPrompt
from kiosk.ui.screens.reception import ReceptionScreen
from tests.ui.conftest import PIN, Kiosk, select_row
from tests.ui.waiting import label, opened, until


def reception(app: App[None]) -> ReceptionScreen:
    """The reception screen in the app's stack (under any dialog open above it)."""
    for screen in app.screen_stack:
        if isinstance(screen, ReceptionScreen):
            return screen
    raise AssertionError("no reception screen")


async def day_shown(pilot: Pilot[None], app: App[None]) -> ReceptionScreen:
    """Reception's screen once it shows its day's sessions."""
    screen = reception(app)
    await until(pilot, lambda: bool(screen.sessions))
    return screen


async def open_reception(pilot: Pilot[None], app: KioskApp) -> ReceptionScreen:
    """Open reception on the kiosk as staff do, F9 and the PIN, once the kiosk listens to its
    reader; its screen with the day shown."""
    await until(pilot, lambda: app._unsubscribe is not None)
    await pilot.press("f9", *PIN, "enter")
    await until(pilot, lambda: isinstance(app.screen, ReceptionScreen))
    return await day_shown(pilot, app)


def status_of(screen: ReceptionScreen, booking_id: str) -> Status:
    """The status reception's screen shows for the booking."""
    for session in screen.sessions:
        for person in session.attendees:
            if person.booking_id == booking_id:
                return person.status
    raise AssertionError("booking not on screen")


def booking_of(screen: ReceptionScreen, status: Status) -> tuple[str, str]:
    """A booking with ``status`` and the patient's last name."""
    for session in screen.sessions:
        for person in session.attendees:
            if person.status == status and person.enrolment_status == "active":
                return person.booking_id, person.last_name
    raise AssertionError(f"nobody {status}")


def pick(screen: ReceptionScreen, status: Status) -> str:
    """Put the cursor on a booking with ``status`` (of an active enrolment); its id."""
    booking, _ = booking_of(screen, status)
    select_row(screen, booking)
    return booking


async def answer_called_at(pilot: Pilot[None], moment: str = "") -> None:
    """Type when the patient called (empty: now) into the question a cancellation asks."""

    def asked() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, ReasonPrompt) and "belde" in screen.question

    await until(pilot, asked)
    await opened(pilot, ReasonPrompt)
    await pilot.press(*moment, "enter")


async def manual_check_in(pilot: Pilot[None], kiosk: Kiosk, app: App[None]) -> tuple[str, str]:
    """Check in an expected patient by hand on reception's screen; their booking and name."""
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    screen = await day_shown(pilot, app)
    person = next(p for s in screen.sessions for p in s.attendees if p.patient_id == patient)
    assert person.birth_date is not None
    await pilot.press("m")
    await opened(pilot, ManualCheckinScreen)
    await pilot.press(*person.last_name)
    await pilot.press("tab", *person.birth_date.strftime("%d/%m/%Y"), "enter")
    await until(pilot, lambda: "gevonden" in label(pilot, "#manual-hint"))
    await pilot.press("enter")
    await until(pilot, lambda: status_of(screen, person.booking_id) == Status.ARRIVED)
    return person.booking_id, person.last_name
