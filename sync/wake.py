"""What wakes the sync service before its timer: a local commit, or a change at the centre.

The kiosk UI (``kiosk run``) and the sync service (``kiosk sync``) are separate processes, and
SQLite tells no one of a commit. :class:`OutboxWatch` therefore asks the kiosk's database for the
outbox's highest sequence number a few times a second: one read of an index's last entry, which
the UI's commits never wait for (WAL). ``PRAGMA data_version`` would be cheaper still but changes
on the sync service's own writes too, so every round would wake the next one. The domain knows
nothing of this: it writes its outbox as before.

:class:`CentreListener` holds one connection to a PostgreSQL centre that ``LISTEN``\\ s on the
site's channel (:mod:`sync.notify`) and wakes a pull on every notification. When the connection
drops, it says so (the service goes back to its short timer) and reconnects with the service's
backoff; once it listens again it wakes a pull for what it may have missed meanwhile.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from kiosk.db.models import OutboxEvent
from sync.connect import postgres_connect_args

log = logging.getLogger("sync")
PUSH, PULL = "push", "pull"
# Not a round: the listener came or went, so the timer's interval changed.
LISTENING = "listening"
# How long a listener waits for a notification before it looks at ``stop`` again.
LISTEN_SLICE_S = 0.5
LISTENER_NAME = "kiosk sync listener"


class Wakeup:
    """The reasons (:data:`PUSH`, :data:`PULL`) gathered since the service last looked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reasons: set[str] = set()
        self._event = threading.Event()

    def poke(self, reason: str) -> None:
        """Ask for a round of ``reason``; the waiting service wakes at once."""
        with self._lock:
            self._reasons.add(reason)
            self._event.set()

    def wait(self, timeout: float) -> set[str]:
        """The reasons gathered, after waiting up to ``timeout`` seconds for one (then cleared)."""
        self._event.wait(max(timeout, 0.0))
        with self._lock:
            reasons, self._reasons = self._reasons, set()
            self._event.clear()
        return reasons


def highest_outbox_seq(local: sessionmaker[Session]) -> int:
    """The highest sequence number in the kiosk's outbox (0 when empty)."""
    with local() as db:
        return int(db.scalar(select(func.max(OutboxEvent.seq))) or 0)


class OutboxWatch(threading.Thread):
    """Wakes a push when the outbox gained an event; wakes the service once more on ``stop``."""

    def __init__(
        self,
        local: sessionmaker[Session],
        wake: Wakeup,
        stop: threading.Event,
        *,
        every_s: float,
    ) -> None:
        super().__init__(name="outbox watch", daemon=True)
        self.local, self.wake, self.stop, self.every_s = local, wake, stop, every_s
        # Read now, before the service's first round: an event written after this moment wakes a
        # push, one written before is in that round.
        self.seen = highest_outbox_seq(local)

    def run(self) -> None:
        """Poll until ``stop``."""
        while not self.stop.wait(self.every_s):
            try:
                highest = highest_outbox_seq(self.local)
            except Exception as exc:  # a busy or damaged file: the round will say what it is
                log.debug("outbox watch: %s", exc.__class__.__name__)
                continue
            # Lower too: a restored database; a spare push costs nothing.
            if highest != self.seen:
                self.seen = highest
                self.wake.poke(PUSH)
        self.wake.poke(PUSH)


def libpq_conninfo(url: str) -> str:
    """The libpq URI of a SQLAlchemy PostgreSQL URL (its driver name left out)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class CentreListener(threading.Thread):
    """Listens on the site's channel of a PostgreSQL centre and wakes a pull on each change."""

    def __init__(
        self,
        central_url: str,
        *,
        site_id: str,
        wake: Wakeup,
        stop: threading.Event,
        reconnect_delay: Callable[[int], float],
    ) -> None:
        super().__init__(name="centre listener", daemon=True)
        self.conninfo = libpq_conninfo(central_url)
        self.site_id, self.wake, self.stop = site_id, wake, stop
        # Failed connections in a row -> seconds to wait (the service's Backoff.delay).
        self.reconnect_delay = reconnect_delay
        self.listening = threading.Event()

    def run(self) -> None:
        """Listen until ``stop``, reconnecting after each drop."""
        failures = 0
        while not self.stop.is_set():
            try:
                with psycopg.connect(
                    self.conninfo,
                    autocommit=True,
                    application_name=LISTENER_NAME,
                    **postgres_connect_args(),
                ) as conn:
                    channel = self._listen(conn)
                    if channel is None:
                        log.warning("the centre sends no wake-ups (run kiosk central init)")
                        return
                    failures = 0
                    log.info("listening for the centre's changes of site %s", self.site_id)
                    self._receive(conn)
            except psycopg.Error as exc:
                if self.listening.is_set():
                    log.warning("centre listener dropped (%s); the timer drives the pull", exc)
            if self.listening.is_set():
                self.listening.clear()
                self.wake.poke(LISTENING)
            failures += 1
            self.stop.wait(self.reconnect_delay(failures))

    def _listen(self, conn: psycopg.Connection[Any]) -> str | None:
        """LISTEN on the site's channel; None when the centre has no channels (an older one)."""
        row = conn.execute("SELECT to_regprocedure('kiosk_wake_channel(text)')").fetchone()
        if row is None or row[0] is None:
            return None
        row = conn.execute("SELECT kiosk_wake_channel(%s)", (self.site_id,)).fetchone()
        channel = str(row[0]) if row is not None and row[0] is not None else None
        if channel is None:
            return None
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        self.listening.set()
        # Whatever changed while no one listened.
        self.wake.poke(PULL)
        return channel

    def _receive(self, conn: psycopg.Connection[Any]) -> None:
        while not self.stop.is_set():
            for _notify in conn.notifies(timeout=LISTEN_SLICE_S, stop_after=1):
                self.wake.poke(PULL)
