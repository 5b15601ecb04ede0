"""How long ``kiosk --version`` and ``kiosk --help`` take, as a technician sees it: a whole process.

Each command runs many times as a process of its own (after one warm-up run, so the files are in
the page cache) next to the baselines of the same run: ``python -c pass`` (the interpreter's own
start) and the parser built from every command module, which is what ``--help`` did before the
command table (``kiosk.cli.main.COMMANDS``) answered it alone. Target: a median under 0.2 s.
Run: ``.venv/bin/python bench/bench_cli_start.py [RUNS]``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

KIOSK = str(Path(sys.prefix) / "bin" / "kiosk")
TARGET_S = 0.2
EVERY_MODULE = "from kiosk.cli.main import build_parser; build_parser(None).format_help()"


def timings(argv: list[str], runs: int) -> list[float]:
    """Wall-clock seconds of ``runs`` whole processes of ``argv`` (after one warm-up)."""
    subprocess.run(argv, capture_output=True, check=True)
    found = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        found.append(time.perf_counter() - start)
    return found


def main() -> int:
    """Print each command's figures and whether they meet the target (like the other benchmarks,
    a missed target is a figure to read, not a failure: ``make bench`` runs them all)."""
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "kiosk --version": [KIOSK, "--version"],
        "kiosk --help": [KIOSK, "--help"],
        "every command module (the old --help)": [sys.executable, "-c", EVERY_MODULE],
    }
    print(f"whole-process start, {runs} runs each (ms): median, min, max")
    medians = {}
    for name, argv in cases.items():
        found = timings(argv, runs)
        medians[name] = statistics.median(found)
        print(
            f"  {name:40} {medians[name] * 1000:7.1f} {min(found) * 1000:7.1f} "
            f"{max(found) * 1000:7.1f}"
        )
    interpreter = medians["python -c pass"]
    for name in ("kiosk --version", "kiosk --help"):
        over = medians[name] - interpreter
        ok = medians[name] < TARGET_S
        print(
            f"{name}: median {medians[name] * 1000:.1f} ms, {over * 1000:.1f} ms above the bare "
            f"interpreter; target < {TARGET_S * 1000:.0f} ms: {'met' if ok else 'NOT MET'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
