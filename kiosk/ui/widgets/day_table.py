"""The reception day as a table: one header row per session, one row per booked patient.

Each status has a colour and a symbol (colour is never the only cue: a monochrome console and a
colour-blind eye still tell them apart); session headers are bold with a marker, the patients
under them indented. The name column takes the width the terminal leaves after the other
columns, so session and room are cut only when they do not fit.

Birth dates are shown at the reception desk only (``kiosk reception``). On the kiosk, reception
is an overlay on a screen in a public hall: a birth date (or its year, or an age) next to a
full name is personal data any passer-by could read, so the column is left out there. Rows are
per booking, so an action never needs it to pick the right patient.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TypeVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widgets import DataTable

from kiosk.core.i18n import N_, Translator
from kiosk.domain.today import DaySession, Status
from kiosk.programme.model import text_in

COLUMNS = (N_("Time"), N_("Patient"), N_("Born"), N_("Status"), N_("In"))
NAME_COLUMN = 1
BORN_COLUMN = 2
STATUS_LABELS = {
    Status.EXPECTED: N_("expected"),
    Status.ARRIVED: N_("arrived"),
    Status.LATE: N_("late"),
    Status.ABSENT: N_("absent"),
    Status.EXCUSED: N_("excused"),
    Status.CANCELLED: N_("cancelled"),
}
STATUS_LOOKS = {
    # The symbols are in the Linux console's font (CP437 and Latin-1) as well.
    Status.EXPECTED: ("○", ""),
    Status.ARRIVED: ("√", "bold green"),
    Status.LATE: ("!", "bold yellow"),
    Status.ABSENT: ("×", "bold red"),
    Status.EXCUSED: ("~", "cyan"),
    Status.CANCELLED: ("-", "dim"),
}
"""Per status: its symbol and its colour."""
SESSION_STYLE = "bold"
SESSION_MARK = "▌"
SESSION_ROW = "session:"
"""How the key of a session's header row starts (the other rows are keyed by booking id)."""
MIN_NAME = 12
"""The name column never gets narrower than this, even on a very small terminal."""

Row = tuple[str, tuple[str | Text, ...]]
C = TypeVar("C")


def _cells(cell: str | Text) -> int:
    """A cell's width on screen, for plain text and Rich text alike."""
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


def status_cell(status: Status, tr: Translator) -> Text:
    """``√ arrived`` in green: the symbol, the word, the colour."""
    symbol, style = STATUS_LOOKS[status]
    return Text(f"{symbol} {tr(STATUS_LABELS[status])}", style=style)


def day_rows(sessions: list[DaySession], tr: Translator, *, birth_dates: bool) -> list[Row]:
    """The table's rows, each with its key: a session header, then its attendees (their birth
    dates only with ``birth_dates``)."""
    # Names and rooms come from outside (the schedule): plain Text, never markup.
    rows: list[Row] = []
    for session in sessions:
        here = session.count(Status.ARRIVED) + session.count(Status.LATE)
        live = len(session.attendees) - session.count(Status.CANCELLED)
        title = f"{SESSION_MARK} {text_in(session.kind_title, tr.language)} · {session.room}"
        counts = tr(
            "{here}/{total} here, {absent} absent",
            here=here,
            total=live,
            absent=session.count(Status.ABSENT),
        )
        times = f"{tr.time(session.starts_at)}-{tr.time(session.ends_at)}"
        header: list[str | Text] = [
            Text(cell, style=SESSION_STYLE) for cell in (times, title, "", counts, "")
        ]
        rows.append((SESSION_ROW + session.session_id, _keep(header, birth_dates)))
        for person in session.attendees:
            cells: list[str | Text] = [
                "",
                Text(f"   {person.last_name}, {person.first_name}"),
                tr.short_date(person.birth_date) if person.birth_date else "",
                status_cell(person.status, tr),
                tr.time(person.checked_in_at) if person.checked_in_at else "",
            ]
            rows.append((person.booking_id, _keep(cells, birth_dates)))
    return rows


def _keep(cells: Sequence[C], birth_dates: bool) -> tuple[C, ...]:
    """One item per column of :data:`COLUMNS`, the birth date's only with ``birth_dates``."""
    return tuple(cells) if birth_dates else (*cells[:BORN_COLUMN], *cells[BORN_COLUMN + 1 :])


def now_row(sessions: list[DaySession], now: dt.datetime) -> int:
    """The row of the first session not over at ``now`` (its header); the last session's header
    when all are over."""
    row = 0
    last = 0
    for session in sessions:
        if session.ends_at > now:
            return row
        last = row
        row += 1 + len(session.attendees)
    return last


def fit(cell: str | Text, width: int) -> str | Text:
    """``cell`` cut to ``width`` cells with an ellipsis when it is wider."""
    if _cells(cell) <= width:
        return cell
    text = cell.copy() if isinstance(cell, Text) else Text(cell)
    text.truncate(width, overflow="ellipsis")
    return text


class DayTable(DataTable[str | Text]):
    """The day's sessions and who is booked in them; the cursor stays on its row across
    reloads, and the columns follow the terminal's width."""

    def __init__(self, tr: Translator, *, birth_dates: bool, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._tr = tr
        self._columns = _keep(COLUMNS, birth_dates)
        self._birth_dates = birth_dates
        self._rows: list[Row] = []
        self._width = 0
        self._sessions: list[DaySession] = []
        self.add_columns(*(tr(label) for label in self._columns))

    def show(self, sessions: list[DaySession], *, at: int | None = None) -> None:
        """Show ``sessions`` (nothing is redrawn when the rows and the width did not change);
        ``at``: a row to bring to the top with the cursor on it (the current time's session)."""
        self._sessions = sessions
        rows = day_rows(sessions, self._tr, birth_dates=self._birth_dates)
        width = self._available()
        if rows == self._rows and width == self._width and at is None:
            return
        self._rows, self._width = rows, width
        selected = self.selected_key()
        self.clear(columns=True)
        labels = [self._tr(label) for label in self._columns]
        # Widths measured here, not by the table: it measures new rows only once idle, and if
        # it drew them before (a busy box), Textual keeps the lines it drew at the old widths.
        widths = [
            max([cell_len(label), *(_cells(cells[index]) for _, cells in rows)])
            for index, label in enumerate(labels)
        ]
        # Each column has a cell of padding on both sides.
        others = sum(w + 2 for i, w in enumerate(widths) if i != NAME_COLUMN) + 2
        widths[NAME_COLUMN] = max(MIN_NAME, min(widths[NAME_COLUMN], width - others))
        for label, column_width in zip(labels, widths, strict=True):
            self.add_column(label, width=column_width)
        for key, cells in rows:
            fitted = list(cells)
            fitted[NAME_COLUMN] = fit(cells[NAME_COLUMN], widths[NAME_COLUMN])
            self.add_row(*fitted, key=key)
        keys = [key for key, _ in rows]
        if at is not None and rows:
            row = min(at, len(rows) - 1)
            self.move_cursor(row=row, animate=False)
            self.call_after_refresh(self.scroll_to, y=row, animate=False)
        elif selected in keys:
            self.move_cursor(row=keys.index(selected), animate=False)

    def _available(self) -> int:
        """The width the columns may take: the table's, less its scroll bar."""
        width = self.size.width or self.app.size.width
        return width - self.styles.scrollbar_size_vertical

    def on_resize(self, event: events.Resize) -> None:
        """Columns sized again to the new width."""
        if self._rows and self._available() != self._width:
            self.show(self._sessions)

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
