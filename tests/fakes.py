"""Deterministic stand-ins for live sources, shared by UI tests, snapshots and the
screenshot script: a frozen host reading, fake NVML, and a fixed-clock run monitor."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from waitwise_tui.config import Settings
from waitwise_tui.core.gpu.fake import FakeConfig, FakeNvml, fake_from_spec
from waitwise_tui.core.gpu.host import HostInfo
from waitwise_tui.core.workspace import Workspace
from waitwise_tui.ui.context import AppContext, Fakes

if TYPE_CHECKING:
    from waitwise_tui.core.runs.monitor import RunsSnapshot
    from waitwise_tui.ui.app import WaitwiseApp

FIXED_NOW = 1_790_000_000.0

HOST = HostInfo(
    cpu_percent=37.0,
    per_cpu_percent=(20.0, 90.0, 5.0, 40.0, 61.0, 12.0, 8.0, 77.0),
    cpu_count=8,
    load_1m=3.25,
    load_5m=2.5,
    load_15m=1.75,
    memory_used_bytes=21 * 1024**3,
    memory_total_bytes=64 * 1024**3,
    swap_used_bytes=0,
    swap_total_bytes=8 * 1024**3,
    disk_path="/ws",
    disk_free_bytes=320 * 1024**3,
    disk_total_bytes=1000 * 1024**3,
    disk_read_bytes_per_s=12.5 * 1024**2,
    disk_write_bytes_per_s=3.0 * 1024**2,
    net_rx_bytes_per_s=1024.0**2,
    net_tx_bytes_per_s=512.0 * 1024,
)


class FrozenHost:
    """A host source that always returns the same reading."""

    def __init__(self, host: HostInfo = HOST) -> None:
        self.host = host

    def sample(self) -> HostInfo:
        return self.host


def write_demo_log(path: Path, steps: int = 400) -> Path:
    """A finished JSONL training log with train and validation loss."""
    import math

    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for step in range(0, steps + 1, 10):
        loss = 2.3 * math.exp(-step / 120) + 0.25 + 0.03 * math.sin(step / 7)
        row = {
            "step": step,
            "loss": round(loss, 5),
            "lr": 0.01,
            "wall_time": FIXED_NOW - 600 + step,
        }
        if step % 50 == 0:
            row["val_loss"] = round(loss + 0.08, 5)
        lines.append(json.dumps(row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_context(
    workspace: Path,
    *,
    gpus: str | None = "two",
    run_paths: list[str] | None = None,
    frozen_runs: bool = True,
    interval: float = 0.1,
    now: Callable[[], datetime] | None = None,
    **options,
) -> AppContext:
    """A context whose sources are fake or frozen. ``gpus="still"`` is a fake NVML
    whose processes are all foreign (no pid of this machine shows up); ``now`` fixes
    the date the notes tab names today's note after."""
    nvml = None
    if gpus == "still":
        nvml = FakeNvml(FakeConfig(gpus=2, processes=4, own_process=False))
    elif gpus is not None:
        nvml = fake_from_spec(gpus)
    runs_monitor = None
    if frozen_runs:
        from waitwise_tui.core.runs.monitor import RunMonitor

        runs_monitor = RunMonitor(
            workspace, run_paths or (), clock=lambda: FIXED_NOW, writers=False
        )
    return AppContext(
        Workspace(workspace),
        Settings(interval=interval),
        options={"run_paths": run_paths or [], **options},
        fakes=Fakes(nvml=nvml, host=FrozenHost(), runs_monitor=runs_monitor, now=now),
    )


def runs_reading(
    *, eta_seconds: float | None = None, name: str = "mlp", writer_pid: int | None = None
) -> RunsSnapshot:
    """A live runs reading with one run (what ``ctx.live.publish_runs`` takes)."""
    from waitwise_tui.core.runs.monitor import RunInfo, RunsSnapshot

    run = RunInfo(
        name=name,
        path=f"{name}/metrics.jsonl",
        format="jsonl",
        status="live",
        last_step=100.0,
        age_seconds=1.0,
        progress=None,
        eta_seconds=eta_seconds,
        step_rate=None,
        writer_pid=writer_pid,
        metrics=(),
        alerts=(),
    )
    return RunsSnapshot(time=FIXED_NOW, runs=(run,), new_alerts=())


def make_app(ctx: AppContext, *, tabs: Iterable[str] | None = None, **kwargs) -> WaitwiseApp:
    """The real app on ``ctx``. ``tabs`` names the only tabs it holds, in the app's
    order (None: all of them; ``()``: the monitor alone): a test builds the tabs it is
    about, not five tabs mounted one after the other before every test."""
    from waitwise_tui.ui.app import WaitwiseApp
    from waitwise_tui.ui.tabs import TABS

    app = WaitwiseApp(ctx, **kwargs)
    if tabs is not None:
        unknown = set(tabs) - {spec.name for spec in TABS}
        assert not unknown, f"no such tab: {sorted(unknown)}"
        app.tab_specs = [spec for spec in TABS if spec.name in set(tabs)]
    return app


async def tabs_ready(pilot) -> None:
    """Wait until the app has mounted its tabs (they mount after the first frame)."""
    from waits import wait_for

    await wait_for(pilot, lambda: getattr(pilot.app, "tabs_mounted", True), "the tabs to mount")
