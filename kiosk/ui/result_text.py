"""What the result screen says for a check-in outcome or a card problem, in one language.

Plain Python (no Textual): turns the domain's codes and numbers into sentences, so that every
outcome reads as plain words with what to do next, never as an error code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from devices.eid.errors import CardRemovedError, NotAnEidCard
from kiosk.core.i18n import N_, NP_, Translator
from kiosk.domain.outcomes import CheckinResult, GrammaticalForm, Outcome, Reminder
from kiosk.programme.model import Texts, text_in

GO_TO_RECEPTION = N_("Please go to reception.")
NOT_YET = N_("Not checked in yet")

# The sentences that agree with the patient: the neutral text (no "(e)"), then its masculine and
# feminine forms, which a catalogue translates apart by context where its language needs it.
AGREEING: dict[str, tuple[str, str]] = {
    N_("Welcome, {name}! You are checked in."): (
        NP_("masculine", "Welcome, {name}! You are checked in."),
        NP_("feminine", "Welcome, {name}! You are checked in."),
    ),
    N_("Welcome! You are checked in."): (
        NP_("masculine", "Welcome! You are checked in."),
        NP_("feminine", "Welcome! You are checked in."),
    ),
    N_("{name}, you were already checked in."): (
        NP_("masculine", "{name}, you were already checked in."),
        NP_("feminine", "{name}, you were already checked in."),
    ),
    N_("You were already checked in."): (
        NP_("masculine", "You were already checked in."),
        NP_("feminine", "You were already checked in."),
    ),
    NOT_YET: (
        NP_("masculine", "Not checked in yet"),
        NP_("feminine", "Not checked in yet"),
    ),
}

# For each refusal: what happened, and what to do next.
REFUSALS: dict[Outcome, tuple[str, str]] = {
    Outcome.TOO_LATE: (
        N_("Your session started at {start}; check-in has closed."),
        GO_TO_RECEPTION,
    ),
    Outcome.NO_BOOKING: (N_("We find no session for you today."), GO_TO_RECEPTION),
    Outcome.BOOKING_CANCELLED: (
        N_("Your session of today was cancelled."),
        N_("Please go to reception if you think this is not right."),
    ),
    Outcome.UNKNOWN_PATIENT: (N_("We do not know this card."), GO_TO_RECEPTION),
    Outcome.PROGRAMME_STOPPED: (
        N_("Your programme has been stopped."),
        N_("Please go to reception: the physician will discuss what comes next."),
    ),
    Outcome.PROGRAMME_FINISHED: (
        N_("Your programme is complete."),
        N_("Please go to reception if you have an appointment today."),
    ),
    Outcome.DEADLINE_PASSED: (
        N_("The period for your programme has ended."),
        GO_TO_RECEPTION,
    ),
    Outcome.GATE_PENDING: (
        N_("The team has not yet decided whether you can start the next part of your programme."),
        N_("Please go to reception: they will tell you when you can start."),
    ),
    Outcome.PHASE_COMPLETE: (
        N_("You have completed every session of this part of your programme."),
        N_("Please go to reception: they will tell you what comes next."),
    ),
    Outcome.WEEKLY_LIMIT_REACHED: (
        N_("You have already had the most sessions allowed this week."),
        GO_TO_RECEPTION,
    ),
}


@dataclass(frozen=True)
class ResultText:
    """The result screen's content: a title, detail lines, the next step, and the ticket."""

    title: str
    lines: tuple[str, ...] = ()
    next_step: str = ""
    admitted: bool = False
    qr_payload: str = ""
    qr_text: str = ""
    """The QR code of ``qr_payload`` in half blocks (drawn by :mod:`kiosk.ui.facade`)."""
    short_code: str = ""
    extras: tuple[str, ...] = ()
    reminders: tuple[str, ...] = ()
    badge: str = ""
    """For a refusal: the word beside its symbol ("Not checked in"); success says so in the
    title."""
    anonymous_title: str | None = None
    """The title without the patient's name, as a speaker in the hall says it; None: the title
    names nobody."""


def for_result(result: CheckinResult, tr: Translator) -> ResultText:
    """The sentences for one check-in outcome."""
    name = result.display_name
    session = result.session
    start = tr.time(session.starts_at) if session else ""
    if result.outcome.admitted and session is not None:
        new = result.outcome == Outcome.CHECKED_IN
        anonymous = agreeing(
            tr,
            result.form,
            N_("Welcome! You are checked in.") if new else N_("You were already checked in."),
        )
        named = (
            N_("Welcome, {name}! You are checked in.")
            if new
            else N_("{name}, you were already checked in.")
        )
        title = agreeing(tr, result.form, named, name=name) if name else anonymous
        lines = [
            tr(
                "{kind}, {start} to {end}",
                kind=text_in(session.kind_title, tr.language),
                start=start,
                end=tr.time(session.ends_at),
            ),
            tr("Room: {room}", room=session.room),
        ]
        if result.progress is not None:
            phase = text_in(result.progress.phase_title, tr.language)
            lines.append(
                tr(
                    "{phase}: session {number} of {total}",
                    phase=phase,
                    number=result.progress.number,
                    total=result.progress.total,
                )
                if result.progress.total
                else tr("{phase}: session {number}", phase=phase, number=result.progress.number)
            )
        lines.extend(today_text(s.title, s.followed_by, tr) for s in result.specials)
        next_step = (
            tr("Your session has started: please go in now.")
            if result.late
            else tr("Please take a seat; you will be called.")
        )
        parking = result.parking
        extras = (
            (tr("Parking: free exit until {time}", time=tr.time(parking.expires_at)),)
            if parking
            else ()
        )
        return ResultText(
            title,
            tuple(lines),
            next_step,
            admitted=True,
            qr_payload=parking.payload if parking else "",
            short_code=parking.short_code if parking else "",
            extras=extras,
            reminders=tuple(_reminder(r, tr) for r in result.reminders),
            anonymous_title=anonymous,
        )
    not_yet = agreeing(tr, result.form, NOT_YET)
    if result.outcome == Outcome.TOO_EARLY and result.opens_at is not None:
        starts = tr("Your session starts at {start}.", start=start)
        return ResultText(
            tr("{name}, your session starts at {start}.", name=name, start=start)
            if name
            else starts,
            next_step=tr(
                "You can check in from {opens}. Please come back then and insert your card again.",
                opens=tr.time(result.opens_at),
            ),
            badge=not_yet,
            anonymous_title=starts,
        )
    happened, todo = REFUSALS.get(result.outcome, (N_("We cannot check you in."), GO_TO_RECEPTION))
    # The greeting first, then the problem, then what to do.
    if name:
        return ResultText(
            tr("Hello, {name}", name=name),
            (tr(happened, start=start),),
            tr(todo),
            badge=not_yet,
            anonymous_title="",
        )
    return ResultText(tr(happened, start=start), next_step=tr(todo), badge=not_yet)


def agreeing(tr: Translator, form: GrammaticalForm, message: str, **values: object) -> str:
    """``message`` in the form that agrees with the patient (one of :data:`AGREEING`)."""
    forms = AGREEING.get(message)
    if forms is None or form == GrammaticalForm.NEUTRAL:
        return tr(message, **values)
    masculine, feminine = forms
    return tr.pgettext(
        form.value, masculine if form == GrammaticalForm.MASCULINE else feminine, **values
    )


def spoken(text: ResultText, card_note: str = "", *, with_name: bool = True) -> str:
    """What the speech output says: the screen's own sentences, in the screen's order (the QR
    code is not read out); without ``with_name`` the title is said without the patient's name
    (a speaker in a public hall)."""
    title = text.title if with_name or text.anonymous_title is None else text.anonymous_title
    parts = [
        text.badge,
        title,
        *text.lines,
        text.next_step,
        text.short_code,
        *text.extras,
        *text.reminders,
        card_note,
    ]
    return " ".join(part for part in parts if part)


def today_text(title: Texts, followed_by: Texts | None, tr: Translator) -> str:
    """``Today: test moment 2, followed by the interim consultation`` (the patient's result and
    reception's list of what is due today say it alike)."""
    if followed_by:
        return tr(
            "Today: {title}, followed by {after}",
            title=text_in(title, tr.language),
            after=text_in(followed_by, tr.language),
        )
    return tr("Today: {title}", title=text_in(title, tr.language))


def _reminder(reminder: Reminder, tr: Translator) -> str:
    title = text_in(reminder.title, tr.language) if reminder.title else ""
    if reminder.code == "register_info_session":
        return tr("Please register for the information session: {title}", title=title)
    if reminder.code == "gate_pending":
        return tr("Next: {title}. Reception will tell you the decision.", title=title)
    if reminder.code == "follow_up_due":
        day = reminder.date or dt.date.today()
        return tr(
            "{title} is due on {date}: please make an appointment at reception.",
            title=title,
            date=tr.date(day),
        )
    if reminder.code == "deadline_close":
        day = reminder.date or dt.date.today()
        return tr("Your programme must be completed by {date}.", date=tr.date(day))
    if reminder.code == "absences":
        return tr(
            "Absences without a valid reason so far: {count} of {limit}; "
            "at {limit} the programme stops.",
            count=reminder.count,
            limit=reminder.limit,
        )
    if reminder.code == "bring" and title:
        return tr("Bring: {items}", items=title)
    return title


def for_card_failure(reason: str, tr: Translator) -> ResultText:
    """The sentences for a card that could not be read (``reason`` comes from the reader)."""
    if reason == NotAnEidCard.reason:
        return ResultText(
            tr("This is not an e-ID card."),
            next_step=tr("Please insert your Belgian identity card (e-ID)."),
            badge=tr(NOT_YET),
        )
    if reason == CardRemovedError.reason:
        return ResultText(
            tr("The card was taken out too soon."),
            next_step=tr("Insert it again and leave it in until you see your result."),
            badge=tr(NOT_YET),
        )
    return ResultText(
        tr("We could not read your card."),
        next_step=tr("Take it out and insert it again. If it still fails, please go to reception."),
        badge=tr(NOT_YET),
    )


def for_card_left(tr: Translator) -> ResultText:
    """The screen once a result has timed out with the card still in: nothing personal."""
    return ResultText(
        tr("A card is still in the reader."),
        next_step=tr("Please take it out. If it is not yours, please give it to reception."),
    )


def for_reader_down(tr: Translator) -> ResultText:
    """The calm screen while the card reader is away."""
    return ResultText(
        tr("Check-in at this kiosk is not possible right now."),
        next_step=tr(GO_TO_RECEPTION),
    )


def for_system_fault(tr: Translator) -> ResultText:
    """The calm screen when the check-in could not be recorded (database busy or broken)."""
    return ResultText(
        tr("Check-in is not possible right now."),
        next_step=tr("Please go to reception. We are sorry for the wait."),
        badge=tr(NOT_YET),
    )
