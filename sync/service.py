"""The long-running exchange: push then pull on a timer, woken early, backing off on failure.

A timer round pushes then pulls, so a queue left by an outage drains by itself. Between timer
rounds the service wakes early (:mod:`sync.wake`): a new event in the kiosk's outbox pushes at
once, a notification from a PostgreSQL centre pulls at once (at most one such pull per
``pull_gap_s``, so a busy site does not turn every kiosk into a constant reader). While the
centre's notifications arrive the timer is only the safety net and runs every
``listening_interval_s``; without them (a SQLite centre, a dropped listener) every ``interval_s``.

After ``n`` failures in a row the next try waits a random time up to ``min(cap, base * 2**n)``
("full jitter"), so kiosks that lost the centre together do not all come back at the same second;
wake-ups do not shorten that wait.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from kiosk.core.clock import Clock
from sync.connect import CALL_DEADLINE_S, Deadlines, central_engine
from sync.pull import PullReport, load_state, pull
from sync.push import PushReport, push
from sync.status import describe_error
from sync.wake import LISTENING, PULL, PUSH, CentreListener, OutboxWatch, Wakeup

log = logging.getLogger("sync")
T = TypeVar("T")


@dataclass
class RoundReport:
    """One round: what went up and came down, or the error."""

    push: PushReport | None = None
    pull: PullReport | None = None
    error: str = ""


@dataclass
class Backoff:
    """Delays before the next round, and how often the outbox is looked at.

    ``listening_interval_s`` is the timer while the centre's notifications arrive;
    ``pull_gap_s`` the least time between the starts of two pulls a notification woke."""

    interval_s: float = 15.0
    base_s: float = 2.0
    cap_s: float = 300.0
    listening_interval_s: float = 60.0
    pull_gap_s: float = 2.0
    outbox_poll_s: float = 0.1
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, failures: int) -> float:
        """Seconds to wait after ``failures`` failed rounds in a row (0: healthy, no listener)."""
        if failures == 0:
            return self.interval_s * self.rng.uniform(0.9, 1.1)
        return self.rng.uniform(0, min(self.cap_s, self.base_s * 2 ** min(failures, 30)))


class SyncService:
    """Push and pull between one kiosk database and the central database."""

    def __init__(
        self,
        local: sessionmaker[Session],
        central_url: str,
        *,
        site_id: str,
        kiosk_id: str,
        clock: Clock,
        deadline_s: float = CALL_DEADLINE_S,
        statement_timeout_ms: int = 20_000,
        backoff: Backoff | None = None,
    ) -> None:
        self.local = local
        self.central: Engine = central_engine(
            central_url, statement_timeout_ms=statement_timeout_ms
        )
        self.deadlines = (
            Deadlines(self.central) if self.central.dialect.name == "postgresql" else None
        )
        self.site_id, self.kiosk_id, self.clock = site_id, kiosk_id, clock
        self.central_url = central_url
        self.listener: CentreListener | None = None
        self.deadline_s = deadline_s
        self.backoff = backoff or Backoff()

    def _guard(self, call: Callable[[], T]) -> T:
        if self.deadlines is None:
            return call()
        with self.deadlines.call(self.deadline_s):
            return call()

    def run_round(self, *, push_events: bool = True, pull_rows: bool = True) -> RoundReport:
        """Push everything pending, then pull (or only one of them); the outcome is recorded
        in the kiosk's state."""
        report = RoundReport()
        try:
            if push_events:
                report.push = push(
                    self.local,
                    self.central,
                    self.deadlines,
                    site_id=self.site_id,
                    kiosk_id=self.kiosk_id,
                    clock=self.clock,
                    deadline_s=self.deadline_s,
                )
            if pull_rows:
                report.pull = pull(
                    self.local,
                    self.central,
                    site_id=self.site_id,
                    clock=self.clock,
                    run=self._guard,
                )
        except Exception as exc:
            report.error = describe_error(exc)
        self._record(report)
        return report

    def _record(self, report: RoundReport) -> None:
        now = self.clock.now()
        with self.local() as db, db.begin():
            state = load_state(db)
            if report.push is not None:
                state.last_push_at = now
            if report.error:
                state.failures += 1
                state.last_error, state.last_error_at = report.error, now
                log.warning("sync round failed (%d in a row): %s", state.failures, report.error)
            else:
                state.failures = 0
                state.last_success_at = now
            if report.push is not None and report.push.refused:
                log.warning(
                    "%d events refused by the centre and set aside", len(report.push.refused)
                )

    def failures(self) -> int:
        """Failed rounds in a row so far."""
        with self.local() as db, db.begin():
            return load_state(db).failures

    def run_forever(self, stop: threading.Event) -> None:
        """Rounds until ``stop`` is set: on the timer, and early when woken."""
        wake = Wakeup()
        watch = OutboxWatch(self.local, wake, stop, every_s=self.backoff.outbox_poll_s)
        self.listener = (
            CentreListener(
                self.central_url,
                site_id=self.site_id,
                wake=wake,
                stop=stop,
                reconnect_delay=self.backoff.delay,
            )
            if self.deadlines is not None
            else None
        )
        threads: list[threading.Thread] = [watch]
        if self.listener is not None:
            threads.append(self.listener)
        for thread in threads:
            thread.start()
        try:
            self._rounds(stop, wake)
        finally:
            for thread in threads:
                thread.join(timeout=5)

    def listening(self) -> bool:
        """Whether the centre's notifications reach this service now."""
        return self.listener is not None and self.listener.listening.is_set()

    def _rounds(self, stop: threading.Event, wake: Wakeup) -> None:
        pending: set[str] = set()
        last_pull = last_timer = -math.inf
        jitter = 1.0
        while not stop.is_set():
            now = time.monotonic()
            timer_round = now >= last_timer + self._interval() * jitter
            if timer_round:
                pending = {PUSH, PULL}
            pull_now = PULL in pending and (
                timer_round or now >= last_pull + self.backoff.pull_gap_s
            )
            if PUSH in pending or pull_now:
                report = self.run_round(push_events=PUSH in pending, pull_rows=pull_now)
                if report.error:
                    stop.wait(self.backoff.delay(self.failures()))
                    wake.wait(0)  # what came meanwhile goes in the next round, a whole one
                    continue
                if timer_round:
                    last_timer, jitter = now, self.backoff.rng.uniform(0.9, 1.1)
                pending.discard(PUSH)
                if pull_now:
                    pending.discard(PULL)
                    last_pull = now
            due = last_timer + self._interval() * jitter
            if PULL in pending:
                due = min(due, last_pull + self.backoff.pull_gap_s)
            pending |= wake.wait(due - time.monotonic()) - {LISTENING}

    def _interval(self) -> float:
        if self.listening():
            return self.backoff.listening_interval_s
        return self.backoff.interval_s

    def close(self) -> None:
        """Release the central connections."""
        self.central.dispose()
