"""Where a demo centre goes: room made for it in a database, then filled in one transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.db import migrate
from kiosk.db.engine import make_engine, session_factory
from kiosk.db.files import database_files, sqlite_path
from kiosk.db.models import Base, Patient, SyncCounter, SyncState
from kiosk.domain import demo
from kiosk.domain.context import KioskContext


class DemoTargetTaken(Exception):
    """A database is already there; ``replaceable`` when it is a SQLite file that may be removed
    (a server database that holds patients never is)."""

    def __init__(self, message: str, *, replaceable: bool) -> None:
        super().__init__(message)
        self.replaceable = replaceable


def make_room(url: str, *, if_empty: bool, replace: bool) -> str | None:
    """Make room for a demo database at ``url``: None when there is room (an existing SQLite file
    removed when ``replace``), or, with ``if_empty``, the sentence saying what is kept there.

    Raises :class:`DemoTargetTaken` for a database that is there and neither kept nor replaced.
    """
    path = sqlite_path(url)
    if path is not None:
        if not path.exists():
            return None
        if if_empty:
            # A damaged or empty file is no demo to keep: opening it (the header check) and
            # reading its revision (SQLite's own) refuse it, so `make run` stops here.
            engine = make_engine(url)
            try:
                migrate.current_revision(engine)
            finally:
                engine.dispose()
            return f"demo database already there: {path}"
        if not replace:
            raise DemoTargetTaken(f"{path} exists", replaceable=True)
        for file in database_files(path):
            file.unlink(missing_ok=True)
        return None
    engine = make_engine(url)
    try:
        if migrate.current_revision(engine) is None:
            return None
        with session_factory(engine)() as db:
            filled = db.scalar(select(func.count(Patient.id))) or 0
    finally:
        engine.dispose()
    if not filled:
        return None
    if if_empty:
        return "the central database already holds patients"
    raise DemoTargetTaken("the central database already holds patients", replaceable=False)


def fill(
    context: KioskContext, *, patients: int, seed: int, sites: Sequence[tuple[str, str]]
) -> demo.DemoSummary:
    """Generate a demo centre into the context's (migrated, empty) database and commit it."""
    with context.sessions() as db, db.begin():
        return demo.generate(
            db,
            context.programmes,
            lookup_key=context.settings.require_lookup_key(),
            now=context.clock.now(),
            patients=patients,
            sites=sites,
            seed=seed,
        )


def is_standalone_demo(db: Session) -> bool:
    """True for a kiosk database that holds patients but was never pulled from a centre.

    Only ``kiosk demo-data`` (without ``--central``) makes one: a kiosk's replica gets its
    patients from its first pull. Its rows were generated apart from any centre's (other ids
    for the same demo patients), so they cannot become that centre's replica.
    """
    pulled = db.scalar(select(func.count()).where(SyncState.last_pull_at.is_not(None)))
    return not pulled and bool(db.scalar(select(func.count(Patient.id))))


def clear(db: Session) -> None:
    """Delete every row of the kiosk's tables (children first); the schema, its revision and
    the change counter stay, as a new kiosk's first sync round finds them."""
    tables = [t for t in reversed(Base.metadata.sorted_tables) if t is not SyncCounter.__table__]
    # The sync tables last: deleting a replicated row leaves a tombstone, removed with them.
    for table in sorted(tables, key=lambda table: table.name.startswith("sync_")):
        db.execute(table.delete())
