"""Reception's side of attendance: closing a day, cancellations with their fee, excused absences,
corrections and undoing them, admitting a refused patient, resuming a stopped programme. Each is
one transaction with its audit entry and outbox events."""

from kiosk.domain.attendance.absences import stop_lifted_without, withdraw_absence
from kiosk.domain.attendance.closing import (
    CAME_BUT_REFUSED,
    DayClosed,
    DayClosing,
    DayPreview,
    WouldStop,
)
from kiosk.domain.attendance.corrections import BookingCorrections
from kiosk.domain.attendance.decisions import Admitted, EnrolmentDecisions
from kiosk.domain.attendance.desk import AttendanceError


class Attendance(DayClosing, BookingCorrections, EnrolmentDecisions):
    """Reception's actions on one database: closing the day, correcting bookings, deciding on
    enrolments."""


__all__ = [
    "CAME_BUT_REFUSED",
    "Admitted",
    "Attendance",
    "AttendanceError",
    "DayClosed",
    "DayPreview",
    "WouldStop",
    "stop_lifted_without",
    "withdraw_absence",
]
