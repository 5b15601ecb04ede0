"""A starter configuration for a demo box, with secrets generated on the spot."""

from __future__ import annotations

import os
from pathlib import Path


def demo_config_text(data_dir: Path) -> str:
    """A starter configuration with freshly generated secrets (never committed anywhere)."""
    return f"""# Rehab kiosk configuration (demo). Secrets below were generated on this machine.
site_id = "GENK"
kiosk_id = "GENK-1"
kiosk_number = 1
centre_name = "Ambulante Revalidatie"
data_dir = "{data_dir}"

[checkin]
opens_before_minutes = 45
closes_after_minutes = 20

[privacy]
# Key of the hash the kiosk looks patients up by; the same on every kiosk and the centre.
lookup_key = "{os.urandom(32).hex()}"

[parking]
signing_key = "K1"
grace_minutes = 60

[parking.keys]
K1 = "{os.urandom(32).hex()}"

[ui]
language = "nl"
result_timeout_seconds = 15
result_after_card_seconds = 8
warning_seconds = 5
speech = "off"
speech_output = "speaker"
theme = "default"

[devices]
reader = "simulated"
printer = "file"
"""
