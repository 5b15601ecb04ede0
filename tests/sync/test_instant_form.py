"""The centre's SQL takes exactly the instants that Python takes: both read
``sync.kinds.ISO_INSTANT``, but in two regular expression engines (Python's ``$`` also matches
before a final newline; PostgreSQL's does not), and the calendar is checked apart on each side
(string functions in SQL, ``fromisoformat`` in Python). Compared on near misses of every part
and on generated text."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.kinds import FieldForm, Refused, decode_field
from sync.push_sql import SqlField
from tests.postgres import ADMIN_DSN

pytestmark = pytest.mark.postgres
FIELD = FieldForm("at", "instant", None, True)
GOOD = "2026-03-02T07:05:09+01:00"


def _python(value: str) -> bool:
    try:
        decode_field(FIELD, {"at": value})
    except Refused:
        return False
    return True


@pytest.fixture(scope="module")
def server() -> Iterator[psycopg.Connection[tuple[bool]]]:
    with psycopg.connect(ADMIN_DSN) as conn:
        yield conn


def _sql(conn: psycopg.Connection[tuple[bool]], values: list[str]) -> list[bool]:
    expression = SqlField(FIELD).regular()
    rows = conn.execute(
        f"SELECT {expression} FROM unnest(%s::text[]) WITH ORDINALITY AS v(at, n), "
        "LATERAL (SELECT jsonb_build_object('at', v.at) AS p) x ORDER BY v.n",
        (values,),
    ).fetchall()
    return [bool(taken) for (taken,) in rows]


def _near_misses() -> list[str]:
    """Each character of good instants replaced by every character that could matter, cut
    short and lengthened; the calendar's edges."""
    alphabet = "0123456789-+:.TZ tx\n/"
    goods = [GOOD, "2026-03-02T07:05:09.123-15:59", "1999-12-31T23:59:59.123456+00:00"]
    found = set(goods)
    for good in goods:
        for n in range(len(good)):
            found.update(good[:n] + c + good[n + 1 :] for c in alphabet)
            found.add(good[:n] + good[n + 1 :])
            found.add(good[:n])
        found.update(good + c for c in alphabet)
    for month in range(0, 14):
        for day in (0, 28, 29, 30, 31, 32):
            for year in (1900, 2000, 2024, 2026):
                found.add(f"{year}-{month:02d}-{day:02d}T00:00:00+00:00")
    found.update(["", "0999-01-01T00:00:00+00:00", "2026-03-02T24:00:00+00:00"])
    found.update(
        ["2026-03-02T07:05:60+00:00", "2026-03-02T07:60:00+00:00", "２026-03-02T07:05:09+01:00"]
    )
    return sorted(found)


def test_near_misses_agree(server: psycopg.Connection[tuple[bool]]) -> None:
    values = _near_misses()
    taken = _sql(server, values)
    differ = [v for v, t in zip(values, taken, strict=True) if t != _python(v)]
    assert differ == []
    assert sum(taken) > 50 and not all(taken)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.text(alphabet="0123456789-+:.T", min_size=18, max_size=34)
        | st.from_regex(
            r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,7})?[+-][0-9]{2}:[0-9]{2}\Z"
        ),
        min_size=1,
        max_size=40,
    )
)
def test_generated_text_agrees(server: psycopg.Connection[tuple[bool]], values: list[str]) -> None:
    assert _sql(server, values) == [_python(v) for v in values]
