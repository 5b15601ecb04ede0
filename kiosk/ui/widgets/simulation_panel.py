"""The technician's simulation panel beside the kiosk screen (``kiosk run --simulate``).

Drives the simulated reader and printer and the settable clock, so that a demo shows every
outcome in a minute. Everything it does goes through the devices' own interfaces.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Button, Select, Static

from kiosk.core.i18n import Translator


@dataclass(frozen=True)
class DemoCard:
    """One virtual card of the demo, as the index lists it (first name and initial only)."""

    path: Path
    label: str
    programme: str
    stage: str
    patient_id: str = ""


def load_cards(cards_dir: Path | None) -> list[DemoCard]:
    """The demo cards listed in ``cards_dir/index.json`` (none when there is no index)."""
    if cards_dir is None:
        return []
    try:
        entries = json.loads((cards_dir / "index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [
        DemoCard(
            cards_dir / e["file"],
            e["label"],
            e.get("programme", ""),
            e.get("stage", ""),
            e.get("patient_id", ""),
        )
        for e in entries
        if isinstance(e, dict) and "file" in e and "label" in e
    ]


class SimulationPanel(VerticalScroll):
    """Buttons for the simulated devices; the patient screen carries out what they ask."""

    class Action(Message):
        """A button of the panel was pressed: ``action`` names it, ``card`` the chosen card."""

        def __init__(self, action: str, card: Path | None) -> None:
            super().__init__()
            self.action = action
            self.card = card

    ACTIONS = (
        "insert",
        "remove",
        "unreadable",
        "bank",
        "unplug",
        "plug",
        "paper-out",
        "paper-ok",
        "clock-15",
        "clock-next",
        "reception",
        "technician",
        "quit",
    )

    def __init__(self, cards: list[DemoCard], tr: Translator, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._cards = cards
        self._tr = tr

    def compose(self) -> ComposeResult:
        """The card picker, the device buttons, the clock."""
        tr = self._tr
        yield Static(tr("Simulation"), classes="panel-title")
        yield Select(
            [(f"{c.label} ({c.stage})", str(c.path)) for c in self._cards],
            prompt=tr("Choose a card"),
            id="sim-card",
            compact=True,
            value=str(self._cards[0].path) if self._cards else Select.NULL,
        )
        labels = {
            "insert": tr("Insert card"),
            "remove": tr("Remove card"),
            "unreadable": tr("Unreadable card"),
            "bank": tr("Bank card"),
            "unplug": tr("Unplug reader"),
            "plug": tr("Plug reader in"),
            "paper-out": tr("Printer out of paper"),
            "paper-ok": tr("Printer repaired"),
            "clock-15": tr("Clock +15 min"),
            "clock-next": tr("Next check-in window"),
            "reception": tr("Reception"),
            "technician": tr("Technician"),
            "quit": tr("Quit"),
        }
        for action in self.ACTIONS:
            yield Button(labels[action], id=f"sim-{action}", compact=True, classes="sim-button")
        yield Static(id="sim-clock")
        yield Static(id="sim-status")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Turn a button into an :class:`Action` for the screen."""
        event.stop()
        if event.button.id is None:
            return
        value = self.query_one("#sim-card", Select).value
        card = Path(value) if isinstance(value, str) else None
        self.post_message(self.Action(event.button.id.removeprefix("sim-"), card))

    def pick_patient(self, patient_ids: tuple[str, ...]) -> str | None:
        """Select the card of the first of ``patient_ids`` that has one; its label, or None."""
        card = next((c for c in self._cards if c.patient_id and c.patient_id in patient_ids), None)
        if card is None:
            return None
        self.query_one("#sim-card", Select).value = str(card.path)
        return card.label

    def show_clock(self, text: str) -> None:
        """The simulated time."""
        self.query_one("#sim-clock", Static).update(text)

    def show_status(self, text: str) -> None:
        """The last thing the panel did."""
        self.query_one("#sim-status", Static).update(text)
