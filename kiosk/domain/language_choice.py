"""The language each patient last chose at the kiosk, so the next result is in it at once.

The patient's own choice at the kiosk comes before the schedule's language (``patients.language``):
remembered per patient (by the pseudonymous patient id, never a name or the national number)
in a small JSON file beside the kiosk's database, written atomically.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from kiosk.core.i18n import LANGUAGES

FILE_NAME = "languages.json"


class LanguageChoices:
    """patient id -> language code, kept in ``folder / languages.json``."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE_NAME
        self._lock = threading.Lock()

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): v for k, v in data.items() if v in LANGUAGES}

    def language_of(self, patient_id: str | None) -> str | None:
        """The language the patient chose last, or None when unknown."""
        if not patient_id:
            return None
        with self._lock:
            return self._load().get(patient_id)

    def remember(self, patient_id: str, language: str) -> None:
        """Keep ``language`` as the patient's choice (one of the kiosk's languages)."""
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}")
        with self._lock:
            data = self._load()
            if data.get(patient_id) == language:
                return
            data[patient_id] = language
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
            temporary.replace(self.path)
