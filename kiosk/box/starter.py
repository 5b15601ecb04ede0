"""The starter configuration ``kiosk install`` writes (never over an existing one)."""

from __future__ import annotations

from pathlib import Path


def starter_config(user: str, data_dir: Path) -> str:
    """The starter ``kiosk.toml`` for ``user`` and ``data_dir``, with values marked CHANGE."""
    return f"""\
# Rehab kiosk configuration. Fill in the values marked CHANGE, then: kiosk config check
# This file holds secrets: it must stay readable by {user} only (mode 0600).
site_id = "GENK"                # CHANGE: the campus code
kiosk_id = "GENK-1"             # CHANGE: unique per kiosk
kiosk_number = 1                # CHANGE: 1 to 99, unique within the site
centre_name = "Ambulante Revalidatie"
data_dir = "{data_dir}"
# CHANGE: the central PostgreSQL database (the kiosk keeps working while it is unreachable).
central_url = "postgresql+psycopg://rehab_kiosk@central-db.invalid/rehab"

[checkin]
opens_before_minutes = 45
closes_after_minutes = 20

[privacy]
# CHANGE: the centre's key of the national-number hash (the same on every kiosk), 64 hex digits.
lookup_key = ""

[parking]
signing_key = "K1"
grace_minutes = 60

[parking.keys]
# CHANGE: the parking key shared with the car park's barrier, 64 hex digits.
# K1 = "..."

[ui]
language = "nl"
result_timeout_seconds = 15

[devices]
reader = "pcsc"
reader_name = ""                # empty: the first reader pcscd reports
printer = "escpos"
printer_target = "usb:04b8:0202"  # CHANGE: your printer's USB ids (lsusb), or serial:/dev/ttyUSB0

[logging]
level = "INFO"

[backup]
keep = 14

[database]
# Name of the systemd credential holding the SQLCipher key (see the README); empty: plain file.
key_credential = ""
"""
