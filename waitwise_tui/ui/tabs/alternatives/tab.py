"""The Alternatives tab: a reading list of papers, methods and libraries to compare against.

The table shows the store file (``core.alternatives``); every change runs in a thread
worker that loads the file, applies the change and writes it back, so hand edits made
meanwhile are kept and a broken file is never overwritten (the last good state stays on
screen with the error in the status line). A ``Poller`` thread stats the file every
``watch_interval`` seconds and reloads it when its stamp (inode, mtime, ctime, size)
changed and then held for one poll (never half-written), so a hand edit shows up
without a key press; the cursor stays on its entry.
Workers reach the tab by posting dataclass messages: ``Loaded`` (a store or the error
reading it), ``_Notice`` (a line to show) and ``_LookUp`` (entries to complete from
arXiv).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.widgets import DataTable, Input, Static

from waitwise_tui.core.alternatives.exchange import (
    entries_from_text,
    import_entries,
    markdown_table,
)
from waitwise_tui.core.alternatives.model import SORT_KEYS, Entry, apply_metadata
from waitwise_tui.core.alternatives.query import Filter, parse_filter, pick_read_now, sort_entries
from waitwise_tui.core.alternatives.store import (
    AlternativesList,
    FileStamp,
    StoreError,
    file_stamp,
    load_list,
    update_list,
)
from waitwise_tui.core.atomic import atomic_write_text
from waitwise_tui.core.text import display
from waitwise_tui.ui.plain import plain
from waitwise_tui.ui.poller import Poller
from waitwise_tui.ui.prompts import TextPrompt
from waitwise_tui.ui.screens import ConfirmScreen
from waitwise_tui.ui.tabs import TabCommands, TabWidget
from waitwise_tui.ui.tabs.alternatives.modals import EntryForm, StatusPicker

_KIND_LABELS = {
    "architecture": "arch",
    "vectorisation": "vector",
    "normalisation": "norm",
    "feature extraction": "features",
    "optimiser": "optim",
    "training trick": "trick",
    "library": "library",
    "other": "other",
}
# (key, label, width) of the fixed columns; the title takes the rest.
_COLUMNS = (
    ("sel", " ", 1),
    ("id", "#", 3),
    ("prio", "P", 2),
    ("status", "status", 7),
    ("kind", "kind", 8),
    ("min", "min", 3),
)


@dataclass
class _Notice(Message, bubble=False):
    """A line for the user from a worker (a failed lookup, an export done)."""

    text: str
    severity: SeverityLevel = "information"


@dataclass
class _LookUp(Message, bubble=False):
    """Entries just added with an arXiv id, to complete from arXiv's metadata."""

    entries: list[Entry]


class AlternativesTab(TabWidget):
    """Reading list table with filter, sort, forms, quick add, import/export."""

    DEFAULT_CSS = """
    AlternativesTab { layout: vertical; }
    AlternativesTab #alt-status { height: 1; padding: 0 1; color: $text-muted; }
    AlternativesTab #alt-status.-error { color: $error; text-style: bold; }
    AlternativesTab DataTable { height: 1fr; }
    AlternativesTab #alt-detail {
        height: auto; max-height: 3; padding: 0 1; color: $text-muted; display: none;
    }
    AlternativesTab.-tall #alt-detail { display: block; }
    AlternativesTab #alt-filter { dock: bottom; display: none; }
    AlternativesTab #alt-filter.-shown { display: block; }
    """

    # The footer shows the everyday keys; the rest are in the app's key help.
    BINDINGS = [
        Binding("a", "add", "Add", id="alternatives.add"),
        Binding("e", "edit", "Edit", id="alternatives.edit", show=False),
        Binding("p", "paste", "Quick add", id="alternatives.paste"),
        Binding("s", "status", "Status", id="alternatives.status"),
        Binding("space", "select", "Select", id="alternatives.select", show=False),
        Binding("f,slash", "filter", "Filter", id="alternatives.filter"),
        Binding("t", "sort", "Sort", id="alternatives.sort", show=False),
        Binding("o", "open", "Open link", id="alternatives.open"),
        Binding("r", "read_now", "Read now", id="alternatives.read_now"),
        Binding("d", "delete", "Delete", id="alternatives.delete", show=False),
        Binding("i", "import", "Import", id="alternatives.import", show=False),
        Binding("x", "export", "Export", id="alternatives.export", show=False),
    ]

    @dataclass
    class Loaded(Message):
        """A fresh store (or the error that stopped reading it) from a worker."""

        store: AlternativesList | None
        error: str | None
        note: str | None = None
        stamp: FileStamp | None = None  # the file's stamp when it was read or written
        polled: bool = False  # from the watcher: it waits until this is handled

    def __init__(self, ctx: Any, *, id: str | None = None, watch_interval: float = 2.0) -> None:
        super().__init__(ctx, id=id)
        self.watch_interval = watch_interval
        self._watcher: Poller | None = None
        self._seen_stamp: FileStamp | None = None
        self._settling: FileStamp | None = None  # a new stamp, read if the next poll agrees
        self._store = AlternativesList()
        self._error: str | None = None
        self._reported_problems: list[str] = []
        self._filter = Filter()
        self._sort = SORT_KEYS[0]
        self._selected: set[int] = set()
        self._shown: list[Entry] = []
        self._write_lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self.ctx.workspace.alternatives_path

    def compose(self) -> ComposeResult:
        yield Static("", id="alt-status")
        yield DataTable(id="alt-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="alt-detail")
        yield Input(
            placeholder="status:to-read kind:optim tag:nlp words (enter applies, esc clears)",
            id="alt-filter",
            compact=True,
        )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label, width in _COLUMNS:
            table.add_column(label, key=key, width=width)
        table.add_column("title", key="title", width=self._title_width())
        self._render_status()
        self.reload()
        if self.watch_interval > 0:
            self._watcher = Poller(
                self._watch_once, lambda: self.watch_interval, name="waitwise-alternatives"
            )
            self._watcher.start()

    def on_unmount(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()

    # ------------------------------------------------------------ hooks

    def tab_activated(self) -> None:
        self.query_one(DataTable).focus()
        # Pick up hand edits made while the tab was hidden.
        self.reload()

    # ------------------------------------------------------------ loading and writing

    @work(thread=True, exclusive=True, group="alternatives-load", exit_on_error=False)
    def reload(self) -> None:
        """Read the store file again (thread worker)."""
        self._read(polled=False)

    def _watch_once(self) -> None:
        """The watcher's poll, on its thread: a ``stat``; the file is read only when its
        stamp is not the one last shown (a hand edit, another writer) and has stayed the
        same since the previous poll. An editor that saves in place truncates the file
        and then writes it: read in between, the list was empty for a moment and the
        cursor lost its entry (seen in CI)."""
        stamp = self._stamp()
        if stamp == self._seen_stamp or stamp != self._settling:
            self._settling = stamp
            if self._watcher is not None:
                self._watcher.handled()  # nothing posted, nothing drawn
            return
        self._read(polled=True)

    def _stamp(self) -> FileStamp | None:
        try:
            return file_stamp(self.path)
        except OSError:
            return None

    def _read(self, *, polled: bool) -> None:
        # Reading and posting under the write lock keeps the messages in file order,
        # so a slow read never replaces a newer state written meanwhile. The stamp is
        # taken first: a change during the read is seen by the next poll.
        with self._write_lock:
            stamp = self._stamp()
            try:
                store = load_list(self.path)
            except StoreError as exc:
                self.post_message(self.Loaded(None, str(exc), stamp=stamp, polled=polled))
                return
            self.post_message(self.Loaded(store, None, stamp=stamp, polled=polled))

    @work(thread=True, group="alternatives-write", exit_on_error=False)
    def _change(
        self, change: Callable[[AlternativesList], Any], describe: Callable[[Any], str]
    ) -> None:
        self._apply_change(change, describe)

    def _apply_change(
        self, change: Callable[[AlternativesList], Any], describe: Callable[[Any], str]
    ) -> None:
        """Load, change, save and post the store, on the calling worker's thread."""
        # Workers of this group run in parallel threads; the lock keeps each
        # load-change-save-post cycle whole.
        with self._write_lock:
            try:
                self.ctx.workspace.ensure()
                store, result = update_list(self.path, change)
            except StoreError as exc:
                self.post_message(self.Loaded(None, str(exc), note=f"Not saved: {exc}"))
                return
            except KeyError as exc:
                self.post_message(self.Loaded(None, None, note=f"Entry #{exc.args[0]} is gone"))
                return
            except OSError as exc:
                self.post_message(self.Loaded(None, None, note=f"Not saved: {exc.strerror or exc}"))
                return
            self.post_message(self.Loaded(store, None, note=describe(result), stamp=self._stamp()))

    @on(_Notice)
    def _noticed(self, message: _Notice) -> None:
        self.notify(message.text, severity=message.severity, markup=False)

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        message.stop()
        if message.polled and self._watcher is not None:
            # The next poll starts only after this one is handled: polls never overlap.
            self._watcher.handled()
        if message.stamp is not None or message.polled:
            self._seen_stamp = message.stamp
        same = message.store is not None and message.store == self._store
        if message.polled and same and self._error is None:
            return  # the same list (a touch, a write of the same text): nothing to draw
        if message.note:
            failed = message.note.startswith(("Not saved", "Entry #"))
            self.notify(message.note, severity="error" if failed else "information", markup=False)
        if message.error is not None:
            if message.error != self._error and not message.note:
                self.notify(message.error, severity="error", markup=False)
            self._error = message.error
        elif message.store is not None:
            self._error = None
            self._store = message.store
            problems = message.store.problems
            if problems and problems != self._reported_problems:
                more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
                self.notify(display(problems[0]) + more, severity="warning", markup=False)
            self._reported_problems = list(problems)
            known = {e.id for e in self._store.entries()}
            self._selected &= known
        self._refresh_table()

    # ------------------------------------------------------------ rendering

    def _title_width(self) -> int:
        fixed = sum(width for _, _, width in _COLUMNS)
        # DataTable pads each cell by one column on both sides; leave room for a scrollbar.
        padding = 2 * (len(_COLUMNS) + 1) + 2
        return max(10, (self.size.width or 80) - fixed - padding)

    def on_resize(self, event: Resize) -> None:
        # The detail lines only when there is room for them and a useful table.
        self.set_class(event.size.height >= 16, "-tall")
        table = self.query_one(DataTable)
        column = table.columns.get("title")
        width = self._title_width()
        if column is not None and column.width != width:
            column.width = width
            self._refresh_table()

    def _refresh_table(self) -> None:
        table = self.query_one(DataTable)
        keep = self._cursor_id()
        entries = sort_entries(
            (e for e in self._store.entries() if self._filter.matches(e)), self._sort
        )
        self._shown = entries
        table.clear()
        width = self._title_width()
        for entry in entries:
            table.add_row(*self._cells(entry, width), key=str(entry.id))
        if keep is not None:
            self._move_cursor(keep)
        self._render_status()
        self._render_detail()

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._render_detail()

    def _render_detail(self) -> None:
        entry = self._cursor_entry()
        detail = self.query_one("#alt-detail", Static)
        if entry is None:
            detail.update("")
            return
        lines = plain("\n".join(detail_lines(entry)), multiline=True)
        lines.no_wrap, lines.overflow = True, "ellipsis"
        detail.update(lines)

    def _cells(self, entry: Entry, title_width: int) -> list[Text]:
        mark = Text("●", style="bold") if entry.id in self._selected else Text(" ")
        return [
            mark,
            Text(str(entry.id), justify="right"),
            Text(str(entry.priority)),
            plain(entry.status),
            plain(_KIND_LABELS.get(entry.kind, entry.kind)),
            Text("" if entry.minutes is None else str(entry.minutes), justify="right"),
            plain(fit_words(display(entry.title), title_width)),
        ]

    def _render_status(self) -> None:
        status = self.query_one("#alt-status", Static)
        status.set_class(self._error is not None, "-error")
        if self._error is not None:
            error = plain(self._error)
            error.no_wrap, error.overflow = True, "ellipsis"
            status.update(error)
            return
        total = len(self._store.entries())
        parts = [f"{len(self._shown)} of {total}" if len(self._shown) != total else f"{total}"]
        parts[0] += " entries"
        parts.append(f"sort {self._sort}")
        if self._filter != Filter():
            parts.append(f"filter {self._filter.describe()}")
        if self._selected:
            parts.append(f"{len(self._selected)} selected")
        if self._store.unreadable():
            parts.append(f"{len(self._store.unreadable())} unreadable in file")
        line = plain(" · ".join(parts))
        line.no_wrap, line.overflow = True, "ellipsis"
        status.update(line)

    # ------------------------------------------------------------ cursor helpers

    def _cursor_id(self) -> int | None:
        table = self.query_one(DataTable)
        if not self._shown or table.row_count == 0:
            return None
        row = min(table.cursor_row, len(self._shown) - 1)
        return self._shown[row].id

    def _cursor_entry(self) -> Entry | None:
        entry_id = self._cursor_id()
        return self._store.get(entry_id) if entry_id is not None else None

    def _move_cursor(self, entry_id: int) -> bool:
        for row, entry in enumerate(self._shown):
            if entry.id == entry_id:
                self.query_one(DataTable).move_cursor(row=row)
                return True
        return False

    def _targets(self) -> list[int]:
        """The selected entries, else the one under the cursor."""
        if self._selected:
            return sorted(self._selected)
        entry_id = self._cursor_id()
        return [] if entry_id is None else [entry_id]

    def _refuse_if_broken(self) -> bool:
        if self._error is not None:
            self.notify(f"Not saved: {self._error}", severity="error", markup=False)
            return True
        return False

    # ------------------------------------------------------------ actions

    def action_add(self) -> None:
        if self._refuse_if_broken():
            return

        def done(entry: Entry | None) -> None:
            if entry is not None:
                self._change(lambda s: s.add(entry), lambda e: f"Added #{e.id}")

        self.app.push_screen(EntryForm(Entry(0, ""), heading="New entry"), done)

    def action_edit(self) -> None:
        entry = self._cursor_entry()
        if entry is None or self._refuse_if_broken():
            return

        def done(edited: Entry | None) -> None:
            if edited is not None and edited != entry:
                self._change(lambda s: s.put(edited), lambda e: f"Saved #{e.id}")

        self.app.push_screen(EntryForm(entry, heading=f"Edit #{entry.id}"), done)

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_edit()

    def action_paste(self) -> None:
        if self._refuse_if_broken():
            return
        prompt = TextPrompt(
            "Quick add",
            hint="Paste an arXiv id, an arXiv/DOI/other URL, a DOI or a BibTeX entry; enter adds.",
            placeholder="2106.09685",
            join_paste=True,
        )
        self.app.push_screen(prompt, self._quick_add)

    def _quick_add(self, text: str | None) -> None:
        if not text:
            return
        try:
            candidates = entries_from_text(text, kind="other", tags=[])
        except ValueError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return

        def change(store: AlternativesList) -> list[tuple[bool, Entry]]:
            return [store.add_or_merge(entry) for entry in candidates]

        def describe(results: list[tuple[bool, Entry]]) -> str:
            lines = []
            for added, entry in results:
                verb = "Added" if added else "Already listed as"
                lines.append(f"{verb} #{entry.id}: {display(entry.title)}")
            if getattr(self.ctx.settings, "alt_online_lookup", False):
                # describe() runs in the write worker; the lookup starts from the loop.
                found = [entry for _, entry in results if entry.arxiv_id]
                self.post_message(_LookUp(found))
            return "\n".join(lines)

        self._change(change, describe)

    @on(_LookUp)
    def _look_up(self, message: _LookUp) -> None:
        self._lookup(message.entries)

    @work(thread=True, group="alternatives-lookup", exit_on_error=False)
    def _lookup(self, entries: list[Entry]) -> None:
        from waitwise_tui.core.alternatives.arxiv import (
            ARXIV_API,
            ArxivLookupError,
            fetch_arxiv_metadata,
            parse_arxiv_id,
        )

        # Tests point this at a local port; nothing else sets it.
        api_url = self.ctx.fakes.arxiv_api_url or ARXIV_API
        for entry in entries:
            arxiv = parse_arxiv_id(entry.arxiv_id)
            if arxiv is None:
                continue
            try:
                meta = fetch_arxiv_metadata(arxiv, timeout=5.0, api_url=api_url)
            except ArxivLookupError as exc:
                self.post_message(_Notice(f"#{entry.id}: {exc}", "warning"))
                continue

            def fill(store: AlternativesList, entry_id: int = entry.id, meta=meta) -> Entry:
                current = store.get(entry_id)
                if current is None:
                    raise KeyError(entry_id)
                return store.put(apply_metadata(current, meta))

            self._apply_change(fill, lambda e: f"Looked up #{e.id}: {display(e.title)}")

    def action_status(self) -> None:
        targets = self._targets()
        if not targets or self._refuse_if_broken():
            return
        current = self._store.get(targets[0]) if len(targets) == 1 else None
        if len(targets) == 1:
            title = f"Status of #{targets[0]}"
        else:
            title = f"Status of {len(targets)} entries"

        def done(status: str | None) -> None:
            if status is None:
                return
            self._selected.clear()
            self._change(
                lambda s: s.set_status(targets, status),
                lambda n: f"{n} set to {status}" if n else f"Already {status}",
            )

        self.app.push_screen(StatusPicker(title, current.status if current else None), done)

    def action_select(self) -> None:
        entry_id = self._cursor_id()
        if entry_id is None:
            return
        self._selected.symmetric_difference_update({entry_id})
        table = self.query_one(DataTable)
        row = table.cursor_row
        mark = Text("●", style="bold") if entry_id in self._selected else Text(" ")
        table.update_cell(str(entry_id), "sel", mark)
        if row + 1 < table.row_count:
            table.move_cursor(row=row + 1)
        self._render_status()

    def action_filter(self) -> None:
        box = self.query_one("#alt-filter", Input)
        box.add_class("-shown")
        box.focus()

    @on(Input.Submitted, "#alt-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            self._filter = parse_filter(event.value)
        except ValueError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        if self._filter == Filter():
            event.input.remove_class("-shown")
        self.query_one(DataTable).focus()
        self._refresh_table()

    def on_key(self, event: Any) -> None:
        box = self.query_one("#alt-filter", Input)
        if event.key == "escape" and box.has_focus:
            event.stop()
            box.value = ""
            box.remove_class("-shown")
            self._filter = Filter()
            self.query_one(DataTable).focus()
            self._refresh_table()

    def action_sort(self) -> None:
        self._sort = SORT_KEYS[(SORT_KEYS.index(self._sort) + 1) % len(SORT_KEYS)]
        self._refresh_table()

    def action_open(self) -> None:
        entry = self._cursor_entry()
        if entry is None:
            return
        link = entry.link
        if not link:
            self.notify(f"#{entry.id} has no link", severity="warning", markup=False)
            return
        self.app.copy_to_clipboard(link)
        self.notify(display(link), title="Copied to clipboard", markup=False)

    def action_read_now(self) -> None:
        eta = self._training_eta()
        pick = pick_read_now(self._store.entries(), eta)
        if pick.entry is None:
            self.notify(pick.message[:1].upper() + pick.message[1:], markup=False)
            return
        if not self._move_cursor(pick.entry.id):
            self._filter = Filter()
            self.query_one("#alt-filter", Input).remove_class("-shown")
            self._refresh_table()
            self._move_cursor(pick.entry.id)
        self.notify(
            f"#{pick.entry.id} {display(pick.entry.title)}: {pick.message}",
            title="Read now",
            markup=False,
        )

    def _training_eta(self) -> float | None:
        try:
            value = self.ctx.live.training_eta()
        except Exception:  # the monitor's ETA is advisory; never let it break the tab
            return None
        return float(value) if isinstance(value, (int, float)) and value >= 0 else None

    def action_delete(self) -> None:
        targets = self._targets()
        if not targets or self._refuse_if_broken():
            return
        if len(targets) == 1:
            entry = self._store.get(targets[0])
            what = f"#{targets[0]} {display(entry.title) if entry else ''}".strip()
        else:
            what = f"{len(targets)} entries"

        def done(yes: bool | None) -> None:
            if yes:
                self._selected.difference_update(targets)
                self._change(lambda s: s.remove(targets), lambda n: f"Deleted {n}")

        self.app.push_screen(ConfirmScreen(f"Delete {what}?"), done)

    def action_import(self) -> None:
        if self._refuse_if_broken():
            return
        prompt = TextPrompt(
            "Import BibTeX",
            hint="Path of a .bib file, relative to the workspace; duplicates are merged.",
            placeholder="references.bib",
            join_paste=True,
        )
        self.app.push_screen(prompt, self._import)

    @work(thread=True, group="alternatives-write", exit_on_error=False)
    def _import(self, name: str | None) -> None:
        if not name:
            return
        from waitwise_tui.core.alternatives.bibtex import parse_bibtex

        path = self.ctx.workspace.root / Path(name).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            self.post_message(_Notice(f"Cannot read {name}: {reason}", "error"))
            return
        parsed = parse_bibtex(text)

        def describe(report: Any) -> str:
            report.skipped = len(parsed.malformed)
            first = f" ({display(parsed.malformed[0])})" if parsed.malformed else ""
            return f"{name}: {report.summary()}{first}"

        self._apply_change(lambda s: import_entries(s, parsed.entries), describe)

    def action_export(self) -> None:
        prompt = TextPrompt(
            "Export",
            "alternatives.bib",
            hint="A .bib path writes BibTeX, .md a Markdown table (relative to the workspace).",
            join_paste=True,
        )
        self.app.push_screen(prompt, self._export)

    @work(thread=True, group="alternatives-export", exit_on_error=False)
    def _export(self, name: str | None) -> None:
        if not name:
            return
        entries = self._store.entries()
        if name.endswith(".bib"):
            from waitwise_tui.core.alternatives.bibtex import to_bibtex

            text = to_bibtex(entries)
        elif name.endswith(".md"):
            text = markdown_table(entries)
        else:
            self.post_message(_Notice("Export path must end in .bib or .md", "error"))
            return
        try:
            atomic_write_text(self.ctx.workspace.root / Path(name).expanduser(), text)
        except OSError as exc:
            self.post_message(_Notice(f"Cannot write {name}: {exc.strerror or exc}", "error"))
            return
        self.post_message(_Notice(f"Exported {len(entries)} entries to {name}"))


def detail_lines(entry: Entry) -> list[str]:
    """Up to three plain lines about an entry: who/when/where, links, first note line.
    Authors, title and venue of an imported entry are already LaTeX-decoded."""
    facts = [f"#{entry.id}"]
    if entry.authors:
        more = " et al." if len(entry.authors) > 1 else ""
        facts.append(entry.authors[0] + more)
    if entry.year is not None:
        facts.append(str(entry.year))
    if entry.venue:
        facts.append(entry.venue)
    facts.append(entry.kind)
    if entry.arxiv_id:
        facts.append(f"arXiv:{entry.arxiv_id}")
    elif entry.doi:
        facts.append(f"doi:{entry.doi}")
    if entry.tags:
        facts.append("tags " + ", ".join(entry.tags))
    if entry.added is not None:
        facts.append(f"added {entry.added:%Y-%m-%d}")
    lines = [" · ".join(facts)]
    if entry.links:
        lines.append("tried: " + "; ".join(entry.links))
    note = next((line.strip() for line in entry.notes.splitlines() if line.strip()), "")
    if note:
        lines.append("notes: " + note)
    return [display(line) for line in lines]


def fit_words(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells at a word boundary, with an ellipsis if cut."""
    if len(text) <= width:
        return text
    cut = text[: max(1, width - 1)]
    space = cut.rfind(" ")
    if space >= width // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


class AlternativesCommands(TabCommands):
    """Command palette entries for the alternatives tab (active when the tab exists)."""

    tab_class = AlternativesTab
    help_text = "Alternatives tab"
    entries = (
        ("Alternatives: quick add (arXiv id, URL, DOI, BibTeX)", "paste"),
        ("Alternatives: add entry", "add"),
        ("Alternatives: read now", "read_now"),
        ("Alternatives: import BibTeX", "import"),
        ("Alternatives: export", "export"),
    )
