"""``ui/live.py``: one GPU sampler per process, shared by the monitor, the job runner's
GPU probe and the notes snapshot; readings reach views as messages."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from fakes import FIXED_NOW, FrozenHost, make_context, runs_reading, tabs_ready
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widget import Widget

from waitwise_tui.config import Settings
from waitwise_tui.core.gpu import sampler as gpu_sampler
from waitwise_tui.core.gpu.fake import FakeConfig, FakeNvml
from waitwise_tui.core.runs.monitor import RunMonitor
from waitwise_tui.core.workspace import Workspace
from waitwise_tui.ui.app import WaitwiseApp
from waitwise_tui.ui.context import AppContext, Fakes
from waitwise_tui.ui.messages import RunsUpdated, SystemUpdated
from waitwise_tui.ui.monitor.system import SystemMonitor
from waitwise_tui.ui.tabs import TABS
from waitwise_tui.ui.tabs.notes.tab import NotesTab
from waitwise_tui.ui.tabs.tuner.tab import TunerTab


class CountingNvml(FakeNvml):
    """The fake NVML, counting how often anything initialises it."""

    def __init__(self) -> None:
        super().__init__(FakeConfig(gpus=2, processes=3))
        self.inits = 0

    def nvmlInit(self) -> None:
        self.inits += 1
        super().nvmlInit()


async def wait_for(pilot: Pilot, condition: Callable[[], bool], what: str = "") -> None:
    for _ in range(200):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"condition not reached: {what}")


@pytest.mark.slow
async def test_one_sampler_serves_monitor_tuner_probe_and_notes_snapshot(
    tmp_path: Path, monkeypatch
) -> None:
    samplers: list[object] = []
    original_init = gpu_sampler.GpuSampler.__init__

    def counting_init(self, *args, **kwargs) -> None:
        samplers.append(self)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(gpu_sampler.GpuSampler, "__init__", counting_init)
    nvml = CountingNvml()
    ws = tmp_path / "ws"
    ws.mkdir()
    ctx = AppContext(
        Workspace(ws),
        Settings(interval=0.1),
        {"run_paths": []},
        Fakes(nvml=nvml, host=FrozenHost()),
    )
    app = WaitwiseApp(ctx, initial_tab="notes")
    app.tab_specs = [spec for spec in TABS if spec.name in ("notes", "tuner")]
    async with app.run_test(size=(160, 48)) as pilot:
        await tabs_ready(pilot)
        monitor = app.query_one(SystemMonitor)
        await wait_for(pilot, lambda: monitor.latest_snapshot is not None, "a monitor reading")
        # The tuner's runner judges free GPUs with the live readings' probe...
        tuner = app.query_one(TunerTab)
        assert tuner._gpu_probe == app.live.gpu_probe
        readings = await asyncio.to_thread(tuner._gpu_probe)
        assert [index for index, _mib, _util in readings] == [0, 1]
        # ...and the notes snapshot lists the GPUs of the same readings.
        notes = app.query_one(NotesTab)
        await wait_for(pilot, lambda: notes.loaded, "the note")
        notes.editor.focus()
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: "- GPU 1 " in notes.editor.text, "the snapshot's GPUs")
        assert "- GPU 0 " in notes.editor.text
        await pilot.pause(0.3)  # more polls: still the same sampler
    assert len(samplers) == 1
    assert nvml.inits == 1


async def test_probe_samples_itself_while_no_fresh_reading(tmp_path: Path) -> None:
    # No view is on screen (a tab alone, or before the first poll): the probe still
    # answers, with the same one sampler, and keeps its reading as the latest.
    nvml = CountingNvml()
    ctx = AppContext(Workspace(tmp_path), Settings(), fakes=Fakes(nvml=nvml, host=FrozenHost()))
    assert ctx.live.system is None
    readings = await asyncio.to_thread(ctx.live.gpu_probe)
    assert [index for index, _mib, _util in readings] == [0, 1]
    assert ctx.live.system is not None
    assert len(await asyncio.to_thread(ctx.live.gpus_now)) == 2
    assert nvml.inits == 1

    no_gpu = AppContext(
        Workspace(tmp_path),
        Settings(),
        fakes=Fakes(nvml=FakeNvml(FakeConfig(init_error="LibraryNotFound")), host=FrozenHost()),
    )
    assert await asyncio.to_thread(no_gpu.live.gpu_probe) == []
    assert await asyncio.to_thread(no_gpu.live.gpus_now) == ()


class Listener(Widget):
    """A view that records what the live data sends it."""

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.system: list[SystemUpdated] = []
        self.runs: list[RunsUpdated] = []

    def on_mount(self) -> None:
        self.ctx.live.subscribe_system(self)
        self.ctx.live.subscribe_runs(self)

    def on_unmount(self) -> None:
        self.ctx.live.unsubscribe(self)

    def on_system_updated(self, message: SystemUpdated) -> None:
        self.system.append(message)

    def on_runs_updated(self, message: RunsUpdated) -> None:
        self.runs.append(message)


class CountingRuns(RunMonitor):
    def __init__(self, root: Path) -> None:
        super().__init__(root, (), clock=lambda: FIXED_NOW, writers=False)
        self.polls = 0

    def poll(self):
        self.polls += 1
        return super().poll()


class ListenerApp(App[None]):
    def __init__(self, ctx: AppContext, count: int = 1) -> None:
        super().__init__()
        self.ctx = ctx
        self.count = count

    def compose(self) -> ComposeResult:
        for _ in range(self.count):
            yield Listener(self.ctx)


async def test_every_subscriber_gets_each_reading_and_unchanged_runs_post_nothing(
    tmp_path: Path,
) -> None:
    runs = CountingRuns(tmp_path)
    ctx = AppContext(
        Workspace(tmp_path),
        Settings(interval=0.1),
        fakes=Fakes(nvml=FakeNvml(FakeConfig(gpus=1)), host=FrozenHost(), runs_monitor=runs),
    )
    app = ListenerApp(ctx, count=2)
    async with app.run_test() as pilot:
        first, second = app.query(Listener)
        await wait_for(pilot, lambda: len(first.system) >= 3 and runs.polls >= 4, "polls")
        assert abs(len(first.system) - len(second.system)) <= 1
        # An empty workspace: the first (empty) runs reading is sent, the same again is not.
        assert len(first.runs) == len(second.runs) == 1
        assert first.runs[0].snapshot is not None and first.runs[0].snapshot.runs == ()
        # A reading published by the owner reaches every subscriber.
        ctx.live.publish_runs(runs_reading(eta_seconds=60.0))
        assert ctx.live.training_eta() == 60.0  # before the next poll replaces it
        await wait_for(pilot, lambda: len(second.runs) == 2, "the published reading")
    # The last view left: the pollers stopped.
    pollers = [t for t in threading.enumerate() if t.name in ("waitwise-monitor", "waitwise-runs")]
    for thread in pollers:
        thread.join(10)  # stopped: each ends as soon as its wait wakes
    assert not [t for t in pollers if t.is_alive()]


async def test_gpu_panel_labels_run_processes_from_the_runs_readings(tmp_path: Path) -> None:
    # The run panel no longer reaches into the GPU panel: both follow the live readings.
    ctx = AppContext(
        Workspace(tmp_path),
        Settings(interval=60),
        fakes=Fakes(nvml=FakeNvml(FakeConfig(gpus=1, processes=2)), host=FrozenHost()),
    )

    class MonitorApp(App[None]):
        def compose(self) -> ComposeResult:
            yield SystemMonitor(ctx)

    async with MonitorApp().run_test(size=(160, 40)) as pilot:
        monitor = pilot.app.query_one(SystemMonitor)
        await wait_for(pilot, lambda: monitor.latest_snapshot is not None, "a reading")
        ctx.live.publish_runs(runs_reading(name="bert-large", writer_pid=os.getpid()))
        await wait_for(
            pilot, lambda: any("bert-large" in line for line in monitor.plain_lines), "label"
        )


async def test_app_tabs_read_the_live_runs(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    app = WaitwiseApp(make_context(ws), initial_tab="notes")
    app.tab_specs = [spec for spec in TABS if spec.name == "notes"]
    async with app.run_test(size=(120, 40)) as pilot:
        await tabs_ready(pilot)
        assert app.live is app.ctx.live
        await wait_for(pilot, lambda: app.live.runs is not None, "the first runs reading")
        assert app.live.training_eta() is None  # no run knows its end
