"""Modal screens of the app shell: help (every binding) and quit confirmation.

A question given as ``str`` quotes file names, study names and the like, so it is shown
through ``plain`` (never markup, control characters escaped, newlines kept); a caller
that styles its question passes a ``Text`` built the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from waitwise_tui.ui.plain import plain


class ConfirmScreen(ModalScreen[bool]):
    """Ask a yes/no question; dismisses with True for yes."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: auto; max-width: 70; height: auto; padding: 1 2;
        border: thick $warning; background: $surface;
    }
    ConfirmScreen #confirm-question { width: auto; max-width: 66; margin-bottom: 1; }
    ConfirmScreen Horizontal { width: auto; height: auto; }
    ConfirmScreen Button { margin-right: 2; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str | Text, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question = question
        self.yes_label = yes
        self.no_label = no

    def compose(self) -> ComposeResult:
        with Vertical():
            question = self.question
            yield Label(
                question if isinstance(question, Text) else plain(question, multiline=True),
                id="confirm-question",
            )
            with Horizontal():
                yield Button(plain(f"{self.yes_label} (y)"), id="yes", variant="error")
                yield Button(plain(f"{self.no_label} (n)"), id="no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class HelpScreen(ModalScreen[None]):
    """Every binding of the app, grouped by where it applies, with its remap id."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 90%; max-width: 100; height: 90%; border: thick $primary;
        background: $surface; padding: 0 1;
    }
    HelpScreen #help-title { text-style: bold; color: $primary; }
    HelpScreen VerticalScroll { height: 1fr; }
    """
    BINDINGS = [Binding("escape,question_mark,q", "dismiss_help", "Close", id="help.close")]

    def __init__(self, sections: Iterable[tuple[str, list[tuple[str, str, str]]]]) -> None:
        super().__init__()
        self.sections = list(sections)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                'Keys  (remap with [keymap] in settings.toml: id = "key")  esc closes',
                id="help-title",
                markup=False,
            )
            with VerticalScroll():
                yield Static(self._render_sections(), id="help-body")

    def _render_sections(self) -> Text:
        text = Text()
        for title, rows in self.sections:
            if not rows:
                continue
            text.append(f"\n{title}\n", style="bold underline")
            width = max(len(key) for key, _, _ in rows)
            for key, description, binding_id in rows:
                text.append_text(plain(f"  {key:<{width}}  ", "bold"))
                text.append_text(plain(description))
                if binding_id:
                    text.append(f"  ({binding_id})", style="dim")
                text.append("\n")
        return text

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
