"""The scheduling system's FHIR Appointment bundles: the same bookings as the CSV, idempotent,
cancellations included, and clear errors that name the entry and no person."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kiosk.db.engine import make_engine
from kiosk.db.models import Booking, Enrolment, Patient, SessionRow
from kiosk.programme import Programme
from sync.fhir import PROGRAMME, SESSION_KIND, SITE, SSIN, FhirError, bundle_lines
from sync.importer import HEADER, ImportFailed, import_csv, import_fhir
from tests.sync.conftest import LOOKUP_KEY, fill_centre
from tests.sync.test_import_and_migration import ROW

BUNDLE: dict[str, Any] = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {
            "fullUrl": "urn:uuid:7f1e0000-0000-4000-8000-000000000001",
            "resource": {
                "resourceType": "Patient",
                "identifier": [{"system": SSIN, "value": "85073003328"}],
                "name": [{"family": "Peeters", "given": ["Zoë"]}],
                "birthDate": "1985-07-30",
            },
        },
        {
            "resource": {
                "resourceType": "ServiceRequest",
                "id": "referral-1",
                "status": "active",
                "intent": "order",
                "code": {"coding": [{"system": PROGRAMME, "code": "rugrevalidatie"}]},
                "occurrencePeriod": {"start": "2026-02-01"},
            }
        },
        {
            "resource": {
                "resourceType": "Location",
                "id": "zaal-1",
                "name": "Zaal 1",
                "identifier": [{"system": SITE, "value": "GENK"}],
            }
        },
        {
            "resource": {
                "resourceType": "Appointment",
                "id": "a1",
                "status": "booked",
                "serviceType": [{"coding": [{"system": SESSION_KIND, "code": "individual"}]}],
                "basedOn": [{"reference": "ServiceRequest/referral-1"}],
                "start": "2026-03-02T09:00:00+01:00",
                "end": "2026-03-02T10:00:00+01:00",
                "participant": [
                    {"actor": {"reference": "urn:uuid:7f1e0000-0000-4000-8000-000000000001"}},
                    {"actor": {"reference": "Location/zaal-1"}},
                ],
            }
        },
        {
            "resource": {
                "resourceType": "Appointment",
                "id": "a2",
                "status": "proposed",
                "serviceType": [{"coding": [{"system": SESSION_KIND, "code": "individual"}]}],
                "basedOn": [{"reference": "ServiceRequest/referral-1"}],
                "start": "2026-03-04T09:00:00+01:00",
                "end": "2026-03-04T10:00:00+01:00",
                "participant": [],
            }
        },
    ],
}


def snapshot(url: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Booking.id,
                Booking.status,
                Enrolment.id,
                Enrolment.started_on,
                Patient.id,
                Patient.first_name,
                SessionRow.kind,
                SessionRow.starts_at,
                SessionRow.room,
            )
            .join(Enrolment, Enrolment.id == Booking.enrolment_id)
            .join(Patient, Patient.id == Booking.patient_id)
            .join(SessionRow, SessionRow.id == Booking.session_id)
            .where(Patient.first_name == "Zoë", Patient.last_name == "Peeters")
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_a_bundle_imports_the_same_booking_as_the_csv_row(
    central_url: str, tmp_path: Path, programmes: dict[str, Programme]
) -> None:
    fill_centre(central_url, programmes, patients=2, sites=1)
    engine = make_engine(central_url)
    bundle = tmp_path / "appointments.json"
    bundle.write_text(json.dumps(BUNDLE), encoding="utf-8")
    # The proposed appointment is not a booking yet.
    assert import_fhir(engine, bundle, LOOKUP_KEY).rows == 1
    from_fhir = snapshot(central_url)
    assert len(from_fhir) == 1
    csv_file = tmp_path / "export.csv"
    csv_file.write_text(",".join(HEADER) + "\n" + ROW + "\n", encoding="utf-8")
    import_csv(engine, csv_file, LOOKUP_KEY)
    import_fhir(engine, bundle, LOOKUP_KEY)
    assert snapshot(central_url) == from_fhir  # same ids: nothing doubled

    cancelled = copy.deepcopy(BUNDLE)
    cancelled["entry"][3]["resource"]["status"] = "cancelled"
    bundle.write_text(json.dumps(cancelled), encoding="utf-8")
    import_fhir(engine, bundle, LOOKUP_KEY)
    (row,) = snapshot(central_url)
    assert row[1] == "cancelled"
    engine.dispose()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b["entry"][3]["resource"].pop("basedOn"), "entry 3 (Appointment): needs"),
        (
            lambda b: b["entry"][2]["resource"].pop("identifier"),
            "entry 3 (Appointment): no site_id",
        ),
        (lambda b: b["entry"][0]["resource"].pop("identifier"), "no national_number"),
        (lambda b: b.pop("entry"), "not a FHIR Bundle"),
    ],
)
def test_broken_bundles_name_the_entry(change: Any, message: str) -> None:
    bundle = copy.deepcopy(BUNDLE)
    change(bundle)
    with pytest.raises(FhirError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        bundle_lines(bundle)
    assert "85073003328" not in str(caught.value) and "Peeters" not in str(caught.value)


def test_an_invalid_national_number_names_the_entry_only(tmp_path: Path, central_url: str) -> None:
    bundle = copy.deepcopy(BUNDLE)
    bundle["entry"][0]["resource"]["identifier"][0]["value"] = "85073003329"
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    engine = make_engine(central_url)
    with pytest.raises(ImportFailed, match=r"entry 3 \(Appointment\)") as caught:
        import_fhir(engine, path, LOOKUP_KEY)
    engine.dispose()
    assert "85073003329" not in str(caught.value)
