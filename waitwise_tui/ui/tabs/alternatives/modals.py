"""Modal screens of the alternatives tab: the entry form and the status picker.

One-line questions (quick add, import, export) are ``ui.prompts.TextPrompt``.

Titles, authors, links and notes come from BibTeX files and arXiv: the form shows them
with control characters escaped (``display``) and keeps the original text for every
field left as it was shown, so opening and saving a form changes nothing.
"""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from waitwise_tui.core.alternatives.arxiv import normalize_doi, parse_arxiv_id
from waitwise_tui.core.alternatives.model import KINDS, PRIORITIES, STATUSES, Entry
from waitwise_tui.core.text import display
from waitwise_tui.ui.plain import plain

_MODAL_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 76; max-width: 100%; height: auto; max-height: 100%;
    border: round $accent; background: $surface; padding: 0 1;
}}
{name} .title {{ text-style: bold; }}
{name} .hint {{ color: $text-muted; }}
{name} .error {{ color: $error; }}
"""


class StatusPicker(ModalScreen[str | None]):
    """Pick one status for the selected entries."""

    DEFAULT_CSS = (
        _MODAL_CSS.format(name="StatusPicker")
        + """
    StatusPicker > Vertical { width: 36; }
    StatusPicker OptionList { height: auto; border: none; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, current: str | None = None) -> None:
        super().__init__()
        self._title = title
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self._title), classes="title")
            yield OptionList(*(Option(status, id=status) for status in STATUSES))

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if self._current in STATUSES:
            options.highlighted = STATUSES.index(self._current)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class EntryForm(ModalScreen[Entry | None]):
    """Add or edit an entry. ctrl+s saves, escape cancels; errors show in the form."""

    DEFAULT_CSS = (
        _MODAL_CSS.format(name="EntryForm")
        + """
    EntryForm > Vertical { height: 100%; max-height: 40; }
    EntryForm VerticalScroll { height: 1fr; }
    EntryForm .row { height: auto; margin-bottom: 0; }
    EntryForm .row > Label { width: 10; padding-top: 0; }
    EntryForm .row > Input, EntryForm .row > Select { width: 1fr; }
    EntryForm TextArea { height: 5; width: 1fr; }
    EntryForm #form-links { height: 3; }
    EntryForm #form-buttons { height: auto; align-horizontal: right; }
    EntryForm Button { margin-left: 1; }
    """
    )
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="alternatives.form_save"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, entry: Entry, *, heading: str) -> None:
        super().__init__()
        self._entry = entry
        self._heading = heading
        # Each field's text as the entry holds it; the widget shows it through display.
        self._originals = {
            "title": entry.title,
            "url": entry.url,
            "arxiv": entry.arxiv_id,
            "doi": entry.doi,
            "authors": "; ".join(entry.authors),
            "tags": ", ".join(entry.tags),
            "links": "\n".join(entry.links),
            "notes": entry.notes,
        }

    def _shown(self, name: str) -> str:
        return display(self._originals[name], multiline=name in _MULTILINE)

    def compose(self) -> ComposeResult:
        e = self._entry
        with Vertical():
            yield Label(plain(self._heading), classes="title")
            with VerticalScroll():
                yield from self._row(
                    "Title", Input(self._shown("title"), id="form-title", compact=True)
                )
                yield from self._row(
                    "Kind",
                    Select(
                        ((k, k) for k in KINDS),
                        value=e.kind,
                        allow_blank=False,
                        id="form-kind",
                        compact=True,
                    ),
                )
                yield from self._row(
                    "Status",
                    Select(
                        ((s, s) for s in STATUSES),
                        value=e.status,
                        allow_blank=False,
                        id="form-status",
                        compact=True,
                    ),
                )
                yield from self._row(
                    "Priority",
                    Input(
                        str(e.priority),
                        placeholder="1 (highest) to 5",
                        id="form-priority",
                        compact=True,
                    ),
                )
                yield from self._row(
                    "Minutes",
                    Input(
                        "" if e.minutes is None else str(e.minutes),
                        placeholder="estimated reading time",
                        id="form-minutes",
                        compact=True,
                    ),
                )
                yield from self._row("URL", Input(self._shown("url"), id="form-url", compact=True))
                yield from self._row(
                    "arXiv",
                    Input(
                        self._shown("arxiv"),
                        placeholder="2106.09685 or hep-th/9901001",
                        id="form-arxiv",
                        compact=True,
                    ),
                )
                yield from self._row("DOI", Input(self._shown("doi"), id="form-doi", compact=True))
                yield from self._row(
                    "Authors",
                    Input(
                        self._shown("authors"),
                        placeholder="separated by ;",
                        id="form-authors",
                        compact=True,
                    ),
                )
                yield from self._row(
                    "Year",
                    Input("" if e.year is None else str(e.year), id="form-year", compact=True),
                )
                yield from self._row(
                    "Tags",
                    Input(
                        self._shown("tags"),
                        placeholder="separated by ,",
                        id="form-tags",
                        compact=True,
                    ),
                )
                yield Label("Links to trials, runs, notes (one per line)")
                yield TextArea(self._shown("links"), id="form-links", compact=True)
                yield Label("Notes (Markdown)")
                yield TextArea(self._shown("notes"), id="form-notes", compact=True)
            yield Static("", id="form-error", classes="error")
            with Horizontal(id="form-buttons"):
                yield Button("Save (ctrl+s)", id="form-save", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="form-cancel", compact=True)

    @staticmethod
    def _row(label: str, widget) -> ComposeResult:
        with Horizontal(classes="row"):
            yield Label(label)
            yield widget

    def on_mount(self) -> None:
        self.query_one("#form-title", Input).focus()

    @on(Button.Pressed, "#form-save")
    def _save_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_save()

    @on(Button.Pressed, "#form-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        try:
            entry = self._read()
        except ValueError as exc:
            self.query_one("#form-error", Static).update(plain(exc))
            return
        self.dismiss(entry)

    def _value(self, name: str) -> str:
        return self._kept(name, self.query_one(f"#form-{name}", Input).value).strip()

    def _kept(self, name: str, value: str) -> str:
        """The entry's own text for a field still showing it as shown, else ``value``."""
        if name in self._originals and value == self._shown(name):
            return self._originals[name]
        return value

    def _read(self) -> Entry:
        title = self._value("title")
        if not title:
            raise ValueError("A title is needed.")
        priority = _whole(self._value("priority"), "Priority")
        if priority not in PRIORITIES:
            raise ValueError("Priority must be 1 (highest) to 5.")
        arxiv = self._value("arxiv")
        if arxiv and parse_arxiv_id(arxiv) is None:
            raise ValueError(f"Not an arXiv id: {arxiv}")
        if arxiv.lower().startswith("arxiv:"):
            arxiv = arxiv[6:].strip()
        doi = self._value("doi")
        if doi and not normalize_doi(doi):
            raise ValueError(f"Not a DOI: {doi}")
        links = self._kept("links", self.query_one("#form-links", TextArea).text).splitlines()
        return replace(
            self._entry,
            title=title,
            kind=str(self.query_one("#form-kind", Select).value),
            status=str(self.query_one("#form-status", Select).value),
            priority=priority,
            minutes=_whole(self._value("minutes"), "Minutes") if self._value("minutes") else None,
            url=self._value("url"),
            arxiv_id=arxiv,
            doi=normalize_doi(doi) if doi else "",
            authors=tuple(a.strip() for a in self._value("authors").split(";") if a.strip()),
            year=_whole(self._value("year"), "Year") if self._value("year") else None,
            tags=tuple(t.strip() for t in self._value("tags").split(",") if t.strip()),
            links=tuple(link.strip() for link in links if link.strip()),
            notes=self._kept("notes", self.query_one("#form-notes", TextArea).text),
        )


_MULTILINE = frozenset({"links", "notes"})


def _whole(text: str, name: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name} must be a whole number.") from None
    if value < 0:
        raise ValueError(f"{name} must not be negative.")
    return value
