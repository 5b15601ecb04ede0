"""Finding patients by their national register number without keeping it in clear."""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from kiosk.db.models import Patient

_BY_HASH = select(Patient).where(Patient.nn_hash == bindparam("nn_hash"))


def nn_hash(lookup_key: bytes, national_number: str) -> str:
    """The keyed hash patients are looked up by (HMAC-SHA256, hex)."""
    return hmac.new(lookup_key, national_number.encode("ascii"), hashlib.sha256).hexdigest()


def find_by_national_number(db: Session, lookup_key: bytes, national_number: str) -> Patient | None:
    """The patient with this (already validated) number, or None."""
    return db.scalar(_BY_HASH, {"nn_hash": nn_hash(lookup_key, national_number)})


def public_name(first_names: str, last_name: str) -> str:
    """What a public screen, a printed ticket or a card's label may show of a name: the first of
    the first names and the initial of the last name (``Ann-Sophie D.``)."""
    first = first_names.split()[0] if first_names.strip() else ""
    initial = f"{last_name.strip()[0]}." if last_name.strip() else ""
    return " ".join(part for part in (first, initial) if part)


def initial_name(patient: Patient) -> str:
    """The :func:`public_name` of a patient record."""
    return public_name(patient.first_name, patient.last_name)
