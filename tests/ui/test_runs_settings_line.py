"""The run panel's chart settings (smoothing, x axis, log, zoom) stay on their line."""

from __future__ import annotations

import pytest
from fakes import make_app, make_context, tabs_ready, write_demo_log
from textual.widgets import Static
from waits import wait_for

from waitwise_tui.ui.monitor.runs import RunsPanel


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_settings_never_wrap_to_a_line_of_their_own(tmp_path, size) -> None:
    log = write_demo_log(tmp_path / "runs" / "mlp" / "metrics.jsonl")
    app = make_app(make_context(tmp_path, run_paths=[str(log)]), tabs=("notes",))
    async with app.run_test(size=size) as pilot:
        await tabs_ready(pilot)
        panel = app.query_one(RunsPanel)
        await wait_for(pilot, lambda: panel._shown.get("#runs-status"), "the status")
        # Every setting away from its default: the longest the line gets.
        panel.action_toggle_log()
        panel.action_toggle_robust()
        panel.action_toggle_overlay()
        for _ in range(3):
            panel.action_next_zoom()
            panel.action_smoothing(1)
        await pilot.pause()
        status = app.query_one("#runs-status", Static)
        shown = panel._shown["#runs-status"].plain.split("\n")
        width = status.content_size.width
        assert width > 0 and len(shown[0]) <= width
        assert "log" in shown[0]  # the settings, shortened, on the metric's line
        # Drawn as many lines as the text has: none wrapped.
        await wait_for(pilot, lambda: status.size.height == len(shown), "the status drawn")
        first = status.render_line(0).text.strip()
        assert first == shown[0].strip()
