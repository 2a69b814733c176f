"""Modal prompts of the tuner tab: a one-line text prompt and a yes/no question.

Both are typed ``ModalScreen``s answering through ``dismiss``; the texts they show
(study names, file paths, error messages) are external, so they are ``plain``: a
``Text`` (never markup) with control characters shown escaped.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from waitwise_tui.ui.plain import plain

_CSS = """
TunerPrompt {
    align: center middle;
}
TunerPrompt > Vertical {
    width: 64;
    max-width: 100%;
    height: auto;
    border: thick $primary 80%;
    background: $surface;
    padding: 0 1;
}
"""


class TunerPrompt(ModalScreen[str | None]):
    """Ask for one line of text (Enter answers, Escape cancels with None)."""

    DEFAULT_CSS = _CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, question: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self._question = question
        self._value = value
        self._placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(plain(self._question, multiline=True, limit=2000))
            yield Input(self._value, placeholder=self._placeholder, id="tuner-prompt-input")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
