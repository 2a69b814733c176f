"""Modals of the tests tab: ask for a data profile, confirm an overwrite by its diff.

The diff quotes column names from the profile: it is shown through ``plain``.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from waitwise_tui.ui.plain import plain


class ProfilePrompt(ModalScreen[str | None]):
    """Ask which saved data profile to generate data tests from."""

    DEFAULT_CSS = """
    ProfilePrompt { align: center middle; }
    ProfilePrompt > Vertical {
        width: 70; max-width: 100%; height: auto; border: round $accent; padding: 0 1;
        background: $surface;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="tests.prompt_cancel")]

    def __init__(self, default: str) -> None:
        super().__init__()
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Data profile JSON to generate tests from (enter: go, esc: cancel)")
            yield Input(value=self.default, placeholder="path/to/profile.json", id="profile-path")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


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
