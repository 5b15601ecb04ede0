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


def initial_name(patient: Patient) -> str:
    """What a public screen may show: the first name and the initial of the last name."""
    first = patient.first_name.split()[0] if patient.first_name.strip() else ""
    initial = f" {patient.last_name.strip()[0]}." if patient.last_name.strip() else ""
    return f"{first}{initial}"
