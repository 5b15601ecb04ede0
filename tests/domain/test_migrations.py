"""Migrations: upgrade from empty, downgrade to nothing, upgrade again, on SQLite and PostgreSQL;
and the migrated schema is exactly what the models describe."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from kiosk.db import migrate
from kiosk.db.engine import make_engine
from kiosk.db.models import Base
from tests.postgres import temporary_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite'}")
        yield engine
        engine.dispose()
        return
    with temporary_database() as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade(engine: Engine) -> None:
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    assert tables(engine) == set(Base.metadata.tables)
    migrate.downgrade(engine, "base")
    assert tables(engine) == set()
    migrate.upgrade(engine)
    assert tables(engine) == set(Base.metadata.tables)


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    migrate.upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, Base.metadata) == []


def test_sqlite_connections_are_durable(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'd.sqlite'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        # 2 = FULL: a committed parking code survives a power cut.
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
