"""Reception: today's sessions by start time, who is expected, here, late or absent, live.

Actions: manual check-in (forgotten card; its ticket printed or its code shown), reception's
actions on the selected booking (the table :data:`~kiosk.ui.reception_actions.RECEPTION_ACTIONS`:
admit, undo, cancel with the moment of the call, excuse, present, resume), reprint a ticket,
close the day, export the day as CSV, resolve an open alert. On the kiosk it closes itself after
``[reception] idle_seconds`` without any input. Everything goes through the app's facade in thread
workers; the list reloads every :data:`RELOAD_SECONDS` and at once after a change in this process.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from kiosk.core.clock import local
from kiosk.domain.alerts import AlertError
from kiosk.domain.attendance import AttendanceError
from kiosk.domain.call_moment import parse_call_moment
from kiosk.domain.today import DaySession, Status
from kiosk.ui.messages import AttendanceChanged, ReloadDay
from kiosk.ui.reception_actions import RECEPTION_ACTIONS, close_day_question, refusal_reason
from kiosk.ui.screens.alerts import AlertsScreen
from kiosk.ui.screens.confirm import ConfirmScreen
from kiosk.ui.screens.manual_checkin import ManualCheckinScreen
from kiosk.ui.screens.reason_prompt import ReasonPrompt
from kiosk.ui.screens.reception_tickets import ReceptionTickets
from kiosk.ui.widgets.alerts_strip import AlertsStrip
from kiosk.ui.widgets.day_table import DayTable, now_row

if TYPE_CHECKING:
    from kiosk.domain.alerts import AlertView, DueToday
    from kiosk.domain.parking.unprinted import UnprintedTicket
    from kiosk.ui.facade import ReceptionDay

logger = logging.getLogger(__name__)

RELOAD_SECONDS = 2.0
"""On the kiosk, reception closes itself after this long without any input."""


class ReceptionScreen(ReceptionTickets):
    """The day at a glance, with reception's actions on the selected booking."""

    CSS_PATH = "reception.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "manual", show=False),
        *(
            Binding(action.key, f"booking_action('{action.name}')", show=False)
            for action in RECEPTION_ACTIONS.values()
        ),
        Binding("t", "reprint", show=False),
        Binding("d", "close_day", show=False),
        Binding("x", "export", show=False),
        Binding("l", "alerts", show=False),
        Binding("r", "reload", show=False),
        Binding("left_square_bracket", "other_day(-1)", show=False),
        Binding("right_square_bracket", "other_day(1)", show=False),
        Binding("escape", "leave", show=False),
        Binding("q", "leave", show=False),
    ]

    def __init__(self, *, standalone: bool) -> None:
        super().__init__()
        self.standalone = standalone
        self.sessions: list[DaySession] = []
        self.alerts: list[AlertView] = []
        self.due: list[DueToday] = []
        self.unprinted: list[UnprintedTicket] = []
        self._since = 0.0
        self._opened_at: dt.date | None = None
        """The day the table was last opened at (scrolled to the current time)."""
        self.day_offset = 0
        """Days from today of the day shown (``[`` and ``]`` move it)."""

    @property
    def day(self) -> dt.date:
        """The day shown: today by the kiosk's clock, or the day reception moved to."""
        return local(self.kiosk.services.clock.now()).date() + dt.timedelta(days=self.day_offset)

    def action_other_day(self, step: int) -> None:
        """Keys ``[`` and ``]``: the day before or after, to record or correct on any day."""
        self.day_offset += step
        self.reload()

    def compose(self) -> ComposeResult:
        """Title, the day's table, alerts and the key line."""
        tr = self.tr
        yield Static(id="reception-title")
        # Birth dates at the desk only: on the kiosk this screen is in a public hall.
        yield DayTable(tr, birth_dates=self.standalone, id="day")
        yield AlertsStrip(id="alerts")
        keys = tr(
            "m manual check-in  a admit  u undo  c cancel  e excuse  p present  s resume  "
            "t reprint  d close day  x export  l alerts  [ ] day  r reload"
        )
        back = tr("q quit") if self.standalone else tr("Esc back")
        yield Static(f"{keys}  {back}", id="reception-keys")

    def on_mount(self) -> None:
        """Load now and then every few seconds."""
        self._since = self.kiosk.services.monotonic()
        self.reload()
        self.set_interval(RELOAD_SECONDS, self.reload)
        if not self.standalone:
            self.set_interval(1.0, self._idle_check)

    def _idle_check(self) -> None:
        # Any input counts (keys, the mouse, taps), on this screen or a dialog above it: the
        # dialogs close with reception, which must not stay open for the next patient to see.
        quiet = self.kiosk.services.monotonic() - max(self._since, self.kiosk.last_input)
        idle = self.kiosk.services.settings.reception_idle_seconds
        if quiet >= idle and self in self.app.screen_stack:
            while self.app.screen is not self:
                self.app.pop_screen()
            self.app.pop_screen()

    # -- loading ------------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the day again (in a worker)."""
        self._load()

    def on_reload_day(self, message: ReloadDay) -> None:
        """Today's attendance changed in this process."""
        self.reload()

    def action_reload(self) -> None:
        """Key ``r``."""
        self.reload()

    @work(thread=True, exclusive=True, group="reception-load")
    def _load(self) -> None:
        try:
            day = self.facade.reception_day(self.day)
        except Exception as exc:  # a busy database must not end reception
            logger.error("reception could not read the day: %s", type(exc).__name__)
            self.app.call_from_thread(
                self.notify, self.tr("The database did not answer; retrying."), severity="error"
            )
            return
        self.app.call_from_thread(self._fill, day)

    def _fill(self, day: ReceptionDay) -> None:
        self.sessions, self.alerts, self.due = day.sessions, day.alerts, day.due
        self.unprinted = day.unprinted
        self._show_title()
        self.query_one(AlertsStrip).show(
            self.alerts,
            self.due,
            self.tr,
            reader_down=self.kiosk.services.devices.reader_attached is False,
            unprinted=tuple(day.unprinted),
        )
        table = self.query_one(DayTable)
        if self._opened_at != self.day:
            # A day is first shown at the current time's session (today) or at its start.
            self._opened_at = self.day
            now = self.kiosk.services.clock.now()
            at = now_row(self.sessions, now) if self.day_offset == 0 else 0
            table.show(self.sessions, at=at)
        else:
            table.show(self.sessions)

    def _show_title(self) -> None:
        tr = self.tr
        everyone = [a for s in self.sessions for a in s.attendees]
        here = sum(1 for a in everyone if a.status in (Status.ARRIVED, Status.LATE))
        expected = sum(1 for a in everyone if a.status == Status.EXPECTED)
        absent = sum(1 for a in everyone if a.status == Status.ABSENT)
        self.query_one("#reception-title", Static).update(
            tr(
                "Reception, {date}: sessions {sessions}, here {here}, expected {expected}, "
                "absent {absent}",
                date=tr.date(self.day),
                sessions=len(self.sessions),
                here=here,
                expected=expected,
                absent=absent,
            )
        )

    # -- selection ----------------------------------------------------------------------------

    def selected_key(self) -> str | None:
        """The row key under the cursor (a booking id, or a session header)."""
        return self.query_one(DayTable).selected_key()

    def _selected_booking(self) -> str | None:
        booking = self.query_one(DayTable).selected_booking()
        if booking is None:
            self.notify(self.tr("Select a patient first."), severity="warning")
        return booking

    def _enrolment_of(self, booking: str) -> str:
        return next(
            (a.enrolment_id for s in self.sessions for a in s.attendees if a.booking_id == booking),
            "",
        )

    # -- actions ------------------------------------------------------------------------------

    def _run(self, job: Callable[[], str]) -> None:
        """Run a database action in a worker, report its result, reload."""
        self._job(job)

    @work(thread=True, group="reception-action")
    def _job(self, job: Callable[[], str]) -> None:
        try:
            text = job()
        except AttendanceError as exc:
            self.app.call_from_thread(self._refused, exc)
            return
        except Exception as exc:
            logger.error("a reception action failed: %s", type(exc).__name__)
            self.app.call_from_thread(self._no_answer)
            return
        self.app.call_from_thread(self.notify, text, markup=False)
        self.app.call_from_thread(self.kiosk.post_message, AttendanceChanged())

    def _refused(self, exc: AttendanceError) -> None:
        reason = refusal_reason(exc, self.tr)
        self.notify(self.tr("Not done: {reason}", reason=reason), severity="warning", markup=False)

    def action_manual(self) -> None:
        """Check in a patient who forgot the card."""
        self.app.push_screen(ManualCheckinScreen(), self._manual_chosen)

    def _manual_chosen(self, patient_id: str | None) -> None:
        if patient_id is not None:
            self.check_in_by_hand(patient_id)

    def action_booking_action(self, name: str) -> None:
        """One of :data:`~kiosk.ui.reception_actions.RECEPTION_ACTIONS` on the selected
        booking: its reason asked (and its confirmation, if it has one), then done."""
        action = RECEPTION_ACTIONS[name]
        booking = self._selected_booking()
        if booking is None:
            return
        target = booking if action.target == "booking" else self._enrolment_of(booking)
        tr = self.tr

        def chosen(reason: str | None) -> None:
            if reason is None:
                return
            if action.asks_called_at:
                self._ask_called_at(lambda called_at: then(reason, called_at))
            else:
                then(reason, None)

        def then(reason: str, called_at: dt.datetime | None) -> None:
            def run() -> None:
                self._run(
                    lambda: self.facade.perform(name, target, reason, tr, called_at=called_at)
                )

            if action.confirm is None:
                run()
            else:
                self._confirm(tr(action.confirm), run)

        self.app.push_screen(
            ReasonPrompt(tr(action.prompt), required=action.reason_required), chosen
        )

    def _ask_called_at(self, then: Callable[[dt.datetime | None], None]) -> None:
        """When the patient called (empty: now); asked again until it is a moment."""
        tr = self.tr

        def typed(text: str | None) -> None:
            if text is None:
                return
            try:
                moment = parse_call_moment(text, self.kiosk.services.clock.now())
            except ValueError:
                self.notify(tr("That is not a moment: HH:MM or DD/MM HH:MM."), severity="warning")
                self._ask_called_at(then)
                return
            then(moment)

        question = tr("When did the patient call? HH:MM or DD/MM HH:MM (empty: now)")
        self.app.push_screen(ReasonPrompt(question, required=False), typed)

    def action_close_day(self) -> None:
        """Close the day's ended sessions, after a question that says what will happen."""
        self._preview_close_day(self.day)

    @work(thread=True, group="reception-action")
    def _preview_close_day(self, day: dt.date) -> None:
        tr = self.tr
        try:
            preview = self.facade.preview_close_day(day)
        except AttendanceError as exc:
            self.app.call_from_thread(self._refused, exc)
            return
        except Exception as exc:
            logger.error("previewing the day's closing failed: %s", type(exc).__name__)
            self.app.call_from_thread(self._no_answer)
            return

        def job() -> str:
            closed = self.facade.close_day(day)
            return tr(
                "Day closed: {absences} absences, {stopped} programmes stopped.",
                absences=closed.absences,
                stopped=closed.stopped_enrolments,
            )

        question = close_day_question(preview, tr)
        self.app.call_from_thread(self._confirm, question, lambda: self._run(job))

    def action_export(self) -> None:
        """Write the day as CSV into the data directory."""
        sessions = list(self.sessions)
        day = self.day
        tr = self.tr

        def job() -> str:
            path = self.facade.export_day(sessions, day, language=tr.language)
            return tr("Exported to {path}", path=str(path))

        self._run(job)

    def action_alerts(self) -> None:
        """Every open alert, to resolve one: how it was resolved is asked, then kept."""
        self.app.push_screen(AlertsScreen(list(self.alerts)), self._alert_chosen)

    def _alert_chosen(self, alert_id: str | None) -> None:
        if alert_id is None:
            return
        tr = self.tr

        def chosen(resolution: str | None) -> None:
            if resolution is None:
                return

            def job() -> str:
                try:
                    self.facade.resolve_alert(alert_id, resolution)
                except AlertError:  # resolved meanwhile (another desk, the command line)
                    return tr("Not done: {reason}", reason=tr("the alert is no longer open"))
                return tr("Alert resolved.")

            self._run(job)

        self.app.push_screen(ReasonPrompt(tr("Resolved: how (optional)"), required=False), chosen)

    def _confirm(self, question: str, then: Callable[[], None]) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                then()

        self.app.push_screen(ConfirmScreen(question), answered)

    def action_leave(self) -> None:
        """Back to the kiosk screen; the stand-alone program quits."""
        if self.standalone:
            self.app.exit()
        else:
            self.app.pop_screen()
