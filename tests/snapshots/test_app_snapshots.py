"""SVG snapshots of the whole app with fake GPUs, a frozen host and a fixed-clock run.

The workspace lives at a fixed path so that paths on screen do not change per run;
a long interval means exactly one poll happens before the picture is taken.
"""

from __future__ import annotations

import shutil
import sys
from datetime import datetime
from pathlib import Path

import pytest
from fakes import make_context, tabs_ready, write_demo_log

from waitwise_tui.ui.app import WaitwiseApp
from waitwise_tui.ui.monitor.runs import RunsPanel
from waitwise_tui.ui.monitor.system import SystemMonitor
from waitwise_tui.ui.tabs import TABS

WORKSPACE = Path("/tmp/waitwise-snapshot-ws")


@pytest.fixture
def workspace(monkeypatch):
    shutil.rmtree(WORKSPACE, ignore_errors=True)
    WORKSPACE.mkdir(parents=True)
    # The tests tab names the interpreter it uses: make it the workspace's own .venv,
    # whose path is the same on every machine.
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    bin_dir = WORKSPACE / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    yield WORKSPACE
    shutil.rmtree(WORKSPACE, ignore_errors=True)


def build(workspace: Path, *, with_run: bool, tab: str | None = None) -> WaitwiseApp:
    paths = []
    if with_run:
        paths = [str(write_demo_log(workspace / "runs" / "mlp" / "metrics.jsonl"))]
    ctx = make_context(
        workspace,
        gpus="still",
        run_paths=paths,
        interval=3600,
        now=lambda: datetime(2026, 5, 4, 9, 30),
    )
    return WaitwiseApp(ctx, initial_tab=tab)


def chart_fits(runs: RunsPanel) -> bool:
    """The chart on screen was drawn for the chart's current size (the panel is
    mounted after the first frame, so a first chart may be drawn before layout)."""
    if runs.current_run() is None:
        return True
    chart = runs.query_one("#runs-chart")
    key = runs._chart_key
    return key is not None and key[2:4] == (max(20, chart.size.width), max(5, chart.size.height))


async def settle(pilot) -> None:
    app = pilot.app
    await tabs_ready(pilot)
    monitor = app.query_one(SystemMonitor)
    runs = app.query_one(RunsPanel)
    for _ in range(200):
        if (
            monitor.latest_snapshot is not None
            and runs.snapshot is not None
            and not runs._chart_busy
            and chart_fits(runs)
        ):
            break
        await pilot.pause(0.05)
    await app.workers.wait_for_complete()
    await pilot.pause(0.2)
    app.screen.set_focus(None)
    app.clear_notifications()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_monitor_with_fake_gpus(snap_compare, workspace, size):
    assert snap_compare(build(workspace, with_run=False), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_monitor_with_a_run(snap_compare, workspace, size):
    assert snap_compare(build(workspace, with_run=True), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("spec", TABS, ids=[spec.name for spec in TABS])
@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
def test_each_tab_in_the_app(snap_compare, workspace, spec, size):
    app = build(workspace, with_run=False, tab=spec.name)
    assert snap_compare(app, terminal_size=size, run_before=settle)
