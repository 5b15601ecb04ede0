"""FHIR bundles of the wrong shape: a wrong type at any level, a missing or doubled resource, JSON
that is not JSON. Each is one problem naming the entry and the element, never a traceback."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from kiosk.programme import Programme
from sync.fhir import FhirError, bundle_lines
from sync.importer import ImportFailed, parse_fhir
from tests.sync.conftest import LOOKUP_KEY
from tests.sync.test_fhir_import import BUNDLE

Change = Callable[[Any], Any]
PATIENT, REQUEST, LOCATION, APPOINTMENT = (BUNDLE["entry"][i]["resource"] for i in range(4))
KINDS = "consultation, individual, group, info_ergo, info_psy"


class Whole:
    """What a change returns to replace the whole document."""

    def __init__(self, document: Any) -> None:
        self.document = document


def changed(change: Change) -> Any:
    """A copy of the valid bundle after ``change``."""
    bundle = copy.deepcopy(BUNDLE)
    result = change(bundle)
    return result.document if isinstance(result, Whole) else bundle


def entry(number: int) -> Callable[[Any], dict[str, Any]]:
    return lambda bundle: bundle["entry"][number]["resource"]


patient, request, location, appointment = entry(0), entry(1), entry(2), entry(3)


def put(where: Callable[[Any], Any], key: str | int, value: Any) -> Change:
    return lambda bundle: where(bundle).__setitem__(key, value)


WRONG_SHAPES: list[tuple[str, Change, str]] = [
    ("a list", lambda b: Whole([b]), "not a FHIR Bundle with entries"),
    ("null", lambda b: Whole(None), "not a FHIR Bundle with entries"),
    ("a number", lambda b: Whole(10**30), "not a FHIR Bundle with entries"),
    ("entry an object", put(lambda b: b, "entry", {}), "not a FHIR Bundle with entries"),
    ("entry a string", put(lambda b: b["entry"], 4, "Patient"), "entry 4: no resource"),
    ("resource a list", put(lambda b: b["entry"][4], "resource", []), "entry 4: no resource"),
    (
        "name an object",
        put(patient, "name", {"family": "Peeters"}),
        "entry 0 (Patient): name: must be a list of objects",
    ),
    (
        "given a string",
        lambda b: patient(b)["name"][0].__setitem__("given", "Zoë"),
        "entry 0 (Patient): name[0].given: must be a list of strings",
    ),
    (
        "given of numbers",
        lambda b: patient(b)["name"][0].__setitem__("given", [1]),
        "entry 0 (Patient): name[0].given: must be a list of strings",
    ),
    (
        "family a list",
        lambda b: patient(b)["name"][0].__setitem__("family", ["Peeters"]),
        "entry 0 (Patient): name[0].family: must be a string",
    ),
    (
        "identifier an object",
        put(patient, "identifier", {"value": "85073003328"}),
        "entry 0 (Patient): identifier: must be a list of objects",
    ),
    (
        "the national number a number",
        lambda b: patient(b)["identifier"][0].__setitem__("value", 85073003328),
        "entry 0 (Patient): identifier[0].value: must be a string",
    ),
    ("birthDate a number", put(patient, "birthDate", 19850730), "entry 0 (Patient): birthDate"),
    (
        "code a string",
        put(request, "code", "rugrevalidatie"),
        "entry 1 (ServiceRequest): code: must be an object or a list of objects",
    ),
    (
        "coding an object",
        put(request, "code", {"coding": {"code": "x"}}),
        "entry 1 (ServiceRequest): code[0].coding: must be a list of objects",
    ),
    (
        "occurrencePeriod a list",
        put(request, "occurrencePeriod", ["2026-02-01"]),
        "entry 1 (ServiceRequest): occurrencePeriod: must be an object",
    ),
    (
        "Location name a number",
        put(location, "name", 1),
        "entry 2 (Location): name: must be a string",
    ),
    (
        "status a list",
        put(appointment, "status", ["booked"]),
        "entry 3 (Appointment): status: must be a string",
    ),
    (
        "status unknown",
        put(appointment, "status", "bogus"),
        "entry 3 (Appointment): status: is not an R4 Appointment status",
    ),
    ("no status", lambda b: appointment(b).pop("status"), "entry 3 (Appointment): status: is"),
    (
        "participant an object",
        put(appointment, "participant", {"actor": {"reference": "Location/zaal-1"}}),
        "entry 3 (Appointment): participant: must be a list of objects",
    ),
    (
        "actor a string",
        lambda b: appointment(b)["participant"][1].__setitem__("actor", "Location/zaal-1"),
        "entry 3 (Appointment): participant[1].actor: must be an object",
    ),
    (
        "reference a list",
        lambda b: appointment(b)["participant"][0]["actor"].__setitem__("reference", []),
        "entry 3 (Appointment): participant[0].actor.reference: must be a string",
    ),
    (
        "basedOn an object",
        put(appointment, "basedOn", {"reference": "ServiceRequest/referral-1"}),
        "entry 3 (Appointment): basedOn: must be a list of objects",
    ),
    (
        "basedOn a Patient",
        put(appointment, "basedOn", [{"reference": "Location/zaal-1"}]),
        "entry 3 (Appointment): needs a Patient, a Location and a ServiceRequest in the bundle",
    ),
    (
        "a reference to nothing",
        lambda b: appointment(b)["participant"][1]["actor"].__setitem__("reference", "Location/9"),
        "entry 3 (Appointment): needs a Patient, a Location and a ServiceRequest in the bundle",
    ),
    ("start a huge number", put(appointment, "start", 10**400), "entry 3 (Appointment): start"),
    ("end infinite", put(appointment, "end", float("inf")), "entry 3 (Appointment): end"),
    (
        "serviceType coding a string",
        put(appointment, "serviceType", [{"coding": "individual"}]),
        "entry 3 (Appointment): serviceType[0].coding: must be a list of objects",
    ),
    (
        "a second Location with the same id",
        lambda b: b["entry"].append({"resource": {**location(b), "name": "Zaal 2"}}),
        "entry 5 (Location): has the fullUrl or id of entry 2",
    ),
]


@pytest.mark.parametrize(
    ("change", "problem"),
    [(c, p) for _, c, p in WRONG_SHAPES],
    ids=[name for name, _, _ in WRONG_SHAPES],
)
def test_a_wrong_shape_is_one_problem_naming_the_element(change: Change, problem: str) -> None:
    with pytest.raises(FhirError) as caught:
        bundle_lines(changed(change))
    (found,) = caught.value.problems
    assert found.startswith(problem)
    assert "85073003328" not in found and "Peeters" not in found and "Zoë" not in found


def refusal(data: bytes, programmes: dict[str, Programme]) -> tuple[str, ...]:
    with pytest.raises(ImportFailed) as caught:
        parse_fhir(data, "b.json", LOOKUP_KEY, programmes)
    return caught.value.problems


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"{", "b.json: not a JSON document (line 1, column 2: Expecting property name"),
        (b"", "b.json: not a JSON document (line 1, column 1: Expecting value)"),
        (json.dumps(BUNDLE).encode("utf-16"), "b.json: line 1: not UTF-8 text"),
        (json.dumps(BUNDLE, ensure_ascii=False).encode("latin-1"), "b.json: line 1: not UTF-8"),
        (b"[" * 100_000, "b.json: a number too long or nesting too deep for JSON"),
        (b'{"n": ' + b"7" * 5000 + b"}", "b.json: a number too long or nesting too deep"),
        (b'{"resourceType": "Bundle", "entry": []}', "b.json: holds no booking"),
    ],
    ids=["cut", "empty", "UTF-16", "latin-1", "deep", "long number", "no entries"],
)
def test_a_document_that_is_not_a_bundle_is_one_line(
    data: bytes, problem: str, programmes: dict[str, Programme]
) -> None:
    (found,) = refusal(data, programmes)
    assert found.startswith(problem)


def test_every_bad_entry_is_one_line_in_the_order_of_the_bundle(
    programmes: dict[str, Programme],
) -> None:
    bundle = copy.deepcopy(BUNDLE)
    second = copy.deepcopy(APPOINTMENT)
    second.update(id="a3", start="2026-03-09T09:00:00+01:00", end="2026-03-09T10:00:00+01:00")
    second["serviceType"][0]["coding"][0]["code"] = "Group"
    third = copy.deepcopy(APPOINTMENT)
    third.update(id="a4", participant={})
    fourth = copy.deepcopy(APPOINTMENT)
    fourth.update(id="a5", status="arrived")  # the booking of entry 3 again
    fifth = copy.deepcopy(APPOINTMENT)
    fifth.update(id="a6", start="2026-03-16T09:00:00", end="2026-03-16T10:00:00+01:00")
    # An unpaired surrogate, as a JSON escape can write it: neither database can store it.
    bundle["entry"][0]["resource"]["name"][0]["given"] = ["Zo\ud800"]
    bundle["entry"] += [{"resource": r} for r in (second, third, fourth, fifth)]
    data = json.dumps(bundle).encode()
    assert refusal(data, programmes) == (
        "b.json: entry 3 (Appointment): first_name: holds an unpaired surrogate (not Unicode text)",
        "b.json: entry 5 (Appointment): first_name: holds an unpaired surrogate (not Unicode text)"
        f"; kind: is not a session kind of rugrevalidatie ({KINDS})",
        "b.json: entry 6 (Appointment): participant: must be a list of objects",
        "b.json: entry 7 (Appointment): first_name: holds an unpaired surrogate (not Unicode text)",
        "b.json: entry 8 (Appointment): first_name: holds an unpaired surrogate (not Unicode text)"
        "; starts_at: has no UTC offset",
    )

    bundle["entry"][0]["resource"]["name"][0]["given"] = ["Zoë"]
    assert refusal(json.dumps(bundle).encode(), programmes) == (
        f"b.json: entry 5 (Appointment): kind: is not a session kind of rugrevalidatie ({KINDS})",
        "b.json: entry 6 (Appointment): participant: must be a list of objects",
        "b.json: entry 7 (Appointment): the same booking as entry 3 (Appointment)",
        "b.json: entry 8 (Appointment): starts_at: has no UTC offset",
    )


def test_what_fhir_allows_is_read(programmes: dict[str, Programme]) -> None:
    bundle = copy.deepcopy(BUNDLE)
    # A birth year alone (an unknown day), the referral's start as a dateTime, one serviceType
    # object instead of a list, a BOM before the document, a resource type we do not read.
    patient = bundle["entry"][0]["resource"]
    patient["birthDate"] = "1985"
    request = bundle["entry"][1]["resource"]
    request["occurrencePeriod"] = {"start": "2026-02-01T10:00:00+01:00"}
    appointment = bundle["entry"][3]["resource"]
    appointment["serviceType"] = appointment["serviceType"][0]
    bundle["entry"].append({"resource": {"resourceType": "Practitioner", "id": 7, "name": 1}})
    data = b"\xef\xbb\xbf" + json.dumps(bundle).encode()
    rows = parse_fhir(data, "b.json", LOOKUP_KEY, programmes)
    (stored,) = rows.tables["patients"].values()
    assert stored["birth_date"] is None
    (enrolment,) = rows.tables["enrolments"].values()
    assert enrolment["started_on"].isoformat() == "2026-02-01"
    assert rows.bookings == 1
