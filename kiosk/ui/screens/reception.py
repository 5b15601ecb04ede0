"""Reception: today's sessions by start time, who is expected, here, late or absent, live.

Actions: manual check-in (forgotten card), undo a check-in, cancellation (fee from the notice),
excused absence, close the day, export the day as CSV. Every database call runs in a thread
worker; the list reloads every :data:`RELOAD_SECONDS` and at once after a change in this process.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, cast

from babel.numbers import format_currency
from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.events import Key
from textual.screen import Screen
from textual.widgets import DataTable, Static

from kiosk.core.clock import local
from kiosk.core.i18n import N_, Translator
from kiosk.core.writing import write_whole
from kiosk.domain.alerts import AlertView, DueToday, due_today, open_alerts
from kiosk.domain.attendance import AttendanceError, DayPreview
from kiosk.domain.day_csv import attendance_csv
from kiosk.domain.today import DaySession, Status, day_view
from kiosk.programme.model import text_in
from kiosk.ui import result_text
from kiosk.ui.messages import AttendanceChanged, ReloadDay
from kiosk.ui.screens.confirm import ConfirmScreen
from kiosk.ui.screens.manual_checkin import ManualCheckinScreen
from kiosk.ui.screens.reason_prompt import ReasonPrompt

if TYPE_CHECKING:
    from kiosk.ui.app import KioskApp

logger = logging.getLogger(__name__)

RELOAD_SECONDS = 2.0
IDLE_SECONDS = 120.0
"""On the kiosk, reception closes itself after this long without a key."""

COLUMNS = (N_("Time"), N_("Patient"), N_("Born"), N_("Status"), N_("In"))
STATUS_LABELS = {
    Status.EXPECTED: N_("expected"),
    Status.ARRIVED: N_("arrived"),
    Status.LATE: N_("late"),
    Status.ABSENT: N_("absent"),
    Status.EXCUSED: N_("excused"),
    Status.CANCELLED: N_("cancelled"),
}
ALERT_LABELS = {
    "programme_stopped": N_("Programme stopped (absence limit)"),
    "absences_warning": N_("Two absences"),
    "printer_fault": N_("Printer fault"),
}
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
SESSION_ROW = "session:"
ALERT_LINES = 5
"""Lines of the alerts strip; beyond them one line says how many more there are."""


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


def refusal_reason(exc: AttendanceError, tr: Translator) -> str:
    """Why reception's action was refused, in ``tr``'s language (a sentence the catalogues do
    not know yet stays as the domain wrote it)."""
    reason = str(exc)
    return tr(reason) if reason in ATTENDANCE_REFUSALS else reason


def _cells(cell: str | Text) -> int:
    """A cell's width on screen, for plain text and Rich text alike."""
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


class ReceptionScreen(Screen[None]):
    """The day at a glance, with reception's actions on the selected booking."""

    CSS_PATH = "reception.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "manual", show=False),
        Binding("u", "undo", show=False),
        Binding("c", "cancel_booking", show=False),
        Binding("e", "excuse", show=False),
        Binding("p", "present", show=False),
        Binding("a", "admit", show=False),
        Binding("s", "resume", show=False),
        Binding("d", "close_day", show=False),
        Binding("x", "export", show=False),
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
        self._rows: list[tuple[str, tuple[str | Text, ...]]] = []
        self._since = 0.0
        self.day_offset = 0
        """Days from today of the day shown (``[`` and ``]`` move it)."""

    @property
    def kiosk(self) -> KioskApp:
        """The app, typed."""
        return cast("KioskApp", self.app)

    @property
    def tr(self) -> Translator:
        """Staff texts."""
        return self.kiosk.staff_tr

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
        table: DataTable[str] = DataTable(id="day", cursor_type="row", zebra_stripes=True)
        table.add_columns(*(tr(label) for label in COLUMNS))
        yield table
        yield Static(id="alerts")
        keys = tr(
            "m manual check-in  a admit  u undo  c cancel  e excuse  p present  s resume  "
            "d close day  x export  [ ] day  r reload"
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

    def on_key(self, event: Key) -> None:
        """Any key keeps reception open."""
        self._since = self.kiosk.services.monotonic()

    def _idle_check(self) -> None:
        if (
            self.app.screen is self
            and self.kiosk.services.monotonic() - self._since >= IDLE_SECONDS
        ):
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
        services = self.kiosk.services
        settings = services.settings
        try:
            with services.context.sessions() as db:
                sessions = day_view(
                    db,
                    site_id=settings.site_id,
                    day=self.day,
                    now=services.clock.now(),
                    programmes=services.context.programmes,
                    window=settings.checkin,
                )
                alerts = open_alerts(db, site_id=settings.site_id)
                due = due_today(
                    db,
                    site_id=settings.site_id,
                    day=self.day,
                    programmes=services.context.programmes,
                )
        except Exception as exc:  # a busy database must not end reception
            logger.error("reception could not read the day: %s", type(exc).__name__)
            self.app.call_from_thread(
                self.notify, self.tr("The database did not answer; retrying."), severity="error"
            )
            return
        self.app.call_from_thread(self._fill, sessions, alerts, due)

    def _fill(
        self, sessions: list[DaySession], alerts: list[AlertView], due: list[DueToday]
    ) -> None:
        tr = self.tr
        self.sessions, self.alerts, self.due = sessions, alerts, due
        # Names and rooms come from outside (the schedule): plain Text, never markup.
        rows: list[tuple[str, tuple[str | Text, ...]]] = []
        for session in sessions:
            here = session.count(Status.ARRIVED) + session.count(Status.LATE)
            live = len(session.attendees) - session.count(Status.CANCELLED)
            rows.append(
                (
                    SESSION_ROW + session.session_id,
                    (
                        f"{tr.time(session.starts_at)}-{tr.time(session.ends_at)}",
                        Text(
                            f"{text_in(session.kind_title, tr.language)[:18]}, {session.room}"[:28]
                        ),
                        "",
                        tr(
                            "{here}/{total} here, {absent} absent",
                            here=here,
                            total=live,
                            absent=session.count(Status.ABSENT),
                        ),
                        "",
                    ),
                )
            )
            for person in session.attendees:
                rows.append(
                    (
                        person.booking_id,
                        (
                            "",
                            Text(f"  {person.last_name}, {person.first_name}"[:28]),
                            tr.short_date(person.birth_date) if person.birth_date else "",
                            tr(STATUS_LABELS[person.status]),
                            tr.time(person.checked_in_at) if person.checked_in_at else "",
                        ),
                    )
                )
        self._show_title()
        self._show_alerts()
        if rows == self._rows:
            return
        self._rows = rows
        table = self.query_one("#day", DataTable)
        selected = self.selected_key()
        table.clear(columns=True)
        # Widths measured here, not by the table: it measures new rows only once idle, and if
        # it drew them before (a busy box), Textual keeps the lines it drew at the old widths.
        for index, label in enumerate(tr(label) for label in COLUMNS):
            width = max([cell_len(label), *(_cells(cells[index]) for _, cells in rows)])
            table.add_column(label, width=width)
        for key, cells in rows:
            table.add_row(*cells, key=key)
        keys = [key for key, _ in rows]
        if selected in keys:
            table.move_cursor(row=keys.index(selected), animate=False)

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

    def _show_alerts(self) -> None:
        tr = self.tr
        lines = []
        devices = self.kiosk.services.devices
        if devices.reader_attached is False:
            lines.append(tr("Card reader: not available"))
        for alert in self.alerts:
            label = ALERT_LABELS.get(alert.kind)
            what = tr(label) if label else alert.kind
            about = alert.patient_name or alert.message
            lines.append(f"{tr.short_date(local(alert.raised_at).date())} {what}: {about}")
        lines.extend(self._due_line(item) for item in self.due)
        if len(lines) > ALERT_LINES:
            more = len(lines) - (ALERT_LINES - 1)
            lines = [*lines[: ALERT_LINES - 1], tr("... and {count} more", count=more)]
        if not lines:
            lines.append(tr("No alerts."))
        self.query_one("#alerts", Static).update(Content("\n".join(lines)))

    def _due_line(self, item: DueToday) -> str:
        """``08:30 Test moment 2, followed by the interim consultation: Lieve De Smedt``."""
        what = result_text.today_text(item.title, item.followed_by, self.tr)
        return f"{self.tr.time(item.starts_at)} {what}: {item.patient_name}"

    # -- selection ----------------------------------------------------------------------------

    def selected_key(self) -> str | None:
        """The row key under the cursor (a booking id, or a session header)."""
        table = self.query_one("#day", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return str(key) if key is not None else None

    def _selected_booking(self) -> str | None:
        key = self.selected_key()
        if key is None or key.startswith(SESSION_ROW):
            self.notify(self.tr("Select a patient first."), severity="warning")
            return None
        return key

    # -- actions ------------------------------------------------------------------------------

    def _run(self, job: Callable[[], str]) -> None:
        """Run a database action in a worker, report its result, reload."""
        self._job(job)

    @work(thread=True, group="reception-action")
    def _job(self, job: Callable[[], str]) -> None:
        try:
            text = job()
        except AttendanceError as exc:
            reason = refusal_reason(exc, self.tr)
            self.app.call_from_thread(
                self.notify,
                self.tr("Not done: {reason}", reason=reason),
                severity="warning",
                markup=False,
            )
            return
        except Exception as exc:
            logger.error("a reception action failed: %s", type(exc).__name__)
            self.app.call_from_thread(
                self.notify, self.tr("The database did not answer; try again."), severity="error"
            )
            return
        self.app.call_from_thread(self.notify, text, markup=False)
        self.app.call_from_thread(self.kiosk.post_message, AttendanceChanged())

    def action_manual(self) -> None:
        """Check in a patient who forgot the card."""
        self.app.push_screen(ManualCheckinScreen(), self._manual_chosen)

    def _manual_chosen(self, patient_id: str | None) -> None:
        if patient_id is None:
            return
        services = self.kiosk.services
        tr = self.tr

        def job() -> str:
            engine = services.context.checkin_engine()
            result = engine.check_in_patient(patient_id, actor="reception", note="card forgotten")
            return result_text.for_result(result, tr).title

        self._run(job)

    def action_undo(self) -> None:
        """Take back what was last recorded on the selected booking (check-in, cancellation or
        excuse), with a reason."""
        booking = self._selected_booking()
        if booking is None:
            return
        services = self.kiosk.services
        tr = self.tr
        done = {
            "checkin": N_("Check-in undone."),
            "cancellation": N_("Cancellation undone."),
            "excuse": N_("Excuse undone."),
        }

        def job(reason: str) -> str:
            what = services.context.attendance().undo(booking, reason=reason)
            return tr(done[what])

        self._with_reason(tr("Undo: reason"), job, required=True)

    def action_cancel_booking(self) -> None:
        """Record the selected booking as cancelled, after a question; the fee follows from the
        notice."""
        booking = self._selected_booking()
        if booking is None:
            return
        services = self.kiosk.services
        tr = self.tr

        def job(reason: str) -> str:
            cancellation = services.context.attendance().cancel(booking, reason=reason)
            if cancellation.fee_cents:
                fee = format_currency(cancellation.fee_cents / 100, "EUR", locale=tr.locale)
                return tr("Cancelled late: administration fee {fee}.", fee=fee)
            return tr("Cancelled in time: no fee.")

        self._with_reason(
            tr("Cancellation: reason (optional)"),
            job,
            required=False,
            confirm=tr("Cancel this booking?"),
        )

    def action_present(self) -> None:
        """Correct the selected absence: the patient was there after all."""
        booking = self._selected_booking()
        if booking is None:
            return
        services = self.kiosk.services
        tr = self.tr

        def job(reason: str) -> str:
            services.context.attendance().mark_present(booking, reason=reason)
            return tr("Absence corrected: present.")

        self._with_reason(tr("Present after all: reason"), job, required=True)

    def action_admit(self) -> None:
        """Check in the selected patient although the kiosk refused, with a reason."""
        booking = self._selected_booking()
        if booking is None:
            return
        services = self.kiosk.services
        tr = self.tr

        def job(reason: str) -> str:
            admitted = services.context.attendance().admit(booking, reason=reason)
            if admitted.short_code:
                return tr("Admitted; parking code {code}.", code=admitted.short_code)
            return tr("Admitted.")

        self._with_reason(tr("Admit despite the refusal: reason"), job, required=True)

    def action_resume(self) -> None:
        """Resume the selected patient's stopped programme on the physician's decision."""
        booking = self._selected_booking()
        if booking is None:
            return
        enrolment = next(
            (a.enrolment_id for s in self.sessions for a in s.attendees if a.booking_id == booking),
            "",
        )
        services = self.kiosk.services
        tr = self.tr

        def job(reason: str) -> str:
            services.context.attendance().resume(enrolment, reason=reason)
            return tr("Programme resumed.")

        self._with_reason(tr("Resume the programme: the physician's decision"), job, required=True)

    def action_excuse(self) -> None:
        """Mark the selected absence as excused."""
        booking = self._selected_booking()
        if booking is None:
            return
        services = self.kiosk.services
        tr = self.tr

        def job(reason: str) -> str:
            services.context.attendance().excuse(booking, reason=reason)
            return tr("Absence excused.")

        self._with_reason(tr("Excused absence: reason"), job, required=True)

    def _with_reason(
        self,
        prompt: str,
        job: Callable[[str], str],
        *,
        required: bool,
        confirm: str | None = None,
    ) -> None:
        """Ask for a reason (and then ``confirm``, when given), then run ``job`` with it in a
        worker (nothing when either is declined)."""

        def chosen(reason: str | None) -> None:
            if reason is None:
                return
            if confirm is None:
                self._run(lambda: job(reason))
            else:
                self._confirm(confirm, lambda: self._run(lambda: job(reason)))

        self.app.push_screen(ReasonPrompt(prompt, required=required), chosen)

    def action_close_day(self) -> None:
        """Close the day's ended sessions, after a question that says what will happen."""
        self._preview_close_day(self.day)

    @work(thread=True, group="reception-action")
    def _preview_close_day(self, day: dt.date) -> None:
        services = self.kiosk.services
        tr = self.tr
        try:
            preview = services.context.attendance().preview_close_day(day)
        except AttendanceError as exc:
            reason = refusal_reason(exc, tr)
            self.app.call_from_thread(
                self.notify,
                tr("Not done: {reason}", reason=reason),
                severity="warning",
                markup=False,
            )
            return
        except Exception as exc:
            logger.error("previewing the day's closing failed: %s", type(exc).__name__)
            self.app.call_from_thread(
                self.notify, tr("The database did not answer; try again."), severity="error"
            )
            return

        def job() -> str:
            closed = services.context.attendance().close_day(day)
            return tr(
                "Day closed: {absences} absences, {stopped} programmes stopped.",
                absences=closed.absences,
                stopped=closed.stopped_enrolments,
            )

        question = close_day_question(preview, tr)
        self.app.call_from_thread(self._confirm, question, lambda: self._run(job))

    def action_export(self) -> None:
        """Write the day as CSV into the data directory."""
        settings = self.kiosk.services.settings
        sessions = list(self.sessions)
        tr = self.tr
        folder = settings.data_dir / "exports"
        path = folder / f"attendance-{settings.site_id}-{self.day.isoformat()}.csv"

        def job() -> str:
            folder.mkdir(parents=True, exist_ok=True)
            # Names and birth dates: staff only (0600); a full disk keeps the previous export.
            write_whole(path, attendance_csv(sessions, language=tr.language), mode=0o600)
            return tr("Exported to {path}", path=str(path))

        self._run(job)

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
