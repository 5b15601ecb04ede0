"""Reception's actions on the selected booking, declared once.

Each entry says what the action is called, its key on the reception screen, what it asks before
it runs (a reason, required or not; the moment the patient called; a confirmation) and which
:class:`Attendance` call does it.
The screen makes its key bindings from :data:`RECEPTION_ACTIONS` and the facade dispatches by the
same entries, so an action is added in one place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from babel.numbers import format_currency

from kiosk.core.i18n import N_, Translator
from kiosk.domain.attendance import Attendance, AttendanceError, DayPreview
from kiosk.programme.model import text_in

Target = Literal["booking", "enrolment"]


@dataclass(frozen=True)
class Answer:
    """What reception typed before an action: the reason and, for a cancellation, when the
    patient called (None: now)."""

    reason: str
    called_at: dt.datetime | None = None


@dataclass(frozen=True)
class ReceptionAction:
    """One of reception's actions on a booking (or on the booking's enrolment)."""

    name: str
    key: str
    """The reception screen's key for it."""
    prompt: str
    """The question for the reason (marked for the catalogues; shown translated)."""
    reason_required: bool
    run: Callable[[Attendance, str, Answer, Translator], str]
    """Does it: ``(attendance, target id, answer, tr)``; answers what was done, in ``tr``'s
    language, or raises :class:`AttendanceError`."""
    confirm: str | None = None
    """A question asked after the reason, when the action is not easily taken back."""
    target: Target = "booking"
    """What the action works on: the selected booking, or that booking's enrolment."""
    asks_called_at: bool = False
    """Whether the moment the patient called is asked after the reason (a cancellation's
    notice counts from it)."""


UNDONE = {
    "checkin": N_("Check-in undone."),
    "cancellation": N_("Cancellation undone."),
    "excuse": N_("Excuse undone."),
}
"""What :meth:`Attendance.undo` took back, said to reception."""


def _undo(attendance: Attendance, booking: str, answer: Answer, tr: Translator) -> str:
    return tr(UNDONE[attendance.undo(booking, reason=answer.reason)])


def _cancel(attendance: Attendance, booking: str, answer: Answer, tr: Translator) -> str:
    cancellation = attendance.cancel(booking, reason=answer.reason, called_at=answer.called_at)
    if cancellation.fee_cents:
        fee = format_currency(cancellation.fee_cents / 100, "EUR", locale=tr.locale)
        return tr("Cancelled late: administration fee {fee}.", fee=fee)
    return tr("Cancelled in time: no fee.")


def _excuse(attendance: Attendance, booking: str, answer: Answer, tr: Translator) -> str:
    attendance.excuse(booking, reason=answer.reason)
    return tr("Absence excused.")


def _present(attendance: Attendance, booking: str, answer: Answer, tr: Translator) -> str:
    attendance.mark_present(booking, reason=answer.reason)
    return tr("Absence corrected: present.")


def _admit(attendance: Attendance, booking: str, answer: Answer, tr: Translator) -> str:
    admitted = attendance.admit(booking, reason=answer.reason)
    if admitted.short_code:
        return tr("Admitted; parking code {code}.", code=admitted.short_code)
    return tr("Admitted.")


def _resume(attendance: Attendance, enrolment: str, answer: Answer, tr: Translator) -> str:
    attendance.resume(enrolment, reason=answer.reason)
    return tr("Programme resumed.")


RECEPTION_ACTIONS: dict[str, ReceptionAction] = {
    action.name: action
    for action in (
        ReceptionAction("admit", "a", N_("Admit despite the refusal: reason"), True, _admit),
        ReceptionAction("undo", "u", N_("Undo: reason"), True, _undo),
        ReceptionAction(
            "cancel",
            "c",
            N_("Cancellation: reason (optional)"),
            False,
            _cancel,
            confirm=N_("Cancel this booking?"),
            asks_called_at=True,
        ),
        ReceptionAction("excuse", "e", N_("Excused absence: reason"), True, _excuse),
        ReceptionAction("present", "p", N_("Present after all: reason"), True, _present),
        ReceptionAction(
            "resume",
            "s",
            N_("Resume the programme: the physician's decision"),
            True,
            _resume,
            target="enrolment",
        ),
    )
}
"""Reception's actions by name, in the order of the screen's key line."""


ATTENDANCE_REFUSALS = frozenset(
    {
        N_("this booking is already cancelled"),
        N_("the patient is already checked in for this session"),
        N_("an excused absence needs a reason"),
        N_("there is no absence recorded for this booking"),
        N_("this booking has no check-in to undo"),
        N_("no such booking"),
        N_("a day that has not begun cannot be closed"),
        N_("the call cannot be in the future"),
        N_("there is nothing to undo on this booking"),
        N_("admitting a refused patient needs a reason"),
        N_("undoing needs a reason"),
        N_("this booking is not cancelled"),
        N_("this absence is not excused"),
        N_("a correction needs a reason"),
        N_("resuming a programme needs the physician's decision"),
        N_("no such enrolment"),
        N_("this programme is not stopped"),
    }
)
"""The fixed sentences of :class:`kiosk.domain.attendance.AttendanceError`: each a catalogue
entry."""


def refusal_reason(exc: AttendanceError, tr: Translator) -> str:
    """Why reception's action was refused, in ``tr``'s language (a sentence the catalogues do
    not know yet stays as the domain wrote it)."""
    reason = str(exc)
    return tr(reason) if reason in ATTENDANCE_REFUSALS else reason


def close_day_question(preview: DayPreview, tr: Translator) -> str:
    """The confirmation before closing the day: how many absences, which programmes stop, how
    many bookings stay expected because their session has not ended."""
    lines = [
        tr(
            "Close the day? {absences} absences will be recorded for sessions that have ended.",
            absences=preview.absences,
        )
    ]
    if preview.not_over:
        lines.append(
            tr(
                "{count} patients booked in sessions not over yet stay expected.",
                count=preview.not_over,
            )
        )
    if preview.refused:
        lines.append(
            tr(
                "{count} patients came and were refused at the kiosk: no absence for them.",
                count=preview.refused,
            )
        )
    if preview.stops:
        names = ", ".join(
            f"{stop.patient_name} ({text_in(stop.programme_title, tr.language)})"
            for stop in preview.stops
        )
        lines.append(tr("Programmes that would stop: {names}", names=names))
    else:
        lines.append(tr("No programme would stop."))
    return "\n".join(lines)
