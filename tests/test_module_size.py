"""No module of the application over 400 lines of code (the statements per function are ruff's
PLR0915, ``max-statements = 60`` in pyproject.toml)."""

from __future__ import annotations

import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400
PACKAGES = ("kiosk", "sync", "devices")

# The one list of modules allowed over the limit, each until it is split; an entry for a module
# that fits again fails the test, so the list only shrinks.
SPLIT_PENDING: frozenset[str] = frozenset()
_NOT_CODE = frozenset(
    {
        tokenize.COMMENT,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENCODING,
        tokenize.ENDMARKER,
    }
)


def lines_of_code(path: Path) -> int:
    """The lines of ``path`` that hold code or a docstring: not blank, not only a comment."""
    lines = path.read_text(encoding="utf-8").splitlines()
    numbers: set[int] = set()
    with path.open("rb") as source:
        for token in tokenize.tokenize(source.readline):
            if token.type not in _NOT_CODE:
                numbers.update(range(token.start[0], token.end[0] + 1))
    return sum(1 for number in numbers if lines[number - 1].strip())


def _sizes() -> dict[str, int]:
    return {
        path.relative_to(ROOT).as_posix(): lines_of_code(path)
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def test_no_module_over_the_limit() -> None:
    sizes = _sizes()
    over = {name: size for name, size in sizes.items() if size > MAX_LINES}
    unexpected = {name: size for name, size in over.items() if name not in SPLIT_PENDING}
    assert unexpected == {}, f"modules over {MAX_LINES} lines of code, split them: {unexpected}"
    fitting = sorted(name for name in SPLIT_PENDING if sizes.get(name, 0) <= MAX_LINES)
    assert fitting == [], f"split already (or gone): remove from SPLIT_PENDING: {fitting}"


def test_lines_of_code_leave_out_blanks_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "sample.py"
    path.write_text(
        '"""A docstring\n\nover three lines."""\n\n# a comment\nx = 1  # counted\n\n'
        "def f() -> None:\n    # why\n    return None\n",
        encoding="utf-8",
    )
    assert lines_of_code(path) == 5
