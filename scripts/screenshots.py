"""Render the app headless into screenshots/*.svg (used by the README).

    python scripts/screenshots.py

Sources are the same deterministic stand-ins the snapshot tests use (fake NVML with
two GPUs, a frozen host reading, a finished JSONL training log), so the pictures only
change when the UI does.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fakes import make_context, tabs_ready, write_demo_log  # noqa: E402

from waitwise_tui.ui.app import WaitwiseApp  # noqa: E402
from waitwise_tui.ui.monitor.runs import RunsPanel  # noqa: E402
from waitwise_tui.ui.monitor.system import SystemMonitor  # noqa: E402
from waitwise_tui.ui.tabs import TABS  # noqa: E402

OUT = ROOT / "screenshots"


async def shoot(name: str, size: tuple[int, int], workspace: Path, tab: str | None) -> Path:
    log = write_demo_log(workspace / "runs" / "mlp" / "metrics.jsonl")
    ctx = make_context(
        workspace,
        gpus="still",
        run_paths=[str(log)],
        interval=3600,
        now=lambda: datetime(2026, 5, 4, 9, 30),
    )
    app = WaitwiseApp(ctx, initial_tab=tab)
    async with app.run_test(size=size) as pilot:
        await tabs_ready(pilot)
        monitor = app.query_one(SystemMonitor)
        runs = app.query_one(RunsPanel)
        for _ in range(200):
            if monitor.latest_snapshot and runs.snapshot and runs._chart_key == runs._chart_asked:
                break
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        app.clear_notifications()
        await pilot.pause()
        path = OUT / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(OUT))
    return path


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "project"
        workspace.mkdir()
        # The tests tab names its interpreter: make it the workspace's own .venv (as the
        # snapshot tests do), so no path of this machine ends up in the pictures.
        os.environ.pop("VIRTUAL_ENV", None)
        (workspace / ".venv" / "bin").mkdir(parents=True)
        python = workspace / ".venv" / "bin" / "python"  # a script: see the snapshot tests
        python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        python.chmod(0o755)
        shots = [("main-wide", (160, 48), None), ("main-80x24", (80, 24), None)]
        shots += [(f"tab-{spec.name}", (160, 48), spec.name) for spec in TABS]
        for name, size, tab in shots:
            path = await shoot(name, size, workspace, tab)
            print(f"wrote {path.relative_to(ROOT)}")
            shutil.rmtree(workspace / ".waitwise", ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
