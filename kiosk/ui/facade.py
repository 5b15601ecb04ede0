"""The database side of the kiosk screen, loaded after the home screen is painted.

Opening the database needs SQLAlchemy's ORM, Alembic and the models (about a third of a second of
imports) and the migrations check; drawing a QR code needs ``qrcode`` and Pillow. The home screen
needs none of it. The app paints first and
then :meth:`kiosk.ui.services.KioskServices.load` imports this module in a thread worker: it is
the one place where the heavy modules come in. Everything here runs in thread workers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from devices.eid.identity import Identity
from devices.printer.interface import TicketPrinter
from kiosk.core.clock import Clock
from kiosk.core.config import Settings
from kiosk.core.i18n import Translator
from kiosk.domain.checkin import IdentityEvidence
from kiosk.domain.context import KioskContext, open_context
from kiosk.domain.language_choice import LanguageChoices
from kiosk.domain.next_session import NextWindow, next_checkin_window
from kiosk.domain.outcomes import CheckinResult
from kiosk.domain.parking.printing import PrintOutcome, print_ticket, printer_from_settings
from kiosk.domain.parking.qr import screen_text
from kiosk.ui import result_text
from kiosk.ui.result_text import ResultText


@dataclass(frozen=True)
class Domain:
    """The open context, the configured printer, and the calls the patient screen makes."""

    context: KioskContext
    printer: TicketPrinter | None = None

    @classmethod
    def open(
        cls,
        settings: Settings,
        clock: Clock,
        *,
        context: KioskContext | None = None,
        make_printer: bool = False,
    ) -> Domain:
        """Open the local database (migrated) unless ``context`` is given; make the printer."""
        printer = printer_from_settings(settings) if make_printer else None
        return cls(context or open_context(settings, clock=clock), printer)

    def check_in(self, identity: Identity) -> CheckinResult:
        """Check in the holder of a card that was read; with their language when known."""
        result = self.context.checkin_engine().check_in(IdentityEvidence.from_card(identity))
        language = self.languages.language_of(result.patient_id)
        return replace(result, language=language) if language else result

    @property
    def languages(self) -> LanguageChoices:
        """The patients' language choices at this kiosk."""
        return LanguageChoices(self.context.settings.data_dir)

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
        context = self.context
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
        context = self.context
        with context.sessions() as db:
            return next_checkin_window(
                db,
                site_id=context.settings.site_id,
                after=after,
                window=context.settings.checkin,
            )
