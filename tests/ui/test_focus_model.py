"""The keyboard focus model in the real app: what a typed key does depends only on
where focus is. In a text field or editor every plain key is text (app keys included);
Escape leaves it for its tab, a second Escape for the tab bar; a read-only editor is a
focused widget, not the app; the footer always shows the way out."""

from __future__ import annotations

from datetime import datetime

import pytest
from fakes import make_app, make_context, tabs_ready
from textual.widgets import Footer, Input, Tabs, TextArea
from waits import settle, wait_for

from waitwise_tui.ui.tabs.notes.tab import NotesTab

TODAY = datetime(2026, 3, 14, 9, 0, 0)
# The printable keys the app binds (quit, help, the five tab keys, demo, layout),
# each with the character it types.
APP_KEYS = {
    "q": "q",
    "question_mark": "?",
    "1": "1",
    "2": "2",
    "3": "3",
    "4": "4",
    "5": "5",
    "D": "D",
    "M": "M",
}


@pytest.fixture(autouse=True)
def _config(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WAITWISE_CONFIG_DIR", str(tmp_path / "config"))


def _app(tmp_path, tabs=("alternatives", "notes"), initial_tab="notes"):
    ctx = make_context(tmp_path, gpus=None, now=lambda: TODAY)
    app = make_app(ctx, tabs=tabs, initial_tab=initial_tab)
    ran: list[str] = []
    # Record every app action a plain key could run; none may run while typing.
    for name in ("request_quit", "help", "switch_tab", "start_demo", "cycle_layout"):
        setattr(app, f"action_{name}", lambda *args, name=name: ran.append(name))
    return app, ran


async def _notes_ready(pilot) -> NotesTab:
    await tabs_ready(pilot)
    tab = pilot.app.query_one(NotesTab)
    await wait_for(pilot, lambda: tab.loaded and pilot.app.focused is tab.editor, "the editor")
    return tab


def _footer_keys(app) -> dict[str, str]:
    """Footer key -> description, for the keys that are fully on screen."""
    footer = app.query_one(Footer)
    right = footer.region.right
    return {
        key.key_display: key.description
        for key in footer.query("FooterKey")
        if key.region.width and key.region.right <= right
    }


@pytest.mark.slow
async def test_app_keys_are_text_in_the_editor_and_escape_leaves_it(tmp_path) -> None:
    app, ran = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        tab = await _notes_ready(pilot)
        assert _footer_keys(app).get("esc") == "Leave"
        await pilot.press(*APP_KEYS)
        await settle(pilot)
        assert tab.editor.text == "".join(APP_KEYS.values())
        assert ran == []
        assert len(app.screen_stack) == 1

        await pilot.press("escape")
        assert app.focused is tab
        footer = _footer_keys(app)
        assert footer.get("esc") == "Tab bar"
        assert footer.get("q") == "Quit" and footer.get("?") == "Help"
        # Out of the editor the same keys are commands again.
        await pilot.press("question_mark", "D")
        assert ran == ["help", "start_demo"]
        assert tab.editor.text == "".join(APP_KEYS.values())

        await pilot.press("escape")
        assert isinstance(app.focused, Tabs)
        await pilot.press("enter")  # enter on the tab bar does not start editing
        await pilot.press("tab")
        assert app.focused is tab
        await pilot.press("enter")
        assert app.focused is tab.editor


@pytest.mark.slow
async def test_read_only_note_is_a_focused_widget_not_the_app(tmp_path) -> None:
    notes_dir = tmp_path / ".waitwise" / "notes"
    notes_dir.mkdir(parents=True)
    note = notes_dir / "2026-03-14.md"
    note.write_bytes(b"caf\xe9\n")
    app, ran = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        tab = await _notes_ready(pilot)
        assert tab.editor.read_only
        await pilot.press(*APP_KEYS, "z")
        await settle(pilot)
        assert ran == []
        assert app.is_running and app.return_code is None
        assert app.focused is tab.editor
        await pilot.press("escape")
        assert app.focused is tab
    assert note.read_bytes() == b"caf\xe9\n"


@pytest.mark.slow
async def test_app_keys_are_text_in_a_tab_input(tmp_path) -> None:
    app, ran = _app(tmp_path, tabs=("alternatives",), initial_tab="alternatives")
    async with app.run_test(size=(80, 24)) as pilot:
        await tabs_ready(pilot)
        box = app.query_one("#alt-filter", Input)
        await pilot.press("f")
        await wait_for(pilot, lambda: app.focused is box, "the filter field")
        await pilot.press(*APP_KEYS)
        await settle(pilot)
        assert box.value == "".join(APP_KEYS.values())
        assert ran == []
        await pilot.press("escape")
        assert not isinstance(app.focused, (Input, TextArea))
        await pilot.press("escape")
        assert isinstance(app.focused, Tabs)


@pytest.mark.slow
async def test_app_keys_are_text_in_a_modal_input(tmp_path) -> None:
    app, ran = _app(tmp_path, tabs=("notes",))
    async with app.run_test(size=(80, 24)) as pilot:
        tab = await _notes_ready(pilot)
        await pilot.press("ctrl+n")
        found = await wait_for(pilot, lambda: app.screen.query("#new-name"), "the modal")
        name = found.first(Input)
        await wait_for(pilot, lambda: app.focused is name, "the name field")
        await pilot.press(*APP_KEYS)
        await settle(pilot)
        assert name.value == "".join(APP_KEYS.values())
        assert ran == []
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(app.screen_stack) == 1, "the modal to close")
        assert tab.editor.text == ""


@pytest.mark.slow
async def test_help_headings_are_words(tmp_path) -> None:
    ctx = make_context(tmp_path, gpus=None, now=lambda: TODAY)
    app = make_app(ctx, tabs=("tuner", "notes"), initial_tab="tuner")
    async with app.run_test(size=(120, 40)) as pilot:
        await tabs_ready(pilot)
        titles = [title for title, rows in app.binding_sections() if rows]
        assert {
            "Everywhere",
            "Tuner tab",
            "Notes tab",
            "GPU and host (when the monitor has focus)",
        } <= set(titles)
        assert not [t for t in titles if " " not in t and t != "Everywhere"], titles


async def test_footer_keys_are_whole_or_left_out_at_80_columns(tmp_path) -> None:
    """A key that does not fit before the palette key is left out, never cut ("c C")."""
    app, _ran = _app(tmp_path, tabs=("alternatives",), initial_tab="alternatives")
    async with app.run_test(size=(80, 24)) as pilot:
        await tabs_ready(pilot)
        footer = app.query_one(Footer)

        def fitted() -> bool:
            # Queried afresh: the footer recomposes its keys when the bindings change
            # (focus moving as the tab settles), and fits the new ones after a refresh.
            keys = list(footer.query("FooterKey"))
            palette = next(key for key in keys if key.has_class("-command-palette"))
            shown = [k for k in keys if k is not palette and k.display and k.region.width]
            return (
                any(not k.display for k in keys)
                and all(key.region.right <= palette.region.x for key in shown)
                and {k.key_display for k in shown} >= {"esc", "q", "?"}
            )

        await wait_for(pilot, fitted, "keys left out whole, esc q ? kept, none under the palette")
        await pilot.resize_terminal(200, 24)  # room again: every key is back
        await wait_for(pilot, lambda: all(k.display for k in footer.query("FooterKey")), "all")
