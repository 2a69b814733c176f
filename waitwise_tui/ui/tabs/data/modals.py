"""The data tab's file picker: a path input, the recent datasets and a directory tree.

File names are outside text: the recent list and the tree show them through ``plain``
(``DirectoryTree`` alone would read every name as markup).
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Input, Label, OptionList
from textual.widgets.option_list import Option

from waitwise_tui.ui.plain import plain


class PlainDirectoryTree(DirectoryTree):
    """A ``DirectoryTree`` that shows file names as they are.

    Textual's tree reads a ``str`` label as markup, so a file named ``[/].csv`` raised
    MarkupError and ``[red]x.csv`` showed as a red ``x.csv``; control characters in a
    name reached the terminal. ``process_label`` is the documented hook for this.
    """

    def process_label(self, label: str | Text) -> Text:
        return super().process_label(plain(label) if isinstance(label, str) else label)


class OpenDataScreen(ModalScreen[str | None]):
    """Pick a dataset: type a path, choose a recent file or browse. Dismisses with the path."""

    DEFAULT_CSS = """
    OpenDataScreen { align: center middle; }
    OpenDataScreen > Vertical {
        width: 90%; height: 90%; border: round $accent; background: $surface; padding: 0 1;
    }
    OpenDataScreen #open-recent { height: auto; max-height: 6; }
    OpenDataScreen DirectoryTree { height: 1fr; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="data.open.cancel")]

    def __init__(self, title: str, root: Path, recents: list[str]) -> None:
        super().__init__()
        self._title = title
        self._root = root
        self._recents = recents

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self._title))
            yield Input(placeholder="path to CSV/TSV/Parquet/JSONL/Feather", id="open-path")
            if self._recents:
                yield OptionList(
                    *[
                        Option(plain(_shown(p, self._root)), id=str(i))
                        for i, p in enumerate(self._recents)
                    ],
                    id="open-recent",
                )
            yield PlainDirectoryTree(self._root, id="open-tree")

    def on_mount(self) -> None:
        self.query_one("#open-path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if text:
            path = Path(text).expanduser()
            self.dismiss(str(path if path.is_absolute() else self._root / path))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self._recents[int(event.option.id or 0)])

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.dismiss(str(event.path))

    def action_cancel(self) -> None:
        self.dismiss(None)


def _shown(path: str, root: Path) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return path
