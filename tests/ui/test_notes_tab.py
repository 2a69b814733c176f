"""Pilot tests of the notes tab: typing, autosave, conflicts, snapshots, journal, modals."""

from __future__ import annotations

import errno
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from textual.app import App, ComposeResult
from waits import palette_finds, wait_for

from waitwise_tui.config import Settings
from waitwise_tui.core.events import RUN_FINISHED, TRIAL_FINISHED, Event
from waitwise_tui.core.gpu.fake import FakeConfig, FakeNvml
from waitwise_tui.core.notes import store as notes
from waitwise_tui.core.workspace import Workspace
from waitwise_tui.ui.context import AppContext, Fakes
from waitwise_tui.ui.messages import EventBroadcast
from waitwise_tui.ui.tabs.notes.tab import NotesTab

TODAY = "2026-03-14"

FIXED_NOW = datetime(2026, 3, 14, 9, 26, 53)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


class NotesHarness(App[None]):
    """Composes one NotesTab and activates it, as the real app does."""

    def __init__(
        self,
        root: Path,
        *,
        now: datetime = FIXED_NOW,
        clock: FakeClock | None = None,
        fakes: Fakes | None = None,
        settings: Settings | None = None,
        **tab_options: Any,
    ) -> None:
        super().__init__()
        self.ctx = AppContext(Workspace(root), settings or Settings(), {}, fakes or Fakes())
        self.clock = clock or FakeClock()
        tab_options.setdefault("watch_interval", 0)
        self.tab = NotesTab(
            self.ctx, id="tab-notes", now=lambda: now, monotonic=self.clock, **tab_options
        )

    def compose(self) -> ComposeResult:
        yield self.tab

    def on_mount(self) -> None:
        self.tab.tab_activated()


@pytest.fixture(autouse=True)
def _config(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WAITWISE_CONFIG_DIR", str(tmp_path / "config"))


def _notes_dir(tmp_path):
    return tmp_path / "ws" / ".waitwise" / "notes"


def _app(tmp_path, **options) -> NotesHarness:
    (tmp_path / "ws").mkdir(exist_ok=True)
    options.setdefault("fakes", Fakes(nvml=FakeNvml(FakeConfig(init_error="LibraryNotFound"))))
    return NotesHarness(tmp_path / "ws", **options)


async def _settle(app, pilot) -> None:
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def test_typing_q_and_digits_goes_into_the_note(tmp_path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        assert app.focused is app.tab.editor
        await pilot.press("q", "1", "5", "space", "x")
        assert app.tab.editor.text == "q15 x"
        assert app.is_running
        assert app.tab.dirty
    # Opening the tab and typing without a save wrote nothing.
    assert not (tmp_path / "ws" / ".waitwise").exists()


async def test_autosave_waits_for_the_delay_after_the_last_key(tmp_path) -> None:
    app = _app(tmp_path, autosave_delay=2.0)
    note = _notes_dir(tmp_path) / f"{TODAY}.md"
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        await pilot.press("a", "b")
        app.clock.value += 1.5
        assert app.tab.autosave_check() is False
        await pilot.press("c")  # a new keystroke restarts the wait
        app.clock.value += 1.9
        assert app.tab.autosave_check() is False
        await _settle(app, pilot)
        assert not note.exists()
        app.clock.value += 0.1
        assert app.tab.autosave_check() is True
        await _settle(app, pilot)
        assert note.read_text() == "abc"
        assert not app.tab.dirty


async def test_autosave_timer_fires_by_itself(tmp_path) -> None:
    app = _app(tmp_path, autosave_delay=0.05)
    note = _notes_dir(tmp_path) / f"{TODAY}.md"
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        await pilot.press("h", "i")
        app.clock.value += 1.0
        await wait_for(pilot, lambda: note.exists() and note.read_text() == "hi", "the autosave")


async def test_tab_switch_and_quit_save(tmp_path) -> None:
    app = _app(tmp_path)
    note = _notes_dir(tmp_path) / f"{TODAY}.md"
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        await pilot.press("x")
        app.tab.tab_deactivated()
        await _settle(app, pilot)
        assert note.read_text() == "x"
        await pilot.press("y")
        app.tab.before_quit()  # synchronous: the app exits right after
        assert note.read_text() == "xy"


async def test_clean_buffer_reloads_and_dirty_buffer_keeps_conflict_copy(tmp_path) -> None:
    notes_dir = _notes_dir(tmp_path)
    notes_dir.mkdir(parents=True)
    note = notes_dir / f"{TODAY}.md"
    note.write_text("base\n")
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        assert app.tab.editor.text == "base\n"
        note.write_text("from disk\n")
        app.tab.check_disk()
        await _settle(app, pilot)
        assert app.tab.editor.text == "from disk\n"
        assert not app.tab.dirty
        await pilot.press("m", "i", "n", "e")
        note.write_text("theirs\n")
        app.tab.check_disk()
        await _settle(app, pilot)
        assert note.read_text() == app.tab.editor.text
        assert "mine" in app.tab.editor.text
        copies = list(notes_dir.glob(f"{TODAY}.conflict-*.md"))
        assert [c.read_text() for c in copies] == ["theirs\n"]


async def test_a_note_caught_half_written_is_loaded_only_once_it_holds(tmp_path) -> None:
    """The watcher's check: an editor saving in place truncates the note, then writes
    it; the empty file seen between is not loaded into the editor."""
    notes_dir = _notes_dir(tmp_path)
    notes_dir.mkdir(parents=True)
    note = notes_dir / f"{TODAY}.md"
    note.write_text("base\n")
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        assert app.tab.editor.text == "base\n"
        note.write_text("")  # truncated: the editor has not written yet
        app.tab._post_disk_check(reschedule=True)  # the watcher's check, made here
        await _settle(app, pilot)
        assert app.tab.editor.text == "base\n"
        note.write_text("from the editor\n")
        app.tab._post_disk_check(reschedule=True)  # changed again since: not yet
        await _settle(app, pilot)
        assert app.tab.editor.text == "base\n"
        app.tab._post_disk_check(reschedule=True)  # unchanged since the last check
        await _settle(app, pilot)
        assert app.tab.editor.text == "from the editor\n" and not app.tab.dirty


async def test_invalid_utf8_opens_read_only_and_is_never_written(tmp_path) -> None:
    notes_dir = _notes_dir(tmp_path)
    notes_dir.mkdir(parents=True)
    note = notes_dir / f"{TODAY}.md"
    note.write_bytes(b"caf\xe9\n")
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        assert app.tab.editor.read_only
        await pilot.press("z", "ctrl+s", "ctrl+t")
        app.tab.before_quit()
        await _settle(app, pilot)
        assert "read-only" in str(app.tab.query_one("#notes-header").render())
    assert note.read_bytes() == b"caf\xe9\n"


async def test_full_disk_keeps_buffer_and_retries(tmp_path, monkeypatch) -> None:
    app = _app(tmp_path)
    note = _notes_dir(tmp_path) / f"{TODAY}.md"
    real_write = notes.atomic_write_text

    def full(path, text, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(notes, "atomic_write_text", full)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        await pilot.press("k", "e", "e", "p", "ctrl+s")
        await _settle(app, pilot)
        assert app.tab.error and "No space" in app.tab.error
        assert app.tab.editor.text == "keep" and app.tab.dirty
        assert app.tab.busy_reason() is not None
        monkeypatch.setattr(notes, "atomic_write_text", real_write)
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        assert note.read_text() == "keep" and app.tab.error is None


class _Runs:
    def __init__(self) -> None:
        self.runs = [
            SimpleNamespace(
                name="resnet50", step=1200, metrics={"loss": 0.25}, eta=90.0, finished=False
            )
        ]


async def test_snapshot_inserts_block_at_cursor(tmp_path) -> None:
    app = _app(tmp_path, fakes=Fakes(nvml=FakeNvml(FakeConfig(gpus=1))))
    app.ctx.live.publish_runs(_Runs())  # the monitor's latest runs reading
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        await pilot.press("a", "b", "ctrl+t")
        await _settle(app, pilot)
        lines = app.tab.editor.text.splitlines()
        assert lines[0] == "ab"
        assert lines[1] == "### Snapshot 2026-03-14 09:26:53"
        assert "- run: resnet50" in lines
        assert "- progress: step 1200" in lines
        assert "- metrics: loss 0.25" in lines
        assert "- ETA: 1m30s" in lines
        assert any(line.startswith("- GPU 0 ") and "util" in line for line in lines)
        assert not any(line.startswith("- best trial") for line in lines)
        assert not any(line.startswith("- git") for line in lines)


async def test_snapshot_goes_on_its_own_lines_never_splitting_one(tmp_path) -> None:
    app = _app(tmp_path)
    block = "### Snapshot 2026-03-14 09:26:53"
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        editor = app.tab.editor
        editor.load_text("first line\nsecond line")
        editor.move_cursor((0, 5))  # mid-line: the block goes after this line
        await pilot.press("ctrl+t")
        await _settle(app, pilot)
        assert editor.text.splitlines() == ["first line", block, "second line"]
        assert editor.cursor_location == (2, 0)
        editor.move_cursor((2, 0))  # at a line's start: the block goes before it
        await pilot.press("ctrl+t")
        await _settle(app, pilot)
        assert editor.text.splitlines() == ["first line", block, block, "second line"]
        editor.move_cursor((3, 3))  # mid-way on the last line, no newline after it
        await pilot.press("ctrl+t")
        await _settle(app, pilot)
        assert editor.text.splitlines() == ["first line", block, block, "second line", block]
        assert editor.text.endswith("\n")


async def test_snapshot_without_sources_has_only_the_time(tmp_path) -> None:
    app = _app(tmp_path)  # no runs reading, no GPU
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        await pilot.press("ctrl+t")
        await _settle(app, pilot)
        assert app.tab.editor.text == "### Snapshot 2026-03-14 09:26:53\n"


async def test_journal_appends_into_open_buffer(tmp_path) -> None:
    app = _app(tmp_path)
    note = _notes_dir(tmp_path) / f"{TODAY}.md"
    event = Event(RUN_FINISHED, "runs", "resnet50 finished", time=FIXED_NOW.timestamp())
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        await pilot.press("t", "o", "d", "o")
        app.tab.post_message(EventBroadcast(event))
        await _settle(app, pilot)
        assert app.tab.editor.text == "todo\n- 09:26 run finished resnet50 finished\n"
        assert note.read_text() == app.tab.editor.text
        app.tab.post_message(EventBroadcast(Event("job_queued", "jobs", "ignored")))
        await _settle(app, pilot)
        assert "ignored" not in app.tab.editor.text


async def test_journal_appends_to_file_when_another_note_is_open(tmp_path) -> None:
    notes_dir = _notes_dir(tmp_path)
    notes_dir.mkdir(parents=True)
    (notes_dir / "ideas.md").write_text("ideas\n")
    (notes_dir / f"{TODAY}.md").write_text("earlier\n")
    app = _app(tmp_path)
    event = Event(TRIAL_FINISHED, "tuner", "trial 3 loss=0.12", time=FIXED_NOW.timestamp())
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        app.tab.open_note("ideas")
        await _settle(app, pilot)
        assert app.tab.editor.text == "ideas\n"
        app.tab.post_message(EventBroadcast(event))
        await _settle(app, pilot)
    assert (notes_dir / f"{TODAY}.md").read_text() == (
        "earlier\n- 09:26 trial finished trial 3 loss=0.12\n"
    )
    assert (notes_dir / "ideas.md").read_text() == "ideas\n"


async def test_journal_off_by_setting(tmp_path) -> None:
    app = _app(tmp_path, settings=Settings(auto_journal=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        app.tab.post_message(EventBroadcast(Event(RUN_FINISHED, "runs", "done")))
        await _settle(app, pilot)
        assert app.tab.editor.text == ""
    assert not (tmp_path / "ws" / ".waitwise").exists()


@pytest.mark.slow
async def test_search_jumps_to_match(tmp_path) -> None:
    notes_dir = _notes_dir(tmp_path)
    notes_dir.mkdir(parents=True)
    (notes_dir / "ideas.md").write_text("one\ntwo\nwarmup matters\n")
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        await pilot.press("ctrl+f")
        await pilot.press(*"matters")
        await _settle(app, pilot)
        await pilot.press("enter")
        await _settle(app, pilot)
        assert app.tab.doc.path.name == "ideas.md"
        assert app.tab.editor.cursor_location == (2, 7)


@pytest.mark.slow
async def test_new_note_from_template_then_rename_and_delete(tmp_path) -> None:
    notes_dir = _notes_dir(tmp_path)
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        await pilot.press("d", "a", "y")
        await pilot.press("ctrl+n")
        await _settle(app, pilot)
        await pilot.press(*"exp1", "enter")
        await _settle(app, pilot)
        # The unsaved daily note was saved on the way out.
        assert (notes_dir / f"{TODAY}.md").read_text() == "day"
        assert (notes_dir / "exp1.md").read_text().startswith("# 2026-03-14\n")
        assert app.tab.doc.path.name == "exp1.md"
        await pilot.press("ctrl+r")
        await pilot.press(*(["backspace"] * 4), *"exp2", "enter")
        await _settle(app, pilot)
        assert not (notes_dir / "exp1.md").exists() and (notes_dir / "exp2.md").exists()
        await pilot.press("f8")
        await pilot.press("n")  # no: nothing happens
        await _settle(app, pilot)
        assert (notes_dir / "exp2.md").exists()
        await pilot.press("f8")
        await pilot.press("y")
        await _settle(app, pilot)
        assert not (notes_dir / "exp2.md").exists()
        assert app.tab.doc.path.name == f"{TODAY}.md"
        assert app.tab.editor.text == "day"


@pytest.mark.slow
async def test_open_list_and_preview(tmp_path) -> None:
    notes_dir = _notes_dir(tmp_path)
    notes_dir.mkdir(parents=True)
    (notes_dir / "alpha.md").write_text("# Alpha title\n")
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        await pilot.press("ctrl+o")
        await _settle(app, pilot)
        await pilot.press("end", "enter")
        await _settle(app, pilot)
        assert app.tab.doc.path.name == "alpha.md"
        await pilot.press("ctrl+g")
        assert app.tab.has_class("-preview")
        assert not app.tab.editor.display or not app.tab.editor.visible
        await pilot.press("ctrl+g")
        assert app.focused is app.tab.editor


async def test_disk_poll_reloads_by_itself(tmp_path) -> None:
    notes_dir = _notes_dir(tmp_path)
    notes_dir.mkdir(parents=True)
    note = notes_dir / f"{TODAY}.md"
    note.write_text("v1\n")
    app = _app(tmp_path, watch_interval=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        note.write_text("v2 from another editor\n")
        for _ in range(40):
            await pilot.pause(0.05)
            if app.tab.editor.text.startswith("v2"):
                break
        assert app.tab.editor.text == "v2 from another editor\n"


@pytest.mark.slow
async def test_wide_terminal_typing_and_save(tmp_path) -> None:
    app = _app(tmp_path)
    note = _notes_dir(tmp_path) / f"{TODAY}.md"
    async with app.run_test(size=(160, 48)) as pilot:
        await _settle(app, pilot)
        await pilot.press(*"wide q2", "enter", "ctrl+s")
        await _settle(app, pilot)
        assert note.read_text() == "wide q2\n"
        assert "saved" in str(app.tab.query_one("#notes-header").render())


async def test_journal_event_during_first_load_is_not_lost(tmp_path) -> None:
    notes_dir = _notes_dir(tmp_path)
    notes_dir.mkdir(parents=True)
    note = notes_dir / f"{TODAY}.md"
    note.write_text("earlier\n")
    app = _app(tmp_path)
    event = Event(RUN_FINISHED, "runs", "early bird", time=FIXED_NOW.timestamp())
    async with app.run_test(size=(80, 24)) as pilot:
        app.tab.post_message(EventBroadcast(event))
        await _settle(app, pilot)
        assert app.tab.editor.text == "earlier\n- 09:26 run finished early bird\n"
        assert note.read_text() == app.tab.editor.text


@pytest.mark.slow
async def test_palette_command_inserts_snapshot(tmp_path) -> None:
    from waitwise_tui.ui.tabs.notes.tab import NotesCommands

    app = _app(tmp_path)
    app.COMMANDS = {NotesCommands}
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"run snapshot")
        await palette_finds(pilot, "snapshot")
        await pilot.press("enter")
        await _settle(app, pilot)
        assert app.tab.editor.text.startswith("### Snapshot 2026-03-14 09:26:53")
        assert app.focused is app.tab.editor
