"""What staff's tools (the command line) read and do on a whole database.

Each function takes a :class:`~kiosk.domain.context.KioskContext` and opens, commits and closes
its own session, so a caller never holds one (and imports no SQLAlchemy).
"""

from __future__ import annotations

import datetime as dt

from kiosk.domain import alerts
from kiosk.domain.context import KioskContext
from kiosk.domain.today import DaySession, day_view


def day_of(context: KioskContext, day: dt.date, *, every_site: bool = False) -> list[DaySession]:
    """The sessions of ``day`` at the context's site (at every site with ``every_site``: the
    centre's view), by start time, each patient's status as of the context's clock."""
    with context.sessions() as db:
        return day_view(
            db,
            site_id=None if every_site else context.settings.site_id,
            day=day,
            now=context.clock.now(),
            programmes=context.programmes,
            window=context.settings.checkin,
        )


def open_alerts_of(context: KioskContext, *, limit: int = 1000) -> list[alerts.AlertView]:
    """The unresolved alerts of the context's site, newest first."""
    with context.sessions() as db:
        return alerts.open_alerts(db, site_id=context.settings.site_id, limit=limit)


def resolve_alert(context: KioskContext, alert_id: str, *, actor: str, resolution: str) -> str:
    """Close an open alert saying who and how, and commit; returns its id.

    Raises :class:`kiosk.domain.alerts.AlertError` for an alert that is unknown or closed.
    """
    with context.sessions() as db, db.begin():
        return alerts.resolve(
            db, alert_id, now=context.clock.now(), actor=actor, resolution=resolution
        ).id
