"""The runs panel waits for a named log that does not exist yet, then shows the run.

``waitwise-tui PATH`` is often started before the training run creates PATH: the panel
says "waiting for PATH to appear…" and lists the run once the file is there.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from fakes import make_app, make_context
from waits import wait_for

from waitwise_tui.core.runs.monitor import RunMonitor


def _text(app, selector: str) -> str:
    widgets = list(app.query(selector))
    return "".join(str(w.render()) for w in widgets if w.display)


@pytest.mark.slow
async def test_the_panel_waits_for_a_path_and_shows_the_run_once_it_appears(
    tmp_path: Path,
) -> None:
    log = tmp_path / "later" / "metrics.jsonl"
    ctx = make_context(tmp_path, run_paths=[str(log)], frozen_runs=False)
    monitor = RunMonitor(tmp_path, [str(log)], rescan_seconds=0.0, writers=False)
    ctx.fakes = replace(ctx.fakes, runs_monitor=monitor)
    app = make_app(ctx, tabs=())
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(
            pilot,
            lambda: f"waiting for {log} to appear…" in _text(app, "#runs-empty"),
            "the waiting message",
        )
        assert "metrics" not in _text(app, "#runs-list")
        log.parent.mkdir()
        log.write_text(
            "".join(json.dumps({"step": i, "loss": 1.0 / i}) + "\n" for i in range(1, 6))
        )
        await wait_for(pilot, lambda: "metrics" in _text(app, "#runs-list"), "the run listed")
        assert "waiting for" not in _text(app, "#runs-empty")
        assert "step 5" in _text(app, "#runs-list")
