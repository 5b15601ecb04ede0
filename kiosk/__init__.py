"""Rehab kiosk: check-in kiosk of an outpatient rehabilitation centre."""

__version__ = "0.1.0"
