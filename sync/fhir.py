"""FHIR R4 ``Bundle`` of ``Appointment`` resources, read as the import's booking lines.

What the scheduling system sends, and where each field of a booking comes from:

* ``Appointment``: ``start``/``end`` (with offset), ``status`` (``booked``, ``arrived``,
  ``checked-in``, ``fulfilled`` and ``noshow`` are bookings; ``cancelled`` and
  ``entered-in-error`` are cancelled; ``proposed``, ``pending`` and ``waitlist`` are not bookings
  yet and are left out), ``serviceType`` coded in ``urn:rehab-kiosk:session-kind`` (the
  programme file's session kind), ``basedOn`` the programme's ``ServiceRequest``, and
  ``participant`` actors ``Patient/...`` and ``Location/...``.
* ``Patient``: the ``identifier`` in the Belgian SSIN naming system
  (``https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin``), ``name[0]``
  (``given``, ``family``) and ``birthDate``.
* ``ServiceRequest`` (the referral to the programme): ``code`` coded in
  ``urn:rehab-kiosk:programme`` and ``occurrencePeriod.start`` (or ``authoredOn``), the
  enrolment's start.
* ``Location`` (the room): ``name``, and the site in an ``identifier`` of system
  ``urn:rehab-kiosk:site``.

References may be relative (``Patient/17``) or the entries' ``fullUrl`` (``urn:uuid:...``).
Errors name the entry, never a person's data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SSIN = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin"
PROGRAMME = "urn:rehab-kiosk:programme"
SESSION_KIND = "urn:rehab-kiosk:session-kind"
SITE = "urn:rehab-kiosk:site"

BOOKED = frozenset({"booked", "arrived", "checked-in", "fulfilled", "noshow"})
CANCELLED = frozenset({"cancelled", "entered-in-error"})


class FhirError(ValueError):
    """The bundle cannot be read as bookings; the message says which entry and why."""


def _index(bundle: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], dict[str, Any]]:
    if bundle.get("resourceType") != "Bundle" or not isinstance(bundle.get("entry"), list):
        raise FhirError("not a FHIR Bundle with entries")
    resources: list[Mapping[str, Any]] = []
    by_reference: dict[str, Any] = {}
    for entry in bundle["entry"]:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            raise FhirError(f"entry {len(resources)}: no resource")
        resources.append(resource)
        if isinstance(entry.get("fullUrl"), str):
            by_reference[entry["fullUrl"]] = resource
        if "id" in resource:
            by_reference[f"{resource.get('resourceType')}/{resource['id']}"] = resource
    return resources, by_reference


def _code(concepts: Any, system: str) -> str:
    for concept in concepts if isinstance(concepts, list) else [concepts]:
        codings = concept.get("coding", []) if isinstance(concept, dict) else []
        for coding in codings:
            if isinstance(coding, dict) and coding.get("system") == system:
                return str(coding.get("code", ""))
    return ""


def _identifier(resource: Mapping[str, Any], system: str) -> str:
    for identifier in resource.get("identifier", []):
        if isinstance(identifier, dict) and identifier.get("system") == system:
            return str(identifier.get("value", ""))
    return ""


def _participant(
    appointment: Mapping[str, Any], kind: str, resources: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    for participant in appointment.get("participant", []):
        reference = (participant.get("actor") or {}).get("reference", "")
        target = resources.get(reference)
        if isinstance(target, dict) and target.get("resourceType") == kind:
            return target
    return None


def bundle_lines(bundle: Mapping[str, Any]) -> list[tuple[str, dict[str, str]]]:
    """The bookings of a bundle as labelled lines with the CSV import's keys."""
    resources, by_reference = _index(bundle)
    lines: list[tuple[str, dict[str, str]]] = []
    for number, appointment in enumerate(resources):
        if appointment.get("resourceType") != "Appointment":
            continue
        where = f"entry {number} (Appointment)"
        status = appointment.get("status", "")
        if status not in BOOKED | CANCELLED:
            continue
        patient = _participant(appointment, "Patient", by_reference)
        location = _participant(appointment, "Location", by_reference)
        based_on = appointment.get("basedOn") or [{}]
        request = by_reference.get(based_on[0].get("reference", ""))
        if patient is None or location is None or not isinstance(request, dict):
            raise FhirError(
                f"{where}: needs a Patient, a Location and a ServiceRequest in the bundle"
            )
        name = (patient.get("name") or [{}])[0]
        period = request.get("occurrencePeriod") or {}
        line = {
            "national_number": _identifier(patient, SSIN),
            "first_name": " ".join(name.get("given", [])),
            "last_name": str(name.get("family", "")),
            "birth_date": str(patient.get("birthDate", "")),
            "site_id": _identifier(location, SITE),
            "programme": _code(request.get("code"), PROGRAMME),
            "enrolment_start": str(period.get("start") or request.get("authoredOn", ""))[:10],
            "kind": _code(appointment.get("serviceType", []), SESSION_KIND),
            "starts_at": str(appointment.get("start", "")),
            "ends_at": str(appointment.get("end", "")),
            "room": str(location.get("name", "")),
            "status": "cancelled" if status in CANCELLED else "booked",
        }
        missing = [
            key for key in ("national_number", "site_id", "programme", "kind") if not line[key]
        ]
        if missing:
            raise FhirError(f"{where}: no {', '.join(missing)}")
        lines.append((where, line))
    return lines
