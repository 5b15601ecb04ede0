"""The patient screen's time limits, as EN 301 549 asks of them: each warns before it expires
and can be extended by the patient.

Plain Python (no Textual): a limit is a start on the screen's monotonic clock and a length; the
screen compares it with the clock on its tick, shows the countdown while :meth:`TimeLimit.warning`
says so, and calls :meth:`TimeLimit.extend` on a touch, a click or a key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Kind = Literal["card_in", "card_out"]
"""``card_in``: the result's stay with the card still in (then the card-left screen);
``card_out``: the result's stay once the card is out (then the home screen)."""


@dataclass
class TimeLimit:
    """One running time limit of the patient screen."""

    kind: Kind
    started: float
    seconds: float
    warning_seconds: float
    """How long before the end the countdown shows (at most half the limit: a short limit
    is not all warning)."""

    def left(self, now: float) -> float:
        """Seconds left at ``now`` (zero or less once expired)."""
        return self.started + self.seconds - now

    def expired(self, now: float) -> bool:
        """Whether the limit has run out at ``now``."""
        return self.left(now) <= 0

    def warning(self, now: float) -> int | None:
        """The whole seconds left while the countdown should show, else None."""
        left = self.left(now)
        if left <= 0 or left > min(self.warning_seconds, self.seconds / 2):
            return None
        return math.ceil(left)

    def extend(self, now: float) -> None:
        """The patient asked for more time: the limit starts again from ``now``."""
        self.started = now
