"""Kiosk screen speed with Pilot on the demo database (200 patients, a frozen Monday).

1. Card event to result screen painted: an ``IdentityRead`` event is posted the way the reader
   thread posts it; the clock stands ten minutes before the patient's session; the time runs
   until the result screen is shown and the app is idle (painted). Target: median <= 150 ms.
2. Cold start of ``kiosk run --simulate`` to the home screen painted, against a bare Textual app
   (one label) in the same run: each runs in a fresh interpreter on a pseudo-terminal (80x24)
   and the time runs until its text appears in the terminal's output. Target: <= 2x.
3. Memory (resident set) after 1 000 simulated check-ins within 10 % of after 10.

    .venv/bin/python bench/bench_ui.py [--taps 40] [--memory-taps 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import fcntl
import gc
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

from devices.eid.identity import Identity
from devices.eid.reader import CardInserted, CardRemoved, IdentityRead, ReaderEvent
from devices.eid.simulated import SimulatedReader
from devices.printer.file_printer import FileTicketPrinter
from kiosk.core.clock import BRUSSELS, SettableClock
from kiosk.core.config import ParkingSettings, Settings
from kiosk.domain import demo
from kiosk.domain.context import KioskContext, open_context
from kiosk.domain.today import Status, day_view
from kiosk.ui.app import KioskApp
from kiosk.ui.facade import KioskFacade
from kiosk.ui.factory import make_app
from kiosk.ui.messages import CardEvent
from kiosk.ui.screens.patient import PatientScreen

NOW = dt.datetime(2026, 3, 16, 7, 0, tzinfo=BRUSSELS)
READER = "bench"


def rss_kib() -> int:
    """This process's resident set size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def build(folder: Path) -> tuple[Settings, list[tuple[Identity, dt.datetime]]]:
    """The demo centre, and the identity of every patient expected today with the session start."""
    settings = Settings(
        source=None,
        data_dir=folder,
        local_url=f"sqlite:///{folder / 'kiosk.sqlite'}",
        lookup_key=bytes(range(32)),
        parking=ParkingSettings(signing_key="K1", keys={"K1": bytes(range(32, 64))}),
    )
    context = open_context(settings, clock=SettableClock(NOW, running=False), create=True)
    with context.sessions() as db, db.begin():
        summary = demo.generate(
            db, context.programmes, lookup_key=settings.lookup_key, now=NOW, patients=200
        )
    with context.sessions() as db:
        sessions = day_view(
            db,
            site_id=settings.site_id,
            day=NOW.date(),
            now=NOW,
            programmes=context.programmes,
            window=settings.checkin,
        )
    context.close()
    cards = demo.write_cards(summary.patients, folder / "cards").parent
    card_of = {
        p.patient_id: cards / f"card-{n:04d}.json" for n, p in enumerate(summary.patients, 1)
    }
    expected = [
        (a.patient_id, s.starts_at)
        for s in sessions
        for a in s.attendees
        if a.status == Status.EXPECTED
    ]
    return settings, [(read_card(card_of[pid]), start) for pid, start in expected]


def read_card(path: Path) -> Identity:
    """Read a virtual card once through the simulated reader (the bench times the UI only)."""
    reader = SimulatedReader()
    got: list[ReaderEvent] = []
    reader.subscribe(got.append)
    reader.start()
    reader.insert(path)
    deadline = time.monotonic() + 10
    while not any(isinstance(e, IdentityRead) for e in got) and time.monotonic() < deadline:
        time.sleep(0.01)
    reader.stop()
    return next(e.identity for e in got if isinstance(e, IdentityRead))


async def tap(app: KioskApp, screen: PatientScreen, identity: Identity) -> float:
    """Post one card's events; seconds from the identity event to the painted result."""
    from textual.pilot import Pilot

    pilot: Pilot[None] = Pilot(app)
    app.post_message(CardEvent(CardInserted(READER)))
    await pilot.pause()
    started = time.perf_counter()
    app.post_message(CardEvent(IdentityRead(READER, identity)))
    while screen.state != "result":
        await asyncio.sleep(0.001)
    await pilot.pause()  # idle again: the result is on screen
    elapsed = time.perf_counter() - started
    app.post_message(CardEvent(CardRemoved(READER)))
    await pilot.pause()
    return elapsed


async def latency(
    context: KioskContext, people: list[tuple[Identity, dt.datetime]], n: int
) -> list[float]:
    clock = context.clock
    assert isinstance(clock, SettableClock)
    app = make_app(
        context.settings,
        facade=KioskFacade(context),
        clock=clock,
        printer=FileTicketPrinter(context.settings.data_dir / "t"),
        cursor_blink=False,
    )
    times = []
    async with app.run_test(size=(80, 24)):
        screen = app.screen
        assert isinstance(screen, PatientScreen)
        for identity, start in people[:n]:
            clock.set(start - dt.timedelta(minutes=10))
            times.append(await tap(app, screen, identity))
    return times


async def memory(
    context: KioskContext, people: list[tuple[Identity, dt.datetime]], taps: int
) -> tuple[int, int]:
    clock = context.clock
    assert isinstance(clock, SettableClock)
    # No printer: the memory of the check-ins alone.
    settings = dataclasses.replace(context.settings, printer="none")
    app = make_app(settings, facade=KioskFacade(context), clock=clock, cursor_blink=False)
    after_10 = 0
    async with app.run_test(size=(80, 24)):
        screen = app.screen
        assert isinstance(screen, PatientScreen)
        for number in range(1, taps + 1):
            identity, start = people[number % len(people)]
            clock.set(start - dt.timedelta(minutes=10))
            await tap(app, screen, identity)
            if number == 10:
                gc.collect()
                after_10 = rss_kib()
        gc.collect()
        return after_10, rss_kib()


HOME_TEXT = b"e-ID"
"""In the home screen's prompt of both apps (Dutch, the default language, for the kiosk)."""
COLD_BARE = textwrap.dedent(
    """
    from textual.app import App
    from textual.widgets import Static

    class Bare(App):
        def compose(self):
            yield Static("Please insert your e-ID")

    Bare().run()
    """
)


def to_home(argv: Sequence[str], env: dict[str, str], timeout: float = 30.0) -> float:
    """Seconds from starting ``argv`` on an 80x24 pseudo-terminal until the home text is drawn."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    started = time.perf_counter()
    child = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    seen = b""
    try:
        while HOME_TEXT not in seen:
            left = started + timeout - time.perf_counter()
            if left <= 0 or not select.select([master], [], [], left)[0]:
                raise RuntimeError(f"{argv[-1]}: no home screen within {timeout} s")
            try:
                seen += os.read(master, 65536)
            except OSError:  # the terminal closed: the program ended
                raise RuntimeError(f"{argv[-1]} ended: {seen[-300:]!r}") from None
        return time.perf_counter() - started
    finally:
        child.send_signal(signal.SIGTERM)
        stop_by = time.perf_counter() + 10
        while child.poll() is None and time.perf_counter() < stop_by:
            # Keep reading: a child blocked on a full terminal cannot stop.
            if select.select([master], [], [], 0.05)[0]:
                try:
                    os.read(master, 65536)
                except OSError:
                    break
        if child.poll() is None:
            child.kill()
        child.wait()
        os.close(master)


def cold(argv: Sequence[str], env: dict[str, str], runs: int = 5) -> float:
    """The median of ``runs`` cold starts to the home screen."""
    return statistics.median(to_home(argv, env) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--taps", type=int, default=40)
    parser.add_argument("--memory-taps", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings, people = build(folder)
        print(f"demo: 200 patients, {len(people)} expected today")

        context = open_context(settings, clock=SettableClock(NOW, running=False))
        times = asyncio.run(latency(context, people, args.taps))
        context.close()
        median = statistics.median(times) * 1000
        print(
            f"card event -> result painted: median {median:.1f} ms, "
            f"max {max(times) * 1000:.1f} ms over {len(times)} taps (target <= 150 ms)"
        )

        cold_dir = folder / "cold"
        env = {k: v for k, v in os.environ.items() if k != "KIOSK_CONFIG"}
        env["KIOSK_DATA_DIR"] = str(cold_dir)
        env["TERM"] = "xterm-256color"
        subprocess.run(
            [sys.executable, "-m", "kiosk.cli.main", "demo-data", "--patients", "200"],
            env=env,
            check=True,
            capture_output=True,
        )
        bare = cold([sys.executable, "-c", COLD_BARE], env)
        kiosk = cold([sys.executable, "-m", "kiosk.cli.main", "run", "--simulate"], env)
        print(
            f"cold start to home screen: kiosk run --simulate {kiosk * 1000:.0f} ms, "
            f"bare Textual app {bare * 1000:.0f} ms, ratio {kiosk / bare:.2f} (target <= 2)"
        )

        context = open_context(settings, clock=SettableClock(NOW, running=False))
        after_10, after_n = asyncio.run(memory(context, people, args.memory_taps))
        context.close()
        growth = (after_n - after_10) / after_10 * 100
        print(
            f"memory: {after_10 / 1024:.1f} MiB after 10 check-ins, {after_n / 1024:.1f} MiB "
            f"after {args.memory_taps} ({growth:+.1f} %, target within 10 %)"
        )


if __name__ == "__main__":
    main()
