"""The one way from the screens to the data: read models and actions, nothing else.

Every screen reaches the database through :class:`KioskFacade`: the patient's check-in and
ticket, reception's day, search and actions, the technician's database and sync state. The
screens never open a session, never see the :class:`~kiosk.domain.context.KioskContext` or the
sessionmaker, and import neither SQLAlchemy nor ``sync``; the facade is where those come in.

Opening the database needs SQLAlchemy's ORM, Alembic and the models (about a third of a second of
imports) and the migrations check; drawing a QR code needs ``qrcode`` and Pillow. The home screen
needs none of it: the app paints first and then :meth:`kiosk.ui.services.KioskServices.load`
imports this module in a thread worker. What only staff use (sync's state, reception's actions)
is imported when first asked for. Every method blocks: call them in thread workers.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from devices.eid.identity import Identity
from devices.printer.interface import TicketPrinter
from kiosk.core.clock import Clock, local_day_bounds
from kiosk.core.config import Settings
from kiosk.core.i18n import Translator
from kiosk.core.writing import write_whole
from kiosk.db.files import sqlite_path
from kiosk.db.health import DatabaseHealth, database_health
from kiosk.domain import alerts
from kiosk.domain.alerts import AlertView, DueToday, due_today, open_alerts
from kiosk.domain.attendance import DayClosed, DayPreview
from kiosk.domain.checkin import IdentityEvidence
from kiosk.domain.context import KioskContext, open_context, redacted_url
from kiosk.domain.day_csv import attendance_csv
from kiosk.domain.language_choice import LanguageChoices
from kiosk.domain.next_session import NextWindow, next_checkin_window
from kiosk.domain.outcomes import CheckinResult
from kiosk.domain.parking.printing import PrintOutcome, print_ticket
from kiosk.domain.parking.qr import screen_text
from kiosk.domain.parking.unprinted import UnprintedTicket, unprinted_tickets
from kiosk.domain.patient_search import PatientMatch, search_patients
from kiosk.domain.today import DaySession, day_view
from kiosk.ui import result_text
from kiosk.ui.result_text import ResultText

if TYPE_CHECKING:
    from sync.api import SyncStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReceptionDay:
    """What the reception screen shows of one day: its sessions, the open alerts, the test
    moments and consultations due."""

    sessions: list[DaySession]
    alerts: list[AlertView]
    due: list[DueToday]
    unprinted: list[UnprintedTicket] = field(default_factory=list)
    """The day's tickets a printer fault left unprinted (reception reprints them)."""


@dataclass(frozen=True)
class Reprinted:
    """How a reprint went: the ticket's number and the print's outcome, or why there was
    none."""

    number: int = 0
    outcome: PrintOutcome | None = None
    refusal: Literal["", "malformed", "unknown", "database"] = ""
    """``malformed``: no parking code; ``unknown``: no ticket of this site has it;
    ``database``: the tickets' database could not be used."""


@dataclass(frozen=True)
class BoxState:
    """The database side of the technician screen."""

    database: str
    """The local database as it may be shown: a SQLite file by its name (the folder is in the
    configuration), others without password."""
    health: DatabaseHealth
    sync: SyncStatus | None
    """The sync state; None when it could not be read."""


class KioskFacade:
    """Read models and actions on one open database."""

    def __init__(self, context: KioskContext) -> None:
        self._context = context

    @classmethod
    def open(cls, settings: Settings, clock: Clock, *, url: str | None = None) -> KioskFacade:
        """Open the local database (or ``url``), migrated to the newest schema."""
        return cls(open_context(settings, url=url, clock=clock))

    @property
    def settings(self) -> Settings:
        """The settings the database was opened with."""
        return self._context.settings

    def close(self) -> None:
        """Release the database connections."""
        self._context.close()

    # -- the patient --------------------------------------------------------------------------

    def check_in(self, identity: Identity) -> CheckinResult:
        """Check in the holder of a card that was read, with their language when known: the one
        they last chose at this kiosk, else the schedule's."""
        engine = self._context.checkin_engine()
        result = engine.check_in(IdentityEvidence.from_card(identity))
        chosen = self.languages.language_of(result.patient_id)
        return replace(result, language=chosen) if chosen else result

    @property
    def languages(self) -> LanguageChoices:
        """The patients' language choices at this kiosk."""
        return LanguageChoices(self.settings.data_dir)

    def remember_language(self, result: CheckinResult, language: str) -> None:
        """The patient of ``result`` chose ``language`` at the kiosk: use it next time too."""
        if result.patient_id:
            self.languages.remember(result.patient_id, language)

    def describe(self, result: CheckinResult, tr: Translator) -> ResultText:
        """The result screen's sentences, with the parking ticket's QR code drawn."""
        text = result_text.for_result(result, tr)
        return replace(text, qr_text=screen_text(text.qr_payload)) if text.qr_payload else text

    def print_ticket(
        self, printer: TicketPrinter, ticket_id: str, *, language: str | None = None
    ) -> PrintOutcome:
        """Print a parking ticket (in the patient's language) and record how it went."""
        context = self._context
        return print_ticket(
            context.sessions,
            printer,
            ticket_id,
            settings=context.settings,
            clock=context.clock,
            language=language,
        )

    def next_checkin_window(self, after: dt.datetime) -> NextWindow | None:
        """The check-in window of the next booked session, and who is booked (simulation)."""
        context = self._context
        with context.sessions() as db:
            return next_checkin_window(
                db, site_id=context.settings.site_id, after=after, window=context.settings.checkin
            )

    # -- reception ----------------------------------------------------------------------------

    def reception_day(self, day: dt.date) -> ReceptionDay:
        """The sessions of ``day`` at this site with who is where, the open alerts, and the
        test moments and consultations of that day."""
        context = self._context
        settings = context.settings
        with context.sessions() as db:
            return ReceptionDay(
                sessions=day_view(
                    db,
                    site_id=settings.site_id,
                    day=day,
                    now=context.clock.now(),
                    programmes=context.programmes,
                    window=settings.checkin,
                ),
                alerts=open_alerts(db, site_id=settings.site_id),
                due=due_today(db, site_id=settings.site_id, day=day, programmes=context.programmes),
                unprinted=unprinted_tickets(
                    db,
                    site_id=settings.site_id,
                    since=local_day_bounds(day)[0],
                    keys=settings.parking.keys,
                ),
            )

    def reprint(self, printer: TicketPrinter, code: str) -> Reprinted:
        """Print the ticket ``code`` (a short code or a QR payload) names again."""
        # Imported when reception reprints: the desk's actions open a database of their own.
        from kiosk.domain.parking.code import MalformedCode
        from kiosk.domain.parking.desk import NoSuchTicket, TicketDatabaseError, reprint

        try:
            number, outcome = reprint(self.settings, code, printer, clock=self._context.clock)
        except MalformedCode:
            return Reprinted(refusal="malformed")
        except NoSuchTicket:
            return Reprinted(refusal="unknown")
        except TicketDatabaseError as exc:
            logger.error("reprinting a ticket failed: %s", exc)
            return Reprinted(refusal="database")
        return Reprinted(number, outcome)

    def search_patients(self, name: str, birth_date: dt.date | None) -> list[PatientMatch]:
        """This site's patients by name words and birth date (manual check-in)."""
        with self._context.sessions() as db:
            return search_patients(
                db, name=name, birth_date=birth_date, site_id=self.settings.site_id
            )

    def check_in_by_hand(self, patient_id: str) -> CheckinResult:
        """Reception checks in a patient who forgot the card: the kiosk's rules, noted so."""
        engine = self._context.checkin_engine()
        return engine.check_in_patient(patient_id, actor="reception", note="card forgotten")

    def perform(
        self,
        action: str,
        target: str,
        reason: str,
        tr: Translator,
        *,
        called_at: dt.datetime | None = None,
    ) -> str:
        """Carry out reception's ``action`` (a name of
        :data:`~kiosk.ui.reception_actions.RECEPTION_ACTIONS`) on ``target`` with ``reason``
        (and for a cancellation when the patient called, None: now); answers what was done, or
        raises :class:`~kiosk.domain.attendance.AttendanceError`."""
        # Imported when reception acts, not when the kiosk opens its database (Babel's numbers).
        from kiosk.ui.reception_actions import RECEPTION_ACTIONS, Answer

        answer = Answer(reason, called_at)
        return RECEPTION_ACTIONS[action].run(self._context.attendance(), target, answer, tr)

    def preview_close_day(self, day: dt.date) -> DayPreview:
        """What closing ``day`` would do now."""
        return self._context.attendance().preview_close_day(day)

    def close_day(self, day: dt.date) -> DayClosed:
        """Close ``day``'s ended sessions: absences, and the stops they cause."""
        return self._context.attendance().close_day(day)

    def export_day(self, sessions: list[DaySession], day: dt.date, *, language: str) -> Path:
        """Write ``day``'s sessions as CSV into the data directory; answers the file."""
        settings = self.settings
        folder = settings.data_dir / "exports"
        path = folder / f"attendance-{settings.site_id}-{day.isoformat()}.csv"
        folder.mkdir(parents=True, exist_ok=True)
        # Names and birth dates: staff only (0600); a full disk keeps the previous export.
        write_whole(path, attendance_csv(sessions, language=language), mode=0o600)
        return path

    def resolve_alert(self, alert_id: str, resolution: str, *, actor: str = "reception") -> None:
        """Close an open alert, saying how (raises :class:`~kiosk.domain.alerts.AlertError`
        when it is no longer open)."""
        context = self._context
        with context.sessions() as db, db.begin():
            alerts.resolve(
                db, alert_id, now=context.clock.now(), actor=actor, resolution=resolution
            )

    # -- the technician -----------------------------------------------------------------------

    def box_state(self) -> BoxState:
        """Whether the database answers, and the sync state when it does (never raises)."""
        # Imported when the technician looks: sync brings the PostgreSQL driver, which the
        # kiosk's first minutes (and its memory) do without.
        from sync.api import sync_status

        context = self._context
        url = context.settings.local_url
        path = sqlite_path(url)
        database = f"SQLite {path.name}" if path else redacted_url(url)
        health = database_health(context.sessions)
        sync: SyncStatus | None = None
        if health.reachable:
            try:
                with context.sessions() as db:
                    sync = sync_status(db, context.clock.now())
            except Exception as exc:  # the state is shown as unknown; the screen stays up
                logger.warning("could not read the sync state: %s", type(exc).__name__)
        return BoxState(database, health, sync)
