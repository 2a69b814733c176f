"""The notes tab inside the real app: typed keys reach the note, quitting saves it."""

from __future__ import annotations

from datetime import date

import pytest
from fakes import tabs_ready

from waitwise_tui.config import Settings
from waitwise_tui.core.workspace import Workspace
from waitwise_tui.ui.app import WaitwiseApp
from waitwise_tui.ui.context import AppContext
from waitwise_tui.ui.tabs import TABS
from waitwise_tui.ui.tabs.notes.tab import NotesTab


@pytest.mark.slow
async def test_app_keys_type_into_the_note_and_quit_saves(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WAITWISE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WAITWISE_FAKE_NVML", "two")
    ctx = AppContext(Workspace(tmp_path), Settings(), {"run_paths": []})
    app = WaitwiseApp(ctx, initial_tab="notes")
    # Only this tab: the test is about the app's keys against the editor.
    app.tab_specs = [spec for spec in TABS if spec.name == "notes"]
    async with app.run_test(size=(80, 24)) as pilot:
        await tabs_ready(pilot)
        tab = app.query_one(NotesTab)
        for _ in range(20):
            await pilot.pause(0.05)
            if tab.loaded and app.focused is tab.editor:
                break
        assert app.focused is tab.editor
        await pilot.press("q", "1", "2", "D", "question_mark")
        assert tab.editor.text == "q12D?"
        await pilot.press("ctrl+q")
        await pilot.pause()
    note = tmp_path / ".waitwise" / "notes" / f"{date.today().isoformat()}.md"
    assert note.read_text() == "q12D?"
