"""Modal screens of the notes tab: new note, note list, search.

The rename prompt is ``ui.prompts.TextPrompt``; the delete question ``ConfirmScreen``.

Each is a typed ``ModalScreen[T]`` that answers through ``dismiss``; note names, file
names and matched lines are external text, so they are shown through ``plain`` (a
``Text``, never markup, control characters escaped).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from waitwise_tui.core.notes.store import NoteInfo, SearchHit
from waitwise_tui.ui.plain import plain

MODAL_CSS = """
NotesModal {
    align: center middle;
}
NotesModal > Vertical {
    width: 70;
    max-width: 100%;
    height: auto;
    max-height: 100%;
    border: thick $primary 80%;
    background: $surface;
    padding: 0 1;
}
NotesModal OptionList {
    height: auto;
    max-height: 12;
}
NotesModal .buttons {
    height: auto;
    align-horizontal: right;
}
NotesModal Button {
    margin-left: 1;
}
"""


T = TypeVar("T")


class NotesModal(ModalScreen[T]):
    """Shared look and the escape-to-cancel key of the notes modals."""

    DEFAULT_CSS = MODAL_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]

    def action_cancel(self) -> None:
        self.dismiss(None)


class NewNoteScreen(NotesModal["tuple[str, str] | None"]):
    """Ask for a new note's name and template; answers (name, template name)."""

    def __init__(self, templates: Sequence[str]) -> None:
        super().__init__()
        self.templates = list(templates)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("New note: name, then enter (tab: pick a template)")
            yield Input(placeholder="note name", id="new-name")
            yield OptionList(
                *[Option(plain(name), id=name) for name in self.templates], id="new-template"
            )

    def _template(self) -> str:
        options = self.query_one("#new-template", OptionList)
        index = options.highlighted if options.highlighted is not None else 0
        return self.templates[index]

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss((event.value.strip(), self._template()))

    @on(OptionList.OptionSelected)
    def _picked(self) -> None:
        name = self.query_one("#new-name", Input).value.strip()
        if name:
            self.dismiss((name, self._template()))
        else:
            self.query_one("#new-name", Input).focus()


class NoteListScreen(NotesModal["str | None"]):
    """Pick a note to open; answers its name."""

    def __init__(self, notes: Sequence[NoteInfo], current: str | None) -> None:
        super().__init__()
        self.notes = list(notes)
        self.current = current

    def compose(self) -> ComposeResult:
        options = [self._option(note) for note in self.notes]
        names = [note.name for note in self.notes]
        if self.current is not None and self.current not in names:
            # The note being edited has no file yet; it is still one to come back to.
            label = plain(self.current, "bold")
            label.append("  not saved yet", style="dim")
            options.append(Option(label, id=self.current))
            options.sort(key=lambda option: option.id or "")
        with Vertical():
            yield Label(f"Open a note ({len(self.notes)} saved)")
            yield OptionList(*options, id="note-list")

    def _option(self, note: NoteInfo) -> Option:
        label = plain(note.name, "bold" if note.name == self.current else "")
        stamp = datetime.fromtimestamp(note.modified).strftime("%Y-%m-%d %H:%M")
        label.append(f"  {stamp}  {note.size} B", style="dim")
        return Option(label, id=note.name)

    def on_mount(self) -> None:
        options = self.query_one("#note-list", OptionList)
        index = options.get_option_index(self.current) if self.current else None
        if index is not None:
            options.highlighted = index

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


@dataclass
class _SearchDone(Message, bubble=False):
    """The matches for ``query``, found by a search worker."""

    query: str
    hits: list[SearchHit]


class SearchScreen(NotesModal["SearchHit | None"]):
    """Full-text search across notes; answers the chosen match."""

    def __init__(self, search: Callable[[str], list[SearchHit]]) -> None:
        super().__init__()
        self.search = search
        self.hits: list[SearchHit] = []
        self.hits_query: str | None = None
        self.submitted = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Search notes (enter: first match, down: choose)")
            yield Input(placeholder="text to find", id="search-input")
            yield OptionList(id="search-hits")

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._run_search(event.value)

    @work(thread=True, exclusive=True, group="notes-search", exit_on_error=False)
    def _run_search(self, query: str) -> None:
        self.post_message(_SearchDone(query, self.search(query)))

    @on(_SearchDone)
    def _show_hits(self, message: _SearchDone) -> None:
        query, hits = message.query, message.hits
        if query != self.query_one("#search-input", Input).value:
            return  # an older query finished after a newer one started
        self.hits = hits
        self.hits_query = query
        if self.submitted and hits:
            self.dismiss(hits[0])
            return
        options = self.query_one("#search-hits", OptionList)
        options.clear_options()
        for hit in hits:
            label = plain(f"{hit.name}:{hit.line + 1}  ", "dim")
            label.append_text(plain(hit.text.strip(), limit=200))
            options.add_option(Option(label))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if self.hits_query == event.value:
            if self.hits:
                self.dismiss(self.hits[0])
            return
        # The search for this text has not reported yet: jump when it does.
        self.submitted = True

    def key_down(self) -> None:
        options = self.query_one("#search-hits", OptionList)
        if self.focused is self.query_one("#search-input", Input) and options.option_count:
            options.focus()
            options.highlighted = 0

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.hits[event.option_index])
