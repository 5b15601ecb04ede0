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
  (``given``, ``family``), ``birthDate`` (a year or a month alone is an unknown date) and the
  ``communication`` marked ``preferred`` (else the first): its ``language`` codes (BCP-47,
  ``fr-BE``), else its text, as one of the kiosk's languages; any other language is not known.
* ``ServiceRequest`` (the referral to the programme): ``code`` coded in
  ``urn:rehab-kiosk:programme`` and ``occurrencePeriod.start`` (or ``authoredOn``), the
  enrolment's start.
* ``Location`` (the room): ``name``, and the site in an ``identifier`` of system
  ``urn:rehab-kiosk:site``.

References may be relative (``Patient/17``) or the entries' ``fullUrl`` (``urn:uuid:...``).
A bundle is JSON from elsewhere: every element read is checked for its type, and an element of
the wrong shape is a problem naming the entry and the element, never a person's data nor
anything of the bundle's own text. What the booking's fields then hold is checked by the import.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from kiosk.core.i18n import kiosk_language

SSIN = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin"
PROGRAMME = "urn:rehab-kiosk:programme"
SESSION_KIND = "urn:rehab-kiosk:session-kind"
SITE = "urn:rehab-kiosk:site"

BOOKED = frozenset({"booked", "arrived", "checked-in", "fulfilled", "noshow"})
CANCELLED = frozenset({"cancelled", "entered-in-error"})
NOT_YET = frozenset({"proposed", "pending", "waitlist"})
"""Every other R4 Appointment status: not a booking yet, left out."""

# FHIR's partial dates: a birth year, or year and month, say the day is not known.
_PARTIAL_DATE = re.compile(r"\d{4}(-\d{2})?")


class FhirError(ValueError):
    """The bundle cannot be read as bookings: one problem per entry, naming it and why."""

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems = (problems,) if isinstance(problems, str) else tuple(problems)
        super().__init__("\n".join(self.problems))


class _Malformed(Exception):
    """An element of the wrong shape; the message names the entry and the element."""


class _Node:
    """A JSON object of one entry, read with its types checked."""

    def __init__(self, value: Mapping[str, Any], entry: str, path: str = "") -> None:
        self.value, self.entry, self.path = value, entry, path

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, why: str) -> _Malformed:
        return _Malformed(f"{self.entry}: {self._at(key)}: {why}")

    def text(self, key: str) -> str:
        """A string element, "" when absent."""
        value = self.value.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(key, "must be a string")
        return value

    def texts(self, key: str) -> list[str]:
        """A list of strings, empty when absent."""
        value = self.value.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of strings")
        return value

    def flag(self, key: str) -> bool:
        """A boolean element, False when absent."""
        value = self.value.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def node(self, key: str) -> _Node | None:
        """An object element, None when absent."""
        value = self.value.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.fail(key, "must be an object")
        return _Node(value, self.entry, self._at(key))

    def nodes(self, key: str, *, single: bool = False) -> list[_Node]:
        """A list of objects, empty when absent (``single``: one object is taken as a list)."""
        value = self.value.get(key)
        if value is None:
            return []
        if single and isinstance(value, dict):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            shape = "an object or a list of objects" if single else "a list of objects"
            raise self.fail(key, f"must be {shape}")
        return [_Node(v, self.entry, f"{self._at(key)}[{i}]") for i, v in enumerate(value)]


class _Resource:
    """A bundle entry's resource and where it is in the bundle."""

    def __init__(self, number: int, resource: Mapping[str, Any]) -> None:
        self.number = number
        kind = resource.get("resourceType")
        self.kind = kind if isinstance(kind, str) else ""
        # Only the types read here name an entry: the bundle's own words never reach a message.
        known = self.kind in {"Appointment", "Patient", "ServiceRequest", "Location"}
        self.node = _Node(resource, f"entry {number} ({self.kind})" if known else f"entry {number}")


def _index(bundle: Any) -> tuple[list[_Resource], dict[str, _Resource], list[str]]:
    """The entries' resources, the same by reference, and the problems of the bundle's shape."""
    if (
        not isinstance(bundle, dict)
        or bundle.get("resourceType") != "Bundle"
        or not isinstance(bundle.get("entry"), list)
    ):
        raise FhirError("not a FHIR Bundle with entries")
    resources: list[_Resource] = []
    by_reference: dict[str, _Resource] = {}
    problems: list[str] = []
    for number, entry in enumerate(bundle["entry"]):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            problems.append(f"entry {number}: no resource")
            continue
        item = _Resource(number, resource)
        resources.append(item)
        names = [entry.get("fullUrl")]
        if item.kind and isinstance(resource.get("id"), str):
            names.append(f"{item.kind}/{resource['id']}")
        for name in names:
            if not isinstance(name, str) or not name:
                continue
            earlier = by_reference.setdefault(name, item)
            if earlier is not item and earlier.node.value != resource:
                problems.append(
                    f"{item.node.entry}: has the fullUrl or id of entry {earlier.number}"
                )
    return resources, by_reference, problems


def _code(concepts: list[_Node], system: str) -> str:
    """The code in ``system`` of the first coding that has one."""
    for concept in concepts:
        for coding in concept.nodes("coding"):
            if coding.text("system") == system:
                return coding.text("code")
    return ""


def _identifier(resource: _Node, system: str) -> str:
    for identifier in resource.nodes("identifier"):
        if identifier.text("system") == system:
            return identifier.text("value")
    return ""


def _target(
    reference: _Node | None, kind: str, by_reference: Mapping[str, _Resource]
) -> _Resource | None:
    if reference is None:
        return None
    target = by_reference.get(reference.text("reference"))
    return target if target is not None and target.kind == kind else None


def _participant(
    appointment: _Node, kind: str, by_reference: Mapping[str, _Resource]
) -> _Resource | None:
    for participant in appointment.nodes("participant"):
        target = _target(participant.node("actor"), kind, by_reference)
        if target is not None:
            return target
    return None


def _language(patient: _Node) -> str:
    """The kiosk's language of the patient's preferred communication, "" when none is."""
    spoken = patient.nodes("communication")
    chosen = [c for c in spoken if c.flag("preferred")] or spoken
    concept = chosen[0].node("language") if chosen else None
    if concept is None:
        return ""
    codings = concept.nodes("coding")
    # The codes first (BCP-47 is FHIR's binding), then the words a person typed.
    tags = [c.text("code") for c in codings] + [concept.text("text")]
    tags += [c.text("display") for c in codings]
    return next((language for tag in tags if (language := kiosk_language(tag))), "")


def _day(text: str) -> str:
    """The date of a FHIR date or dateTime, as written (a bad one is the import's to report)."""
    if "T" not in text:
        return text
    try:
        return dt.datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        return text


def _line(
    appointment: _Resource, status: str, by_reference: Mapping[str, _Resource]
) -> dict[str, str]:
    """The booking line of one Appointment; raises :class:`_Malformed`."""
    node = appointment.node
    patient = _participant(node, "Patient", by_reference)
    location = _participant(node, "Location", by_reference)
    request = next(
        (
            target
            for reference in node.nodes("basedOn")
            if (target := _target(reference, "ServiceRequest", by_reference)) is not None
        ),
        None,
    )
    if patient is None or location is None or request is None:
        raise _Malformed(
            f"{node.entry}: needs a Patient, a Location and a ServiceRequest in the bundle"
        )
    names = patient.node.nodes("name")
    name = names[0] if names else None
    birth = patient.node.text("birthDate")
    period = request.node.node("occurrencePeriod")
    started = (period.text("start") if period is not None else "") or request.node.text(
        "authoredOn"
    )
    return {
        "national_number": _identifier(patient.node, SSIN),
        "first_name": " ".join(name.texts("given")) if name is not None else "",
        "last_name": name.text("family") if name is not None else "",
        "birth_date": "" if _PARTIAL_DATE.fullmatch(birth) else birth,
        "site_id": _identifier(location.node, SITE),
        "programme": _code(request.node.nodes("code", single=True), PROGRAMME),
        "enrolment_start": _day(started),
        "kind": _code(node.nodes("serviceType", single=True), SESSION_KIND),
        "starts_at": node.text("start"),
        "ends_at": node.text("end"),
        "room": location.node.text("name"),
        "status": "cancelled" if status in CANCELLED else "booked",
        "language": _language(patient.node),
    }


def bundle_items(bundle: Any) -> Iterator[tuple[str, dict[str, str]] | str]:
    """Each booking of a parsed JSON document as a labelled line with the CSV import's keys, or
    a problem of the bundle's shape, in the order of the entries.

    An entry's problem comes once, however many appointments refer to it. Raises
    :class:`FhirError` when the document is not a Bundle with entries at all.
    """
    resources, by_reference, problems = _index(bundle)
    seen = set(problems)
    yield from problems
    for appointment in resources:
        if appointment.kind != "Appointment":
            continue
        where = appointment.node.entry
        try:
            status = appointment.node.text("status")
            if status not in BOOKED | CANCELLED | NOT_YET:
                raise appointment.node.fail("status", "is not an R4 Appointment status")
            if status in NOT_YET:
                continue
            line = _line(appointment, status, by_reference)
        except _Malformed as exc:
            if str(exc) not in seen:
                seen.add(str(exc))
                yield str(exc)
            continue
        missing = [
            key for key in ("national_number", "site_id", "programme", "kind") if not line[key]
        ]
        if missing:
            yield f"{where}: no {', '.join(missing)}"
            continue
        yield where, line


def bundle_lines(bundle: Any) -> list[tuple[str, dict[str, str]]]:
    """The bookings of a parsed JSON document as labelled lines (see :func:`bundle_items`).

    Raises :class:`FhirError` with every problem of the bundle's shape.
    """
    lines: list[tuple[str, dict[str, str]]] = []
    problems: list[str] = []
    for item in bundle_items(bundle):
        if isinstance(item, str):
            problems.append(item)
        else:
            lines.append(item)
    if problems:
        raise FhirError(problems)
    return lines
