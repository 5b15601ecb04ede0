"""The alerts reception sees: programme stopped, absences, device faults."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.db.models import Alert, Patient


@dataclass(frozen=True)
class AlertView:
    """One open alert, with the patient's name when it is about a patient."""

    alert_id: str
    raised_at: dt.datetime
    kind: str
    message: str
    patient_name: str = ""


def open_alerts(db: Session, *, site_id: str | None, limit: int = 20) -> list[AlertView]:
    """Unresolved alerts, newest first (every site when ``site_id`` is None)."""
    query = (
        select(Alert, Patient)
        .outerjoin(Patient, Patient.id == Alert.patient_id)
        .where(Alert.resolved_at.is_(None))
        .order_by(Alert.raised_at.desc())
        .limit(limit)
    )
    if site_id is not None:
        query = query.where(Alert.site_id == site_id)
    return [
        AlertView(
            alert_id=alert.id,
            raised_at=alert.raised_at,
            kind=alert.kind,
            message=alert.message,
            patient_name=f"{patient.first_name} {patient.last_name}" if patient else "",
        )
        for alert, patient in db.execute(query).tuples()
    ]
