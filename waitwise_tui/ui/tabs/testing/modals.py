"""Modals of the tests tab: ask for a data profile (a ``TextPrompt``), confirm an
overwrite by its diff.

The diff quotes column names from the profile: it is shown through ``plain``.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from waitwise_tui.ui.plain import plain
from waitwise_tui.ui.prompts import TextPrompt


class ProfilePrompt(TextPrompt):
    """The ``TextPrompt`` asking for a data profile; its cancel key keeps its keymap id."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="tests.prompt_cancel")]


class DiffConfirm(ModalScreen[bool]):
    """Show what regenerating would change; True overwrites."""

    DEFAULT_CSS = """
    DiffConfirm { align: center middle; }
    DiffConfirm > Vertical {
        width: 90%; height: 90%; border: round $warning; padding: 0 1; background: $surface;
    }
    DiffConfirm VerticalScroll { height: 1fr; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Overwrite", id="tests.diff_yes"),
        Binding("n,escape", "answer(False)", "Keep", id="tests.diff_no"),
    ]

    def __init__(self, diff: str) -> None:
        super().__init__()
        self.diff = diff

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Regenerating changes these files — y: overwrite, n/esc: keep")
            with VerticalScroll():
                yield Static(plain(self.diff, multiline=True))

    def action_answer(self, overwrite: bool) -> None:
        self.dismiss(overwrite)
