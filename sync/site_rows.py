"""Which rows of a table belong to a site: the one declaration both apply paths scope their
updates and deletes by (a kiosk names rows by id; the id alone could be another site's)."""

from __future__ import annotations

_OF_BOOKING = (
    "EXISTS (SELECT 1 FROM {S}bookings b JOIN {S}sessions s ON s.id = b.session_id "
    "WHERE b.id = {t}.booking_id AND s.site_id = {site})"
)
# ``{t}`` is the row's table (or alias), ``{S}`` the schema with its dot (or nothing) and
# ``{site}`` the site's value (an SQL parameter or variable).
SITE_OF_ROW = {
    "patients": "{t}.site_id = {site}",
    "enrolments": "{t}.site_id = {site}",
    "sessions": "{t}.site_id = {site}",
    "parking_tickets": "{t}.site_id = {site}",
    "alerts": "{t}.site_id = {site}",
    "bookings": "EXISTS (SELECT 1 FROM {S}sessions s WHERE s.id = {t}.session_id "
    "AND s.site_id = {site})",
    "checkins": _OF_BOOKING,
    "absences": _OF_BOOKING,
    "cancellations": _OF_BOOKING,
}


def site_of_row(table: str, *, site: str, schema: str = "", alias: str | None = None) -> str:
    """SQL: the row of ``table`` is at the site ``site`` (an expression)."""
    prefix = f"{schema}." if schema else ""
    return SITE_OF_ROW[table].format(t=alias or f"{prefix}{table}", S=prefix, site=site)
