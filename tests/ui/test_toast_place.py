"""Toasts keep off the focused widget: with focus in the tabs they go over the monitor."""

from __future__ import annotations

import pytest
from fakes import make_context, tabs_ready
from textual.widgets._toast import Toast
from waits import wait_for

from waitwise_tui.ui.app import WaitwiseApp


@pytest.mark.parametrize(
    ("size", "tab"), [((80, 24), "tests"), ((80, 24), "notes"), ((160, 48), "tests")]
)
@pytest.mark.slow
async def test_a_toast_does_not_cover_the_focused_widget(tmp_path, size, tab) -> None:
    app = WaitwiseApp(make_context(tmp_path), initial_tab=tab)
    async with app.run_test(size=size, notifications=True) as pilot:
        await tabs_ready(pilot)
        todo = app.query_one("#todo")
        await wait_for(
            pilot,
            lambda: app.focused is not None and todo in app.focused.ancestors_with_self,
            "focus in the tab",
        )
        app.notify("a message of a few words that takes a line or two\nand one more line")
        await wait_for(pilot, lambda: app.screen.query(Toast), "the toast")
        await pilot.pause()
        toast = app.screen.query_one(Toast)
        focused = app.focused
        assert toast.region.area and focused.region.area
        assert not toast.region.overlaps(focused.region), (toast.region, focused.region)
