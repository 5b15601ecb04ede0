"""The reception day as a table: one header row per session, one row per booked patient."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

from kiosk.core.i18n import N_, Translator
from kiosk.domain.today import DaySession, Status
from kiosk.programme.model import text_in

COLUMNS = (N_("Time"), N_("Patient"), N_("Born"), N_("Status"), N_("In"))
STATUS_LABELS = {
    Status.EXPECTED: N_("expected"),
    Status.ARRIVED: N_("arrived"),
    Status.LATE: N_("late"),
    Status.ABSENT: N_("absent"),
    Status.EXCUSED: N_("excused"),
    Status.CANCELLED: N_("cancelled"),
}
SESSION_ROW = "session:"
"""How the key of a session's header row starts (the other rows are keyed by booking id)."""

Row = tuple[str, tuple[str | Text, ...]]


def _cells(cell: str | Text) -> int:
    """A cell's width on screen, for plain text and Rich text alike."""
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


def day_rows(sessions: list[DaySession], tr: Translator) -> list[Row]:
    """The table's rows, each with its key: a session header, then its attendees."""
    # Names and rooms come from outside (the schedule): plain Text, never markup.
    rows: list[Row] = []
    for session in sessions:
        here = session.count(Status.ARRIVED) + session.count(Status.LATE)
        live = len(session.attendees) - session.count(Status.CANCELLED)
        title = f"{text_in(session.kind_title, tr.language)[:18]}, {session.room}"[:28]
        counts = tr(
            "{here}/{total} here, {absent} absent",
            here=here,
            total=live,
            absent=session.count(Status.ABSENT),
        )
        times = f"{tr.time(session.starts_at)}-{tr.time(session.ends_at)}"
        rows.append((SESSION_ROW + session.session_id, (times, Text(title), "", counts, "")))
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
    return rows


class DayTable(DataTable[str | Text]):
    """The day's sessions and who is booked in them; the cursor stays on its row across
    reloads."""

    def __init__(self, tr: Translator, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._tr = tr
        self._rows: list[Row] = []
        self.add_columns(*(tr(label) for label in COLUMNS))

    def show(self, sessions: list[DaySession]) -> None:
        """Show ``sessions`` (nothing is redrawn when the rows did not change)."""
        rows = day_rows(sessions, self._tr)
        if rows == self._rows:
            return
        self._rows = rows
        selected = self.selected_key()
        self.clear(columns=True)
        # Widths measured here, not by the table: it measures new rows only once idle, and if
        # it drew them before (a busy box), Textual keeps the lines it drew at the old widths.
        for index, label in enumerate(self._tr(label) for label in COLUMNS):
            width = max([cell_len(label), *(_cells(cells[index]) for _, cells in rows)])
            self.add_column(label, width=width)
        for key, cells in rows:
            self.add_row(*cells, key=key)
        keys = [key for key, _ in rows]
        if selected in keys:
            self.move_cursor(row=keys.index(selected), animate=False)

    def selected_key(self) -> str | None:
        """The row key under the cursor (a booking id, or a session header)."""
        if self.row_count == 0:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return str(key) if key is not None else None

    def selected_booking(self) -> str | None:
        """The booking under the cursor; None on a session header or an empty table."""
        key = self.selected_key()
        return None if key is None or key.startswith(SESSION_ROW) else key
