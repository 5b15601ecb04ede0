"""The patient screen's accessibility aids, as EN 301 549 asks of a closed terminal: time
limits that warn before they expire and that the patient extends, and a voice that says what
the screen shows and says it again on request.

:class:`AidedScreen` is the base of :class:`kiosk.ui.screens.patient.PatientScreen`, which
decides what an expired limit leads to. The result's limit is ``result_timeout_seconds`` while the
card is in (then the card-left screen) and ``result_after_card_seconds`` once it is out (then
home); ``warning_seconds`` before the end a countdown line shows (with the bell and a warning on
the card line while the card is in), and any touch, click or key starts the limit again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, Literal, cast

from textual.binding import Binding, BindingType
from textual.events import Key, MouseDown
from textual.screen import Screen

from kiosk.core.i18n import Translator, translator
from kiosk.ui import result_text, voice
from kiosk.ui.result_text import ResultText
from kiosk.ui.time_limits import Kind, TimeLimit
from kiosk.ui.widgets.result_view import ResultView

if TYPE_CHECKING:
    from kiosk.ui.app import KioskApp

State = Literal["home", "reading", "checking", "result", "card_left", "reader_down"]


class AidedScreen(Screen[None]):
    """Time limits and voice of the patient screen (its views come with the subclass)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("r,R,shift+r", "repeat", show=False)]

    def __init__(self) -> None:
        super().__init__()
        self.state: State = "home"
        self.language = "nl"
        self._card_in = False
        self._limit: TimeLimit | None = None
        """The time limit of the result shown (None on the other views)."""
        self._warned = False
        """Whether the countdown of the running limit has started."""
        self._said: tuple[str, str] | None = None
        """What the voice said last, in which language (the patient may ask for it again)."""

    @property
    def kiosk(self) -> KioskApp:
        """The app, typed."""
        return cast("KioskApp", self.app)

    @property
    def tr(self) -> Translator:
        """Texts in the language currently chosen on the screen."""
        return translator(self.language)

    # -- time limits --------------------------------------------------------------------------

    def _limit_tick(self) -> Kind | None:
        """Count the result's limit down; the kind of the limit that has just expired, if any."""
        limit = self._limit
        if limit is None:
            return None
        now = self.kiosk.services.monotonic()
        if limit.expired(now):
            self._limit = None
            return limit.kind
        left = limit.warning(now)
        view = self.query_one(ResultView)
        view.show_countdown(self._countdown(left) if left is not None else "")
        if left is None or self._warned:
            return None
        self._warned = True
        if limit.kind == "card_in":
            view.show_card_note(
                self.tr("Your card is still in the reader: please take it back now."), warn=True
            )
            self.app.bell()
        self._speak(self._countdown(left), again=False)
        return None

    def _countdown(self, seconds: int) -> str:
        return self.tr(
            "This page closes in {seconds} s. Touch the screen for more time.", seconds=seconds
        )

    def _start_limit(self) -> None:
        """The result's time limit from now: the card-in one, or the card-out one."""
        settings = self.kiosk.services.settings
        self._limit = TimeLimit(
            "card_in" if self._card_in else "card_out",
            self.kiosk.services.monotonic(),
            settings.result_timeout_seconds
            if self._card_in
            else settings.result_after_card_seconds,
            settings.warning_seconds,
        )
        self._warned = False
        self.query_one(ResultView).show_countdown("")

    def extend_time(self) -> None:
        """The patient touched the screen or pressed a key: the whole time again."""
        if self.state != "result" or self._limit is None:
            return
        self._limit.extend(self.kiosk.services.monotonic())
        if self._warned:
            self._warned = False
            view = self.query_one(ResultView)
            view.show_countdown("")
            if self._card_in:
                view.show_card_note(self.tr("Please take your card back."), warn=False)

    def on_mouse_down(self, event: MouseDown) -> None:
        """A touch anywhere gives the patient more time."""
        self.extend_time()

    def on_key(self, event: Key) -> None:
        """So does any key."""
        self.extend_time()

    # -- voice --------------------------------------------------------------------------------

    def _say_text(self, text: ResultText, note: str) -> None:
        """Say what the screen shows; the name only into a headset (``[ui] speech_output``)."""
        services = self.kiosk.services
        self.query_one(ResultView).show_repeat(self.tr("Repeat") if services.speech_on else "")
        headset = services.settings.speech_output == "headset"
        self._speak(result_text.spoken(text, note, with_name=headset))

    def _speak(self, sentence: str, *, again: bool = True) -> None:
        """Hand ``sentence`` to the voice, when speech output is on (``again``: it is what the
        repeat key says)."""
        if not self.kiosk.services.speech_on:
            return
        if again:
            self._said = (sentence, self.language)
        speaker = self.kiosk.services.speaker
        self._voice(functools.partial(voice.say, speaker, sentence, self.language))

    def _hush(self) -> None:
        """Silence, and nothing left to repeat (back home)."""
        self._said = None
        if self.kiosk.services.speech_on:
            self._voice(functools.partial(voice.hush, self.kiosk.services.speaker))

    def _voice(self, call: Callable[[], None]) -> None:
        """Speech off the UI thread; a new text replaces the one still waiting."""
        self.run_worker(call, thread=True, exclusive=True, group="speech")

    def action_repeat(self) -> None:
        """Say the last text again (the repeat key or button)."""
        if self._said is not None and self.kiosk.services.speech_on:
            self._voice(functools.partial(voice.say, self.kiosk.services.speaker, *self._said))
