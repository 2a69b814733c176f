"""The Notes tab: a Markdown editor for ``.waitwise/notes/`` that never loses a word.

The open note is a ``NoteDoc`` (core): all its file work (load, save, disk check,
rename, delete) runs in thread workers and is serialised by the doc's lock. The
buffer is dirty while the editor's text differs from what was last read or written.
Saves happen at most ``autosave_delay`` seconds after the last keystroke, on leaving
the tab or the note, and on quit; a disk check every ``watch_interval`` seconds
reloads a clean buffer, and a save over a changed file keeps the disk version as a
conflict copy. Run snapshots and the auto-journal are built by core.notes.

Note names and errors are shown through ``plain``; the Markdown preview gets the note
with control characters escaped (``display``), since it quotes journal lines, run
names and pasted output.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Markdown, Static, TextArea

from waitwise_tui.core import events as ev
from waitwise_tui.core.notes import store as notes
from waitwise_tui.core.notes.document import NoteDoc
from waitwise_tui.core.notes.sources import gather_snapshot, run_parts
from waitwise_tui.core.text import display
from waitwise_tui.ui.messages import EventBroadcast
from waitwise_tui.ui.plain import plain
from waitwise_tui.ui.poller import Poller
from waitwise_tui.ui.prompts import TextPrompt
from waitwise_tui.ui.screens import ConfirmScreen
from waitwise_tui.ui.tabs import TabCommands, TabWidget
from waitwise_tui.ui.tabs.notes.modals import NewNoteScreen, NoteListScreen, SearchScreen

JOURNAL_KINDS = frozenset(
    {ev.ALERT, ev.RUN_FINISHED, ev.RUN_CRASHED, ev.TRIAL_FINISHED, ev.TEST_RUN_FINISHED}
)


@dataclass
class _Loaded(Message):
    """A note was read (or created) in a worker and may replace the editor's buffer."""

    doc: NoteDoc
    loaded: notes.LoadedNote
    cursor: tuple[int, int] | None = None
    reload: bool = False


@dataclass
class _Saved(Message):
    """A save finished. ``result`` None without ``error``: a newer save had already won."""

    doc: NoteDoc
    result: notes.SaveResult | None
    error: str | None = None
    # Set for the save done while leaving a note: only its conflict notice matters.
    notice_only: bool = False


@dataclass
class _Failed(Message):
    """A note operation failed; the buffer stays as it is."""

    error: str


@dataclass
class _DiskChecked(Message):
    doc: NoteDoc
    changed: bool
    reschedule: bool


@dataclass
class _Snapshot(Message):
    block: str


@dataclass
class _Listed(Message, bubble=False):
    """The saved notes, read for the open list."""

    notes: list[notes.NoteInfo]


@dataclass
class _TemplatesRead(Message, bubble=False):
    """The note templates (name -> text), read for a new note."""

    templates: dict[str, str]


@dataclass
class _Renamed(Message, bubble=False):
    target: Path


class NotesTab(TabWidget, can_focus=True):
    """Markdown notes with autosave, conflict copies, snapshots and a journal.

    Escape in the editor focuses the tab itself: the app's keys (tabs, quit, help) work
    again and enter goes back to editing."""

    DEFAULT_CSS = """
    NotesTab { layout: vertical; }
    NotesTab #notes-header { height: 1; background: $boost; color: $text-muted; }
    NotesTab #notes-editor { height: 1fr; border: none; padding: 0 1; }
    NotesTab #notes-editor:focus { border: none; }
    NotesTab:focus #notes-header { background: $accent 40%; color: $text; }
    NotesTab #notes-preview { height: 1fr; display: none; padding: 0 1; }
    NotesTab.-preview #notes-editor { display: none; }
    NotesTab.-preview #notes-preview { display: block; }
    """

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="notes.save"),
        Binding("ctrl+n", "new_note", "New", id="notes.new"),
        Binding("ctrl+o,f2", "open_list", "Open", id="notes.open"),
        Binding("ctrl+r", "rename", "Rename", id="notes.rename"),
        Binding("f8", "delete", "Delete", id="notes.delete"),
        Binding("ctrl+f", "search", "Search", id="notes.search"),
        Binding("ctrl+t", "snapshot", "Snapshot", id="notes.snapshot"),
        Binding("ctrl+g", "toggle_preview", "Preview", id="notes.preview"),
        Binding("enter", "edit", "Edit", id="notes.edit"),
    ]

    def __init__(
        self,
        ctx: Any,
        *,
        id: str | None = None,
        now: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        autosave_delay: float = 2.0,
        watch_interval: float = 2.0,
    ) -> None:
        super().__init__(ctx, id=id)
        # The app's clock may be injected (snapshots and screenshots fix the date).
        self.now = now or ctx.fakes.now or datetime.now
        self.monotonic = monotonic
        self.autosave_delay = autosave_delay
        self.watch_interval = watch_interval
        self._watcher: Poller | None = None
        self._settling: tuple[int, int, int] | None = None  # a changed note's stat, last check
        self.notes_dir: Path = ctx.workspace.notes_dir
        self.doc = NoteDoc(notes.note_path(self.notes_dir, self.today_name()))
        self.loaded = False
        self.error: str | None = None
        self._last_edit: float | None = None
        self._autosave_timer: Timer | None = None
        self._save_in_flight = False
        self._save_again = False
        # Each captured buffer gets a higher version; the doc drops a save older than
        # one already written, whatever order the worker threads run in.
        self._version = 0
        # True while the buffer is being replaced (from the start: the first load).
        self._switching = True
        # Journal lines that arrived while a note switch was in flight.
        self._pending_journal: list[str] = []

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Static(id="notes-header")
        editor = TextArea(language="markdown", soft_wrap=True, id="notes-editor")
        editor.read_only = True  # until the note has been read
        yield editor
        with VerticalScroll(id="notes-preview", can_focus=True):
            yield Markdown()

    @property
    def editor(self) -> TextArea:
        return self.query_one("#notes-editor", TextArea)

    def on_mount(self) -> None:
        self._load(self.doc)
        if self.watch_interval > 0:
            self._watcher = Poller(
                self._disk_check_once, lambda: self.watch_interval, name="waitwise-notes"
            )
            self._watcher.start()

    def on_unmount(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()

    def today_name(self) -> str:
        return notes.daily_name(self.now().date())

    @property
    def dirty(self) -> bool:
        return self.loaded and self.editor.text != self.doc.saved_text

    def _refresh_header(self) -> None:
        header = plain(f" {self.doc.path.name}", "bold")
        header.no_wrap, header.overflow = True, "ellipsis"
        if self.doc.readonly_reason:
            state, style = "read-only", "bold yellow"
        elif self.error:
            state, style = f"not saved: {self.error}", "bold red"
        elif self.dirty:
            state, style = "modified", "yellow"
        elif self.doc.fingerprint is None:
            state, style = "new", "dim"
        else:
            state, style = "saved", "green"
        header.append("  ")
        header.append_text(plain(state, style))
        self.query_one("#notes-header", Static).update(header)

    # ------------------------------------------------------------------ hooks

    def tab_activated(self) -> None:
        if self.has_class("-preview"):
            self.query_one("#notes-preview").focus()
        else:
            self.editor.focus()

    def focus_home(self) -> bool:
        self.focus()
        return True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "edit":
            return self.has_focus  # shown only where enter is not the editor's newline
        return True

    def action_edit(self) -> None:
        self.tab_activated()

    def tab_deactivated(self) -> None:
        self.save_now()

    def before_quit(self) -> None:
        # The app is about to exit: no time for a worker, save right here.
        if not self.dirty or self.doc.readonly_reason:
            return
        try:
            self.doc.save(self.editor.text, now=self.now(), version=self._next_version())
        except (OSError, notes.NoteError) as exc:
            self.notify(f"notes not saved: {exc}", severity="error")

    def busy_reason(self) -> str | None:
        if self.dirty and self.error:
            return f"note {self.doc.path.name} could not be saved: {self.error}"
        return None

    def on_event_broadcast(self, message: EventBroadcast) -> None:
        event = message.event
        if not self.ctx.settings.auto_journal or event.kind not in JOURNAL_KINDS:
            return
        self._pending_journal.append(notes.journal_line(event))
        if not self._switching:
            self._flush_journal()

    def _flush_journal(self) -> None:
        # Called when no switch is in flight, so the open note cannot be half-saved.
        lines, self._pending_journal = self._pending_journal, []
        if not lines:
            return
        today = notes.note_path(self.notes_dir, self.today_name())
        if not (self.loaded and self.doc.path == today):
            self._append_journal(today, lines)
            return
        if self.doc.readonly_reason:
            self.notify(f"journal not added: {self.doc.readonly_reason}", severity="error")
            return
        # Into the buffer, so the open note and the journal never conflict.
        editor = self.editor
        prefix = "" if not editor.text or editor.text.endswith("\n") else "\n"
        editor.insert(prefix + "".join(f"{line}\n" for line in lines), editor.document.end)
        self.save_now()

    @work(thread=True, group="notes-journal", exit_on_error=False)
    def _append_journal(self, path: Path, lines: list[str]) -> None:
        try:
            for line in lines:
                notes.append_line(path, line)
        except (OSError, notes.NoteError) as exc:
            self.post_message(_Failed(f"journal line not added: {exc}"))

    # ------------------------------------------------------------------ loading

    @work(thread=True, group="notes-io", exit_on_error=False)
    def _load(self, doc: NoteDoc, cursor: tuple[int, int] | None = None) -> None:
        try:
            loaded = doc.load()
        except OSError as exc:
            self.post_message(_Failed(f"cannot read {doc.path.name}: {exc.strerror or exc}"))
            return
        self.post_message(_Loaded(doc, loaded, cursor))

    @on(_Loaded)
    def _loaded(self, message: _Loaded) -> None:
        message.stop()
        editor = self.editor
        if message.reload:
            if message.doc is not self.doc or self._switching:
                return
            if self.dirty:
                # Typed meanwhile: keep the buffer; the save keeps the disk copy.
                self.save_now()
                return
            if not message.doc.adopt(message.loaded):
                self.save_now()
                return
            if message.loaded.fingerprint is None:
                self.notify(
                    f"{self.doc.path.name} was deleted on disk; keeping the text",
                    severity="warning",
                )
                self._schedule_autosave()
                self._refresh_header()
                return
            cursor = editor.cursor_location
            self._set_text(message.loaded.text)
            editor.cursor_location = cursor
            self.notify(f"{self.doc.path.name} changed on disk; reloaded")
        else:
            self._switching = False
            self.doc = message.doc
            self.loaded = True
            self.error = None
            self._set_text(message.loaded.text)
            editor.read_only = bool(message.loaded.readonly_reason)
            if message.loaded.readonly_reason:
                self.notify(message.loaded.readonly_reason, severity="warning")
            if message.cursor is not None:
                editor.cursor_location = message.cursor
                editor.scroll_cursor_visible(center=True)
            else:
                editor.move_cursor(editor.document.end)
            self._flush_journal()
        self._refresh_header()

    def _set_text(self, text: str) -> None:
        self.editor.load_text(text)
        if self.has_class("-preview"):
            self._show_preview(text)

    def _show_preview(self, text: str) -> None:
        # Markdown formatting stays; a control character shows as "\x1b", not as itself.
        self.query_one(Markdown).update(display(text, multiline=True))

    def open_note(self, name: str, cursor: tuple[int, int] | None = None) -> None:
        """Leave the current note (saving it) and open ``name``."""
        try:
            path = notes.note_path(self.notes_dir, name)
        except notes.NoteError as exc:
            self.notify(str(exc), severity="error")
            return
        if path == self.doc.path:
            if cursor is not None:
                self.editor.cursor_location = cursor
                self.editor.scroll_cursor_visible(center=True)
            return
        self._leave_and_load(NoteDoc(path), cursor=cursor)

    def _leave_and_load(
        self, new_doc: NoteDoc, *, cursor: tuple[int, int] | None = None, text: str | None = None
    ) -> None:
        if self._switching:
            self.notify("still opening the previous note; try again")
            return
        # No typing while the old note is saved and the new one read.
        self._switching = True
        self.editor.read_only = True
        old_text = self.editor.text if self.dirty and not self.doc.readonly_reason else None
        self._switch(self.doc, old_text, self._next_version(), new_doc, cursor, text)

    def _next_version(self) -> int:
        self._version += 1
        return self._version

    @work(thread=True, group="notes-io", exit_on_error=False)
    def _switch(
        self,
        old: NoteDoc,
        old_text: str | None,
        version: int,
        new: NoteDoc,
        cursor: tuple[int, int] | None,
        create_text: str | None,
    ) -> None:
        try:
            if old_text is not None:
                result = old.save(old_text, now=self.now(), version=version)
                self.post_message(_Saved(old, result, notice_only=True))
            if create_text is not None:
                new.create(create_text)
            loaded = new.load()
        except (OSError, notes.NoteError) as exc:
            self.post_message(_Failed(_describe(exc)))
            return
        self.post_message(_Loaded(new, loaded, cursor))

    @on(_Failed)
    def _failed(self, message: _Failed) -> None:
        message.stop()
        if self._switching:
            self._switching = False
            self.editor.read_only = bool(self.doc.readonly_reason) or not self.loaded
            self._flush_journal()
        self.notify(message.error, severity="error")
        self._refresh_header()

    # ------------------------------------------------------------------ saving

    @on(TextArea.Changed, "#notes-editor")
    def _changed(self, event: TextArea.Changed) -> None:
        event.stop()
        if self.has_class("-preview"):
            self._show_preview(self.editor.text)
        if not self.loaded:
            return
        if self.dirty:
            self._last_edit = self.monotonic()
            self._schedule_autosave()
        self._refresh_header()

    def _schedule_autosave(self) -> None:
        if self._autosave_timer is None:
            self._autosave_timer = self.set_timer(self.autosave_delay, self._autosave_fired)

    def _autosave_fired(self) -> None:
        self._autosave_timer = None
        self.autosave_check()

    def autosave_check(self) -> bool:
        """Save if the last edit is ``autosave_delay`` old; else wait the rest. True: saving."""
        if not self.dirty:
            return False
        elapsed = self.monotonic() - (self._last_edit or 0.0)
        if elapsed + 1e-6 < self.autosave_delay:
            if self._autosave_timer is None:
                self._autosave_timer = self.set_timer(
                    self.autosave_delay - elapsed, self._autosave_fired
                )
            return False
        return self.save_now()

    def save_now(self) -> bool:
        """Start saving the buffer if it has unsaved changes. True: a save started or queued."""
        if not self.dirty or self.doc.readonly_reason or self._switching:
            return False
        if self._save_in_flight:
            self._save_again = True
            return True
        self._save_in_flight = True
        self._save(self.doc, self.editor.text, self._next_version())
        return True

    @work(thread=True, group="notes-io", exit_on_error=False)
    def _save(self, doc: NoteDoc, text: str, version: int) -> None:
        try:
            result = doc.save(text, now=self.now(), version=version)
        except (OSError, notes.NoteError) as exc:
            self.post_message(_Saved(doc, None, _describe(exc)))
            return
        self.post_message(_Saved(doc, result))

    @on(_Saved)
    def _saved(self, message: _Saved) -> None:
        message.stop()
        if message.result is not None and message.result.conflict_path is not None:
            self.notify(
                f"{message.doc.path.name} changed on disk too: that version is kept as "
                f"{message.result.conflict_path.name}",
                severity="warning",
                timeout=10,
            )
        if message.notice_only:
            return
        self._save_in_flight = False
        if message.doc is not self.doc:
            # Saved a note that was left meanwhile (leaving saved it again anyway).
            if self._save_again:
                self._save_again = False
                self.save_now()
            return
        if message.error is not None:
            if message.error != self.error:
                self.notify(f"note not saved: {message.error}", severity="error")
            self.error = message.error
            self._save_again = False
        else:
            self.error = None
            if self._save_again:
                self._save_again = False
                self.save_now()
        self._refresh_header()

    def action_save(self) -> None:
        if self.doc.readonly_reason:
            self.notify(self.doc.readonly_reason, severity="warning")
        elif not self.save_now():
            self._refresh_header()

    # ------------------------------------------------------------------ watching the disk

    def _disk_check_once(self) -> None:
        """The periodic check, on the watcher's thread."""
        self._post_disk_check(reschedule=True)

    def check_disk(self) -> None:
        """Run one disk check now (tests call this instead of waiting for the poll)."""
        self._check_disk(reschedule=False)

    @work(thread=True, group="notes-watch", exit_on_error=False)
    def _check_disk(self, reschedule: bool) -> None:
        self._post_disk_check(reschedule)

    def _post_disk_check(self, reschedule: bool) -> None:
        doc = self.doc
        try:
            changed = self.loaded and doc.changed_on_disk()
            if changed and reschedule:
                # An editor saving in place truncates, then writes: a change is taken
                # only once the file's stat holds from one check to the next, so a
                # half-written note is never loaded into the editor.
                info = os.stat(doc.path)
                stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
                changed, self._settling = stamp == self._settling, stamp
        except OSError:
            changed = False  # unreadable for a moment (being replaced); the next check sees it
        if not changed and reschedule and self._watcher is not None:
            self._watcher.handled()  # the usual case: no message, the UI thread sleeps on
            return
        self.post_message(_DiskChecked(doc, changed, reschedule))

    @on(_DiskChecked)
    def _disk_checked(self, message: _DiskChecked) -> None:
        message.stop()
        if message.reschedule and self._watcher is not None:
            # The next poll starts only after this one finished: polls never overlap.
            self._watcher.handled()
        if not message.changed:
            return
        if message.doc is not self.doc or self._switching or self.doc.readonly_reason:
            return
        if self.dirty:
            self.save_now()  # the save keeps the disk version as a conflict copy
        else:
            self._reload(self.doc)

    @work(thread=True, group="notes-io", exit_on_error=False)
    def _reload(self, doc: NoteDoc) -> None:
        try:
            loaded = notes.load_note(doc.path)
        except OSError:
            return
        self.post_message(_Loaded(doc, loaded, reload=True))

    # ------------------------------------------------------------------ actions

    def action_open_list(self) -> None:
        self.save_now()
        self._list_for_open()

    @work(thread=True, group="notes-list", exit_on_error=False)
    def _list_for_open(self) -> None:
        self.post_message(_Listed(notes.list_notes(self.notes_dir)))

    @on(_Listed)
    def _show_list(self, message: _Listed) -> None:
        current = self.doc.path.stem

        def picked(name: str | None) -> None:
            if name:
                self.open_note(name)

        self.app.push_screen(NoteListScreen(message.notes, current), picked)

    def action_new_note(self) -> None:
        self._templates_for_new()

    @work(thread=True, group="notes-list", exit_on_error=False)
    def _templates_for_new(self) -> None:
        self.post_message(_TemplatesRead(notes.list_templates(self.notes_dir)))

    @on(_TemplatesRead)
    def _ask_new(self, message: _TemplatesRead) -> None:
        templates = message.templates

        def answered(answer: tuple[str, str] | None) -> None:
            if answer is None:
                return
            name, template = answer
            try:
                path = notes.note_path(self.notes_dir, name)
            except notes.NoteError as exc:
                self.notify(str(exc), severity="error")
                return
            text = notes.render_template(
                templates.get(template, notes.DEFAULT_TEMPLATE),
                now=self.now(),
                run=self._run_parts().get("run"),
            )
            self._leave_and_load(NoteDoc(path), text=text)

        self.app.push_screen(NewNoteScreen(list(templates)), answered)

    def action_rename(self) -> None:
        if self.doc.readonly_reason:
            self.notify("a read-only note cannot be renamed here", severity="warning")
            return

        def answered(name: str | None) -> None:
            if not name:
                return
            try:
                target = notes.note_path(self.notes_dir, name)
            except notes.NoteError as exc:
                self.notify(str(exc), severity="error")
                return
            if target != self.doc.path:
                self._rename(self.doc, target)

        prompt = TextPrompt(
            "Rename note to:", self.doc.path.stem, placeholder="note name", empty="refuse"
        )
        self.app.push_screen(prompt, answered)

    @work(thread=True, group="notes-io", exit_on_error=False)
    def _rename(self, doc: NoteDoc, target: Path) -> None:
        try:
            doc.rename(target)
        except (OSError, notes.NoteError) as exc:
            self.post_message(_Failed(_describe(exc)))
            return
        self.post_message(_Renamed(target))

    @on(_Renamed)
    def _renamed(self, message: _Renamed) -> None:
        self.notify(f"renamed to {message.target.name}")
        self._refresh_header()

    def action_delete(self) -> None:
        if self.doc.fingerprint is None:
            self.notify(f"{self.doc.path.name} is not on disk; nothing to delete")
            return
        question = Text("Delete note ")
        question.append_text(plain(self.doc.path.name, "bold"))
        question.append("? This cannot be undone.")

        def answered(yes: bool | None) -> None:
            if yes and not self._switching:
                self._switching = True
                self.editor.read_only = True
                self._delete(self.doc)

        self.app.push_screen(ConfirmScreen(question), answered)

    @work(thread=True, group="notes-io", exit_on_error=False)
    def _delete(self, doc: NoteDoc) -> None:
        try:
            doc.delete()
        except OSError as exc:
            self.post_message(_Failed(f"cannot delete {doc.path.name}: {exc.strerror or exc}"))
            return
        new = NoteDoc(notes.note_path(self.notes_dir, self.today_name()))
        try:
            loaded = new.load()
        except OSError as exc:
            self.post_message(_Failed(f"cannot read {new.path.name}: {exc.strerror or exc}"))
            return
        self.post_message(_Loaded(new, loaded))

    def action_search(self) -> None:
        current_name = self.doc.path.stem
        current_text = self.editor.text

        def search(query: str) -> list[notes.SearchHit]:
            return notes.search_notes(self.notes_dir, query, texts={current_name: current_text})

        def picked(hit: notes.SearchHit | None) -> None:
            if hit is not None:
                self.open_note(hit.name, cursor=(hit.line, hit.column))

        self.app.push_screen(SearchScreen(search), picked)

    def action_toggle_preview(self) -> None:
        preview = not self.has_class("-preview")
        if preview:
            self._show_preview(self.editor.text)
        self.set_class(preview, "-preview")
        self.tab_activated()

    def action_snapshot(self) -> None:
        if self.doc.readonly_reason:
            self.notify(self.doc.readonly_reason, severity="warning")
            return
        base = notes.SnapshotParts(time=self.now(), **self._run_parts())
        self._gather_snapshot(base)

    def _run_parts(self) -> dict[str, Any]:
        try:
            return run_parts(self.ctx.live.runs)
        except Exception:  # a broken runs source only drops the run lines
            return {}

    @work(thread=True, group="notes-snapshot", exit_on_error=False)
    def _gather_snapshot(self, base: notes.SnapshotParts) -> None:
        parts = gather_snapshot(
            base,
            root=self.ctx.workspace.root,
            db_path=self.ctx.workspace.db_path,
            gpus=self.ctx.live.gpus_now,  # the app's GPU reading: no NVML of its own
        )
        self.post_message(_Snapshot(notes.snapshot_block(parts)))

    @on(_Snapshot)
    def _insert_snapshot(self, message: _Snapshot) -> None:
        message.stop()
        editor = self.editor
        if editor.read_only:
            return
        # The block goes on lines of its own at the cursor's line boundary: before the
        # cursor's line when the cursor is at its start, else after that line (never
        # splitting it). The block ends with a newline already.
        row, column = editor.cursor_location
        document = editor.document
        if column == 0:
            text, at = message.block, (row, 0)
        elif row + 1 < document.line_count:
            text, at = message.block, (row + 1, 0)
        else:
            text, at = "\n" + message.block, (row, len(document[row]))
        result = editor.insert(text, at)
        editor.move_cursor(result.end_location)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        name = Path(exc.filename).name if exc.filename else ""
        reason = exc.strerror or str(exc)
        return f"{name}: {reason}" if name else reason
    return str(exc)


class NotesCommands(TabCommands):
    """Command palette entries for the notes tab (offered when the tab exists)."""

    tab_class = NotesTab
    help_text = "Notes tab"
    entries = (
        ("Notes: insert run snapshot", "snapshot"),
        ("Notes: new note", "new_note"),
        ("Notes: open note", "open_list"),
        ("Notes: search notes", "search"),
        ("Notes: toggle Markdown preview", "toggle_preview"),
        ("Notes: save", "save"),
    )
