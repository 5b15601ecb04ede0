"""Loaded at start-up by every Python process of a test run under faketime: the root conftest
puts this folder on PYTHONPATH for such a run (and only then). It gives ``time.sleep`` a way to
sleep that libfaketime does not break.

The run leaves the monotonic clock alone (FAKETIME_DONT_FAKE_MONOTONIC=1, see the root
conftest), but libfaketime 0.9.10 (Debian 12) still shifts the absolute CLOCK_MONOTONIC deadline
of clock_nanosleep as if that clock were faked; the result is invalid, and Python's time.sleep,
which sleeps until such a deadline, fails with EINVAL. Later libfaketime versions leave the
deadline untouched. A select() timeout is relative, so it is passed on as it is.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import operator
import select
import sys
import time
from pathlib import Path
from typing import SupportsIndex


def _sleep(seconds: float | SupportsIndex) -> None:
    """``time.sleep``, through select(): it resumes after a signal as time.sleep does."""
    length = float(seconds) if isinstance(seconds, float) else float(operator.index(seconds))
    if length < 0:
        raise ValueError("sleep length must be non-negative")
    select.select([], [], [], length)


time.sleep = _sleep

# A machine's own sitecustomize (Debian ships one) still runs, after this one.
_here = Path(__file__).resolve().parent
_spec = importlib.machinery.PathFinder.find_spec(
    "sitecustomize", [p for p in sys.path if Path(p or ".").resolve() != _here]
)
if _spec is not None and _spec.loader is not None:
    _spec.loader.exec_module(importlib.util.module_from_spec(_spec))
