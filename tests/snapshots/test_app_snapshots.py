"""SVG snapshots of the whole app with fake GPUs, a frozen host and a fixed-clock run.

The workspace lives in the test's tmp dir; the screen names it as the user would have
typed it on the command line, one stable name (never created on disk), so the picture
does not depend on where the test runs. A long interval means exactly one poll happens
before the picture is taken.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import pytest
from fakes import make_context, tabs_ready, write_demo_log
from waits import settle as let_run
from waits import wait_for

from waitwise_tui.ui.app import WaitwiseApp
from waitwise_tui.ui.monitor.runs import RunsPanel
from waitwise_tui.ui.monitor.system import SystemMonitor
from waitwise_tui.ui.tabs import TABS

SHOWN_WORKSPACE = "/tmp/waitwise-snapshot-ws"  # only a name on screen, never a path used


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    # The tests tab names the interpreter it uses: make it the workspace's own .venv,
    # which it shows relative to the workspace.
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    bin_dir = workspace / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    # A script, not a symlink: Python run through a symlink in a folder with no
    # pyvenv.cfg takes its base install's prefix (no pytest there on a plain system
    # Python); exec'd by its own path it is this test's venv, with pytest.
    python = bin_dir / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    return workspace


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
    if not with_run:
        # The run panel names where it looked for logs: the workspace, or the paths
        # given on the command line. Given one stable name, it shows that name.
        ctx.options["run_paths"] = [SHOWN_WORKSPACE]
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
    await wait_for(
        pilot,
        lambda: (
            monitor.latest_snapshot is not None
            and runs.snapshot is not None
            and runs._chart_key == runs._chart_asked
            and chart_fits(runs)
        ),
        "the first readings and a chart drawn for its size",
    )
    await app.workers.wait_for_complete()
    await let_run(pilot)
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
@pytest.mark.parametrize("size", [(80, 24), (200, 50), (120, 40)])
def test_each_tab_in_the_app(snap_compare, workspace, spec, size):
    app = build(workspace, with_run=False, tab=spec.name)
    assert snap_compare(app, terminal_size=size, run_before=settle)
