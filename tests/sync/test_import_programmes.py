"""A new centre takes its programmes from the programme files: `kiosk central init` and every
import store them, so the first import of a fresh centre works and a new file needs no SQL."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from kiosk.db.engine import make_engine
from kiosk.db.models import ProgrammeRow
from kiosk.programme import load_programmes
from kiosk.programme.loader import SHIPPED
from sync import central
from tests.commands import run_kiosk
from tests.sync.importing import VALID_ROWS, csv_text, write_config
from tests.sync.test_fhir_import import BUNDLE


def programme_rows(url: str) -> dict[str, tuple[str, int | None]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(ProgrammeRow.code, ProgrammeRow.name, ProgrammeRow.change_seq)
            ).all()
    finally:
        engine.dispose()
    return {code: (name, seq) for code, name, seq in rows}


def test_a_fresh_centre_imports_its_first_export_and_bundle(
    central_url: str, tmp_path: Path
) -> None:
    write_config(tmp_path, central_url)
    init = run_kiosk(tmp_path, "central", "init")
    assert init.returncode == 0, init.stderr
    shipped = load_programmes(None)
    names = {code: name for code, (name, _) in programme_rows(central_url).items()}
    assert names == {code: p.title["en"] for code, p in shipped.items()}

    export = tmp_path / "export.csv"
    export.write_text(csv_text(VALID_ROWS), encoding="utf-8")
    done = run_kiosk(tmp_path, "central", "import", str(export))
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"imported {len(VALID_ROWS)} bookings\n"
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(BUNDLE), encoding="utf-8")
    done = run_kiosk(tmp_path, "central", "import", str(bundle))
    assert (done.returncode, done.stderr) == (0, "")

    # The day as the centre sees it: every imported session, named from its programme file.
    day = run_kiosk(tmp_path, "today", "--central", "--date", "2026-03-02", "--json")
    assert day.returncode == 0, day.stderr
    assert sorted(s["kind"] for s in json.loads(day.stdout)) == ["core1", "individual"]


def test_an_import_stores_the_programmes_itself(tmp_path: Path) -> None:
    # A centre whose schema was made without the programmes (as `central init` used to).
    url = f"sqlite:///{tmp_path / 'central.sqlite'}"
    engine = make_engine(url)
    central.init(engine)
    engine.dispose()
    assert programme_rows(url) == {}
    write_config(tmp_path, url)
    export = tmp_path / "export.csv"
    export.write_text(csv_text(VALID_ROWS[:1]), encoding="utf-8")
    done = run_kiosk(tmp_path, "central", "import", str(export))
    assert (done.returncode, done.stderr) == (0, "")
    assert set(programme_rows(url)) == set(load_programmes(None))


def test_a_new_programme_file_needs_no_sql(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'central.sqlite'}"
    programmes_dir = tmp_path / "programmes"
    programmes_dir.mkdir()
    neck = (SHIPPED / "back-and-neck.toml").read_text(encoding="utf-8")
    neck = neck.replace('code = "back-and-neck"', 'code = "nek-kort"')
    new_file = programmes_dir / "nek-kort.toml"
    new_file.write_text(neck, encoding="utf-8")
    write_config(tmp_path, url, programmes_dir)
    assert run_kiosk(tmp_path, "central", "init").returncode == 0
    before = programme_rows(url)
    assert before["nek-kort"][0] == "Back and neck programme"

    row = dict(VALID_ROWS[2], programme="nek-kort")
    export = tmp_path / "export.csv"
    export.write_text(csv_text([row]), encoding="utf-8")
    done = run_kiosk(tmp_path, "central", "import", str(export))
    assert (done.returncode, done.stderr) == (0, "")

    # A changed title reaches the centre on the next init; the other rows are not rewritten.
    new_file.write_text(
        neck.replace('en = "Back and neck programme"', 'en = "Short neck programme"'),
        encoding="utf-8",
    )
    assert run_kiosk(tmp_path, "central", "init").returncode == 0
    after = programme_rows(url)
    assert after["nek-kort"][0] == "Short neck programme"
    assert {c: v for c, v in after.items() if c != "nek-kort"} == {
        c: v for c, v in before.items() if c != "nek-kort"
    }


def test_demo_data_fills_a_centre_that_central_init_made(pg_url: str, tmp_path: Path) -> None:
    # On PostgreSQL the centre is a server database, made by `central init` before the demo.
    write_config(tmp_path, pg_url)
    assert run_kiosk(tmp_path, "central", "init").returncode == 0
    filled = run_kiosk(tmp_path, "demo-data", "--central", "--patients", "3")
    assert (filled.returncode, filled.stderr) == (0, "")
    assert set(programme_rows(pg_url)) == set(load_programmes(None))


def test_the_central_command_leaves_the_database_to_sync() -> None:
    # The command line parses and reports; sync opens the centre (issue 13).
    import ast

    import kiosk.cli.central

    tree = ast.parse(Path(kiosk.cli.central.__file__).read_text(encoding="utf-8"))
    nodes = list(ast.walk(tree))
    imported = [a.name for n in nodes if isinstance(n, ast.Import) for a in n.names]
    imported += [n.module or "" for n in nodes if isinstance(n, ast.ImportFrom)]
    assert "sync" in imported
    assert not [m for m in imported if m.startswith(("sqlalchemy", "kiosk.db"))]
