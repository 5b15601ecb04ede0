"""What the import tests share: a centre's configuration, valid exports, and a dump of the centre
to prove that a refused import wrote nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from kiosk.db.models import REPLICATED, Base
from sync.fhir import PROGRAMME, SESSION_KIND, SITE, SSIN
from sync.importer import HEADER
from tests.sync.conftest import LOOKUP_KEY

# Bookings over both shipped programmes: several rows per patient, a cancellation, a name with a
# comma (quoted), a room left empty, no birth date.
VALID_ROWS: tuple[Mapping[str, str], ...] = tuple(
    dict(zip(HEADER, row, strict=True))
    for row in (
        (
            "85073003328", "Zoë", "Peeters", "1985-07-30", "GENK", "rugrevalidatie",
            "2026-02-01", "individual", "2026-03-02T09:00:00+01:00",
            "2026-03-02T10:00:00+01:00", "Zaal 1", "booked",
        ),
        (
            "85073003328", "Zoë", "Peeters", "1985-07-30", "GENK", "rugrevalidatie",
            "2026-02-01", "group", "2026-03-04T13:00:00+01:00",
            "2026-03-04T15:00:00+01:00", "Zaal 2", "cancelled",
        ),
        (
            "93051822361", "Ömer", "Van den Broeck, jr.", "", "GENK", "back-and-neck",
            "2026-01-12", "core1", "2026-03-02T09:00:00+01:00",
            "2026-03-02T10:00:00+01:00", "", "",
        ),
        (
            "71020212361", "Françoise", "Dubois", "1971-02-02", "HASSELT", "back-and-neck",
            "2025-11-03", "advanced", "2026-03-07T09:30:00+01:00",
            "2026-03-07T10:30:00+01:00", "Zaal A", "booked",
        ),
    )
)  # fmt: skip
LANGUAGE_ROWS: tuple[Mapping[str, str], ...] = tuple(
    {**row, "language": language}
    for row, language in zip(VALID_ROWS, ("nl", "nl", "", "fr"), strict=True)
)
"""The same bookings with the optional column: the patients' languages (Ömer's not known)."""
PERSONAL = ("national_number", "first_name", "last_name", "birth_date")


def csv_text(
    rows: Iterable[Mapping[str, str]],
    header: Iterable[str] | None = None,
    columns: Sequence[str] = HEADER,
) -> str:
    """A CSV export of ``rows``' ``columns`` (quoted where needed, as a spreadsheet writes it),
    under ``header`` (default: the columns' names)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(list(columns if header is None else header))
    for row in rows:
        writer.writerow([row[name] for name in columns])
    return out.getvalue()


def personal_values(rows: Iterable[Mapping[str, str]]) -> set[str]:
    """Every national number, name and birth date of ``rows`` (none may reach an error line)."""
    return {row[name] for row in rows for name in PERSONAL if row[name]}


def write_config(data_dir: Path, central_url: str, programmes_dir: Path | None = None) -> None:
    """A centre's ``kiosk.toml`` in ``data_dir``: the lookup key, the centre, the programmes."""
    lines = [f'central_url = "{central_url}"']
    if programmes_dir is not None:
        lines.append(f'programmes_dir = "{programmes_dir}"')
    lines += ["[privacy]", f'lookup_key = "{LOOKUP_KEY.hex()}"']
    path = data_dir / "kiosk.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)


def dump(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every replicated table, in a stable order."""
    tables = Base.metadata.tables
    with engine.connect() as conn:
        return {
            name: sorted(
                (tuple(row) for row in conn.execute(select(tables[name]))),
                key=repr,
            )
            for name in REPLICATED
        }


def spoken(tag: str, *, preferred: bool = True) -> dict[str, Any]:
    """A ``Patient.communication`` of the language ``tag`` (BCP-47)."""
    coding = {"system": "urn:ietf:bcp:47", "code": tag}
    return {"language": {"coding": [coding]}, "preferred": preferred}


def bundle_of(rows: Iterable[Mapping[str, str]]) -> dict[str, Any]:
    """The FHIR bundle of the same bookings as ``rows``: one Patient per national number, one
    ServiceRequest per enrolment, one Location per room, one Appointment per row; patients are
    referred to by ``fullUrl``, the rest by type and id."""
    resources: dict[str, dict[str, Any]] = {}  # by the reference appointments use
    patients: dict[str, int] = {}
    enrolments: dict[tuple[str, str, str], int] = {}
    appointments = []
    for number, row in enumerate(rows):
        number_of = patients.setdefault(row["national_number"], len(patients))
        patient = f"urn:uuid:00000000-0000-4000-8000-{number_of:012d}"
        resources.setdefault(
            patient,
            {
                "resourceType": "Patient",
                "identifier": [{"system": SSIN, "value": row["national_number"]}],
                "name": [{"family": row["last_name"], "given": row["first_name"].split()}],
                **({"birthDate": row["birth_date"]} if row["birth_date"] else {}),
                **({"communication": [spoken(row["language"])]} if row.get("language") else {}),
            },
        )
        enrolment = (patient, row["programme"], row["enrolment_start"])
        request = f"ServiceRequest/r{enrolments.setdefault(enrolment, len(enrolments))}"
        resources.setdefault(
            request,
            {
                "resourceType": "ServiceRequest",
                "id": request.split("/")[1],
                "status": "active",
                "intent": "order",
                "code": {"coding": [{"system": PROGRAMME, "code": enrolment[1]}]},
                "occurrencePeriod": {"start": enrolment[2]},
            },
        )
        location = f"Location/{row['site_id']}-{row['room'].replace(' ', '-')}"
        resources.setdefault(
            location,
            {
                "resourceType": "Location",
                "id": location.split("/")[1],
                "name": row["room"],
                "identifier": [{"system": SITE, "value": row["site_id"]}],
            },
        )
        appointments.append(
            {
                "resourceType": "Appointment",
                "id": f"a{number}",
                "status": row["status"] or "booked",
                "serviceType": [{"coding": [{"system": SESSION_KIND, "code": row["kind"]}]}],
                "basedOn": [{"reference": request}],
                "start": row["starts_at"],
                "end": row["ends_at"],
                "participant": [
                    {"actor": {"reference": patient}},
                    {"actor": {"reference": location}},
                ],
            }
        )
    entries = [
        {"fullUrl": ref, "resource": r} if ref.startswith("urn:") else {"resource": r}
        for ref, r in resources.items()
    ]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [*entries, *({"resource": a} for a in appointments)],
    }
