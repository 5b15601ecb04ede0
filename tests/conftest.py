"""What every test of the suite shares: an environment without the machine's kiosk settings,
the PostgreSQL fixtures, and a shared server left as the run found it.

The kiosk reads ``KIOSK_*`` variables over its configuration file (``KIOSK_DATA_DIR``,
``KIOSK_CONFIG``, ``KIOSK_CENTRAL_URL``...). A technician's shell or a box may have them set;
a test must neither obey them nor write where they point, so they are removed for the whole
session, before any test module is imported, and put back afterwards.

Under ``faketime`` (libfaketime) the suite runs with the wall clock moved, to show that no test
depends on the day or the hour; see :func:`_real_monotonic_clock` for the one setting it needs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import run_options

# The PostgreSQL fixtures of tests/postgres.py, for every test.
pytest_plugins = ("tests.postgres",)

_MACHINE_KIOSK_ENV: dict[str, str] = {}
FAKETIME_SITE = Path(__file__).resolve().parent / "faketime_site"


def pytest_addoption(parser: pytest.Parser) -> None:
    """The suite's own knobs are options, never ``KIOSK_*`` variables (those are removed)."""
    parser.addoption(
        "--fuzz-examples",
        type=int,
        default=0,
        help="examples per fuzz test (card parsers, importers; default: their normal run)",
    )


def _real_monotonic_clock(config: pytest.Config) -> None:
    """Under libfaketime, run again with the monotonic clock left alone.

    libfaketime moves CLOCK_MONOTONIC along with the wall clock by default, but it does not
    intercept sem_clockwait, which Python 3.11 uses for every timed wait (``lock.acquire(timeout=
    2)``, ``queue.get(timeout=...)``, ``Event.wait``): the deadline is computed on the moved
    clock and the kernel waits on the real one, so a wait under ``faketime -f +40d`` lasts 40
    days. Only the wall clock matters to the kiosk (its Clock, "today", SQLite's now), so the
    run starts again with FAKETIME_DONT_FAKE_MONOTONIC=1, which libfaketime reads when a
    process starts, and with ``faketime_site/`` on PYTHONPATH, which mends time.sleep in that
    mode (see its sitecustomize) for this process and every Python process it starts.
    """
    if "faketime" not in os.environ.get("LD_PRELOAD", ""):
        return
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if os.environ.get("FAKETIME_DONT_FAKE_MONOTONIC") == "1" and str(FAKETIME_SITE) in paths:
        return
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        capture.stop_global_capturing()  # the new process must write to the real stdout
    print("faketime: running again with the monotonic clock left alone", file=sys.stderr)
    sys.stderr.flush()
    sys.stdout.flush()
    env = {
        **os.environ,
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "PYTHONPATH": os.pathsep.join([str(FAKETIME_SITE), *paths]),
    }
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Take every ``KIOSK_*`` variable out of the environment for the session."""
    _real_monotonic_clock(config)
    for name in [name for name in os.environ if name.startswith("KIOSK_")]:
        _MACHINE_KIOSK_ENV[name] = os.environ.pop(name)
    run_options.fuzz_examples = config.getoption("--fuzz-examples")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Give the process its environment back (matters when pytest runs in-process)."""
    os.environ.update(_MACHINE_KIOSK_ENV)
    _MACHINE_KIOSK_ENV.clear()


@pytest.fixture(scope="session", autouse=True)
def nothing_left_on_the_shared_postgres() -> Iterator[None]:
    """Fail the run if a database or role it made on the shared PostgreSQL is still there."""
    yield
    # Imported here: the plugin import above must come first, so pytest rewrites its asserts.
    from tests import postgres

    left = postgres.leftovers()
    if left:
        pytest.fail(f"the run left on the shared PostgreSQL: {', '.join(left)}")
