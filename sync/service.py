"""The long-running exchange: push then pull on a timer, backing off with jitter on failure.

The timer, not new check-ins, drives the rounds, so a queue left by an outage drains by itself.
After ``n`` failures in a row the next try waits a random time up to ``min(cap, base * 2**n)``
("full jitter"), so kiosks that lost the centre together do not all come back at the same second.
"""

from __future__ import annotations

import logging
import random
import threading
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
    """Delay before the next round."""

    interval_s: float = 15.0
    base_s: float = 2.0
    cap_s: float = 300.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, failures: int) -> float:
        """Seconds to wait after ``failures`` failed rounds in a row (0: healthy)."""
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
        self.deadline_s = deadline_s
        self.backoff = backoff or Backoff()

    def _guard(self, call: Callable[[], T]) -> T:
        if self.deadlines is None:
            return call()
        with self.deadlines.call(self.deadline_s):
            return call()

    def run_round(self) -> RoundReport:
        """Push everything pending, then pull; the outcome is recorded in the kiosk's state."""
        report = RoundReport()
        try:
            report.push = push(
                self.local,
                self.central,
                self.deadlines,
                site_id=self.site_id,
                kiosk_id=self.kiosk_id,
                clock=self.clock,
                deadline_s=self.deadline_s,
            )
            report.pull = pull(
                self.local, self.central, site_id=self.site_id, clock=self.clock, run=self._guard
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
        """Rounds until ``stop`` is set."""
        while not stop.is_set():
            self.run_round()
            stop.wait(self.backoff.delay(self.failures()))

    def close(self) -> None:
        """Release the central connections."""
        self.central.dispose()
