"""The patient's language from the schedule: an optional CSV column or FHIR
``Patient.communication``, the schedule's at every re-import, refused in one line when the CSV
names none of the kiosk's languages, and pulled to the kiosks."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from kiosk.db.engine import make_engine
from kiosk.db.models import Patient
from kiosk.programme import Programme
from sync import central
from sync.importer import (
    COLUMNS,
    HEADER,
    ImportFailed,
    import_csv,
    import_fhir,
    parse_csv,
    parse_fhir,
)
from tests.sync.conftest import LOOKUP_KEY, Kiosk, fill_centre
from tests.sync.importing import (
    LANGUAGE_ROWS,
    VALID_ROWS,
    bundle_of,
    csv_text,
    dump,
    spoken,
)

# Zoë's two bookings say nl, Ömer's nothing, Françoise's fr.
AS_EXPORTED = {"Zoë": "nl", "Ömer": None, "Françoise": "fr"}


def languages(engine: Engine, names: Sequence[str] = tuple(AS_EXPORTED)) -> dict[str, str | None]:
    """The stored language of each patient named (by first name)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Patient.first_name, Patient.language).where(Patient.first_name.in_(names))
        ).all()
    return {name: language for name, language in rows}


def import_rows(
    engine: Engine, folder: Path, rows: Sequence[Mapping[str, str]], columns: Sequence[str]
) -> Path:
    """Import ``rows`` as a CSV export of ``columns``; the file's path."""
    path = folder / "export.csv"
    path.write_text(csv_text(rows, columns=columns), encoding="utf-8")
    import_csv(engine, path, LOOKUP_KEY)
    return path


def speaking(languages_of: Mapping[str, str]) -> list[dict[str, str]]:
    """The bookings with each patient's language (by first name) in the language column."""
    return [{**row, "language": languages_of[row["first_name"]]} for row in VALID_ROWS]


@pytest.fixture
def centre(central_url: str) -> Engine:
    engine = make_engine(central_url)
    central.init(engine)
    return engine


def test_the_csv_column_is_stored_and_the_schedule_wins_at_a_reimport(
    centre: Engine, tmp_path: Path
) -> None:
    import_rows(centre, tmp_path, LANGUAGE_ROWS, COLUMNS)
    assert languages(centre) == AS_EXPORTED
    # The schedule's value replaces the stored one, an empty cell says "not known" ...
    import_rows(centre, tmp_path, speaking({"Zoë": "de", "Ömer": "en", "Françoise": ""}), COLUMNS)
    assert languages(centre) == {"Zoë": "de", "Ömer": "en", "Françoise": None}
    # ... and so does an export without the column: the language is the schedule's alone.
    import_rows(centre, tmp_path, VALID_ROWS, HEADER)
    assert languages(centre) == dict.fromkeys(AS_EXPORTED)
    centre.dispose()


@pytest.mark.parametrize("value", ["FR", "fr-BE", "Frans", "tr", " fr"])
def test_a_language_not_of_the_kiosk_is_one_line_and_nothing_is_written(
    centre: Engine, tmp_path: Path, value: str
) -> None:
    import_rows(centre, tmp_path, LANGUAGE_ROWS, COLUMNS)
    before = dump(centre)
    bad = [LANGUAGE_ROWS[0], {**LANGUAGE_ROWS[3], "language": value}]
    with pytest.raises(ImportFailed) as failed:
        import_rows(centre, tmp_path, bad, COLUMNS)
    path = tmp_path / "export.csv"
    assert failed.value.problems == (f"{path}: line 3: language: is not nl, fr, en or de",)
    assert dump(centre) == before
    centre.dispose()


def test_one_patient_has_one_language_in_a_file(programmes: dict[str, Programme]) -> None:
    rows = [LANGUAGE_ROWS[0], {**LANGUAGE_ROWS[1], "language": "fr"}]
    data = csv_text(rows, columns=COLUMNS).encode()
    with pytest.raises(ImportFailed) as failed:
        parse_csv(data, "export.csv", LOOKUP_KEY, programmes)
    assert failed.value.problems == (
        "export.csv: line 3: language: differs from line 2 for the same patient",
    )


def test_a_bundle_gives_the_same_languages_as_the_csv(centre: Engine, tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle_of(LANGUAGE_ROWS)), encoding="utf-8")
    import_fhir(centre, path, LOOKUP_KEY)
    assert languages(centre) == AS_EXPORTED
    before = dump(centre)
    import_rows(centre, tmp_path, LANGUAGE_ROWS, COLUMNS)
    assert dump(centre) == before  # the same rows: nothing written again
    centre.dispose()


def _language_of(communication: Any, programmes: dict[str, Programme]) -> str | None:
    bundle = bundle_of(VALID_ROWS[:1])
    patient = bundle["entry"][0]["resource"]
    assert patient["resourceType"] == "Patient"
    patient["communication"] = communication
    rows = parse_fhir(json.dumps(bundle).encode(), "bundle.json", LOOKUP_KEY, programmes)
    (row,) = rows.tables["patients"].values()
    language: str | None = row["language"]
    return language


@pytest.mark.parametrize(
    ("communication", "language"),
    [
        ([spoken("fr-BE")], "fr"),
        ([spoken("de", preferred=False), spoken("nl-BE")], "nl"),  # the preferred one
        ([spoken("en-GB", preferred=False), spoken("fr", preferred=False)], "en"),  # the first
        ([{"language": {"text": "Français"}}], "fr"),
        ([{"language": {"text": "Duits"}}], "de"),
        ([{"language": {"coding": [{"system": "urn:iso:std:iso:639:2", "code": "dut",
                                     "display": "Dutch"}]}}], "nl"),
        ([spoken("tr")], None),  # a language the kiosk does not have: not known, not an error
        ([spoken("tr"), spoken("fr", preferred=False)], None),  # the preferred one is Turkish
        ([{"preferred": True}], None),
        ([], None),
    ],
)  # fmt: skip
def test_a_patient_communication_maps_to_the_kiosk_languages(
    communication: Any, language: str | None, programmes: dict[str, Programme]
) -> None:
    assert _language_of(communication, programmes) == language


@pytest.mark.parametrize(
    ("communication", "problem"),
    [
        ("fr", "communication: must be a list of objects"),
        ([{**spoken("fr"), "preferred": 1}], "communication[0].preferred: must be true or false"),
        ([{"language": "fr"}], "communication[0].language: must be an object"),
        ([{"language": {"text": 33}}], "communication[0].language.text: must be a string"),
    ],
)  # fmt: skip
def test_a_communication_of_the_wrong_shape_names_the_element(
    communication: Any, problem: str, programmes: dict[str, Programme]
) -> None:
    with pytest.raises(ImportFailed) as failed:
        _language_of(communication, programmes)
    assert failed.value.problems == (f"bundle.json: entry 0 (Patient): {problem}",)


def test_the_kiosk_replica_gets_the_language(
    central_url: str,
    tmp_path: Path,
    programmes: dict[str, Programme],
    make_kiosk: Callable[..., Kiosk],
) -> None:
    fill_centre(central_url, programmes, patients=4, sites=1)
    engine = make_engine(central_url)
    import_rows(engine, tmp_path, LANGUAGE_ROWS, COLUMNS)
    kiosk = make_kiosk(central_url)  # at GENK: Françoise is a patient of Hasselt
    assert kiosk.sync.run_round().error == ""
    assert languages(kiosk.engine) == {"Zoë": "nl", "Ömer": None}
    # A change of the schedule reaches the kiosk at its next pull.
    import_rows(engine, tmp_path, speaking({"Zoë": "fr", "Ömer": "de", "Françoise": ""}), COLUMNS)
    assert kiosk.sync.run_round().error == ""
    assert languages(kiosk.engine) == {"Zoë": "fr", "Ömer": "de"}
    engine.dispose()
