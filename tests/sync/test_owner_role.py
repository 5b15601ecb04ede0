"""``kiosk central init`` run by an owner that is no superuser, as a hospital would set a centre
up: the owner takes what ``sync_horizon()`` needs to end a kiosk's transaction that holds every
site's sync back, or, when it may not, init says in one sentence what a superuser must grant."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from kiosk.db.engine import make_engine
from sync import central
from tests.commands import run_kiosk
from tests.postgres import HOST_URL, admin_connection, create_database, drop_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def owned(kiosk_role: Callable[[str], str]) -> Iterator[Callable[[str], str]]:
    """A database owned by a new login role with the given options; its URL as that role."""
    made: list[str] = []

    def make(options: str) -> str:
        role = kiosk_role("owner")
        url = create_database("owned")
        with admin_connection() as admin:
            admin.execute(f'CREATE ROLE "{role}" LOGIN {options}')
            admin.execute(f'ALTER DATABASE "{url.rsplit("/", 1)[1]}" OWNER TO "{role}"')
        made.append(url)
        return url.replace(HOST_URL, HOST_URL.replace("postgres@", f"{role}@"))

    yield make
    for url in made:
        drop_database(url)


def test_an_owner_that_may_grant_roles_takes_what_the_horizon_needs(
    owned: Callable[[str], str],
) -> None:
    url = owned("CREATEROLE")
    engine = make_engine(url)
    try:
        central.init(engine)
        with engine.connect() as conn:
            held = conn.execute(
                text(
                    "SELECT pg_has_role('pg_signal_backend', 'USAGE'), "
                    "pg_has_role('pg_read_all_stats', 'USAGE'), sync_horizon() >= 0"
                )
            ).one()
    finally:
        engine.dispose()
    assert tuple(held) == (True, True, True)


def test_an_owner_that_may_not_is_told_in_one_sentence(
    owned: Callable[[str], str], tmp_path: Path
) -> None:
    url = owned("")
    done = run_kiosk(tmp_path, "central", "init", KIOSK_CENTRAL_URL=url)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0
    assert "GRANT pg_read_all_stats, pg_signal_backend TO the owner" in done.stderr
