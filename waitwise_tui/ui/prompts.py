"""The shared one-line prompt: every modal that asks for one line of text is a ``TextPrompt``.

``TextPrompt`` is a typed ``ModalScreen[str | None]``: Enter answers the line (stripped),
Escape cancels with ``None``. A ``validate`` function may refuse an answer with a one-line
reason, shown under the input while the prompt stays open. What an empty line means is
the caller's choice (``empty``): the same as cancelling, an answer of its own ("clear
it"), or not an answer at all.

Titles, hints, initial values and error lines may quote outside text (a run name, a file
path, what was typed), so a ``str`` is shown through ``plain`` (never markup, control
characters escaped); a caller that styles its title passes a ``Text`` built the same way.

A prompt whose cancel key has a keymap id subclasses this with its own ``BINDINGS``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.events import Paste
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from waitwise_tui.ui.plain import plain

Empty = Literal["cancel", "answer", "refuse"]


class OneLineInput(Input):
    """An Input that keeps a multi-line paste (a BibTeX record) as one line of words."""

    def _on_paste(self, event: Paste) -> None:
        event.prevent_default()  # Input's own handler would add the first line again
        if event.text:
            text = " ".join(event.text.split())
            selection = self.selection
            if selection.is_empty:
                self.insert_text_at_cursor(text)
            else:
                self.replace(text, *selection)
        event.stop()


class TextPrompt(ModalScreen[str | None]):
    """Ask for one line. Enter answers it stripped; Escape answers ``None``.

    ``empty`` says what Enter on an empty line does: ``"cancel"`` answers ``None`` like
    Escape, ``"answer"`` answers ``""``, ``"refuse"`` keeps the prompt open. ``validate``
    gets every non-empty answer and returns ``None`` to accept it or the line that says
    why not. ``join_paste`` keeps a multi-line paste as one line instead of its first line.
    """

    DEFAULT_CSS = """
    TextPrompt { align: center middle; }
    TextPrompt > Vertical {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    TextPrompt #prompt-title { text-style: bold; }
    TextPrompt #prompt-hint { color: $text-muted; }
    TextPrompt #prompt-error { color: $error; text-style: bold; display: none; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(
        self,
        title: str | Text,
        value: str = "",
        *,
        hint: str | Text = "",
        placeholder: str = "",
        validate: Callable[[str], str | None] | None = None,
        empty: Empty = "cancel",
        join_paste: bool = False,
    ) -> None:
        super().__init__()
        self.prompt_title = title
        self.initial = value
        self.hint = hint
        self.placeholder = placeholder
        self.validate = validate
        self.empty: Empty = empty
        self.join_paste = join_paste

    def compose(self) -> ComposeResult:
        input_class = OneLineInput if self.join_paste else Input
        with Vertical():
            yield Label(_shown(self.prompt_title), id="prompt-title")
            yield input_class(self.initial, placeholder=self.placeholder, id="prompt-input")
            if self.hint:
                yield Label(_shown(self.hint), id="prompt-hint")
            yield Label("", id="prompt-error")

    def on_mount(self) -> None:
        self.query_one("#prompt-input", Input).focus()

    @on(Input.Submitted, "#prompt-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            if self.empty != "refuse":
                self.dismiss("" if self.empty == "answer" else None)
            return
        reason = self.validate(text) if self.validate is not None else None
        if reason is not None:
            error = self.query_one("#prompt-error", Label)
            error.update(plain(reason))
            error.display = True
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _shown(text: str | Text) -> Text:
    return text if isinstance(text, Text) else plain(text, multiline=True, limit=2000)
