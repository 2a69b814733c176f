"""SystemMonitor in a small harness app, fed by the fake NVML and a frozen host."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from fakes import FrozenHost
from textual._compositor import CompositorUpdate
from textual.app import App, ComposeResult
from textual.content import Content
from textual.pilot import Pilot
from textual.screen import Screen

from waitwise_tui.config import Settings
from waitwise_tui.core.gpu.fake import FakeConfig, FakeNvml, fake_from_spec
from waitwise_tui.core.gpu.host import HostInfo
from waitwise_tui.core.workspace import Workspace
from waitwise_tui.ui.context import AppContext, Fakes
from waitwise_tui.ui.monitor.gpu_render import History, bar_cells, fit, row_plain, sparkline
from waitwise_tui.ui.monitor.system import SystemMonitor

HOST = HostInfo(
    cpu_percent=37.0,
    per_cpu_percent=(20.0, 90.0, 5.0, 40.0),
    cpu_count=4,
    load_1m=1.25,
    load_5m=1.0,
    load_15m=0.75,
    memory_used_bytes=6 * 1024**3,
    memory_total_bytes=32 * 1024**3,
    swap_used_bytes=0,
    swap_total_bytes=2 * 1024**3,
    disk_path="/ws",
    disk_free_bytes=120 * 1024**3,
    disk_total_bytes=500 * 1024**3,
    disk_read_bytes_per_s=2048.0,
    disk_write_bytes_per_s=None,
    net_rx_bytes_per_s=1024.0**2,
    net_tx_bytes_per_s=512.0,
)


class MonitorHarness(App):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx

    def compose(self) -> ComposeResult:
        yield SystemMonitor(self.ctx, id="monitor")


def make_app(tmp_path: Path, spec: str | None) -> MonitorHarness:
    nvml = fake_from_spec(spec) if spec is not None else None
    fakes = Fakes(nvml=nvml, host=FrozenHost(HOST))
    ctx = AppContext(Workspace(tmp_path), Settings(interval=0.1), fakes=fakes)
    return MonitorHarness(ctx)


async def wait_for(pilot: Pilot, condition: Callable[[], bool]) -> None:
    for _ in range(100):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached")


def shown(monitor: SystemMonitor) -> list[str]:
    return monitor.plain_lines


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)])
async def test_two_gpus_at_each_size(tmp_path: Path, size: tuple[int, int]) -> None:
    app = make_app(tmp_path, "two")
    async with app.run_test(size=size) as pilot:
        monitor = app.query_one(SystemMonitor)
        await wait_for(pilot, lambda: monitor.latest_snapshot is not None)
        await pilot.pause(0.2)
        text = "\n".join(shown(monitor))
        assert "driver 550.54.15" in text
        assert "2 GPUs" in text
        assert "0 A100-SXM4-80GB" in text and "1 H100 80GB HBM3" in text
        assert "/400 W" in text
        assert "util " in text and "mem " in text
        assert "GPU-MEM" in text and "other ns" in text
        assert any(line.startswith("CPU ") and "load  1.25" in line for line in shown(monitor))
        assert "disk free 120G" in text
        width = monitor.scrollable_content_region.width
        assert all(len(line) <= width for line in shown(monitor))
        screen = app.export_screenshot()
        assert "A100-SXM4-80GB" in screen


async def test_lost_gpu_shows_error_row_and_others_keep_updating(tmp_path: Path) -> None:
    app = make_app(tmp_path, "lost")
    async with app.run_test(size=(120, 40)) as pilot:
        monitor = app.query_one(SystemMonitor)
        await wait_for(pilot, lambda: any("GPU is lost" in line for line in shown(monitor)))
        before = monitor.latest_snapshot
        await wait_for(pilot, lambda: monitor.latest_snapshot is not before)
        after = monitor.latest_snapshot
        assert after.gpus[0].error is None and after.gpus[1].error == "GPU is lost"
        assert after.time > before.time and after.gpus[0].util_percent is not None
        assert "1 H100 80GB HBM3  ERROR: GPU is lost" in shown(monitor)


async def test_host_only_with_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    app = make_app(tmp_path, "missing")
    async with app.run_test(size=(200, 60)) as pilot:
        monitor = app.query_one(SystemMonitor)
        await wait_for(pilot, lambda: monitor.latest_snapshot is not None)
        lines = shown(monitor)
        assert lines[0].startswith("⚠ host only: NVML library not found")
        assert "CUDA_VISIBLE_DEVICES=2,3" in lines[0]
        assert not any("GPU-MEM" in line for line in lines)
        assert any("RAM" in line and "6.0G/32.0G" in line for line in lines)


async def test_compact_rendering_one_line_per_gpu(tmp_path: Path) -> None:
    app = make_app(tmp_path, "two")
    async with app.run_test(size=(50, 24)) as pilot:
        monitor = app.query_one(SystemMonitor)
        await wait_for(pilot, lambda: monitor.latest_snapshot is not None)
        await pilot.pause(0.1)
        lines = shown(monitor)
        gpu_lines = [line for line in lines if line.startswith(("0 A100", "1 H100"))]
        assert len(gpu_lines) == 2
        assert not any(line.lstrip().startswith("util ") for line in lines)
        width = monitor.scrollable_content_region.width
        for line in lines:
            assert len(line) <= width


async def test_process_labels_and_own_mark(tmp_path: Path) -> None:
    app = make_app(tmp_path, "two")
    async with app.run_test(size=(120, 40)) as pilot:
        monitor = app.query_one(SystemMonitor)
        await wait_for(pilot, lambda: monitor.latest_snapshot is not None)
        monitor.set_process_labels({os.getpid(): "run-bert-large"})
        await wait_for(pilot, lambda: any("run-bert-large" in line for line in shown(monitor)))
        mine = [line for line in shown(monitor) if f" {os.getpid()} " in line]
        assert len(mine) == 1
        assert mine[0].startswith("●")
        assert "run-bert-large" in mine[0]
        # external text is never markup
        monitor.set_process_labels({os.getpid(): "[bold]run[/bold]"})
        await wait_for(pilot, lambda: any("[bold]run[/bold]" in line for line in shown(monitor)))
        foreign = [line for line in shown(monitor) if "other ns" in line]
        assert foreign and all("(another PID namespace)" in line for line in foreign)


async def test_unchanged_lines_are_not_repainted(tmp_path: Path) -> None:
    app = make_app(tmp_path, "two")
    async with app.run_test(size=(120, 40)) as pilot:
        monitor = app.query_one(SystemMonitor)
        await wait_for(pilot, lambda: monitor.latest_snapshot is not None)
        await pilot.pause(0.1)
        monitor.interval = 60.0  # stop fresh polls from changing the data under us
        await pilot.pause(0.3)
        await wait_for(pilot, lambda: bool(shown(monitor)))
        count = len(shown(monitor))
        repaints = monitor.repaints
        monitor._render_lines()
        monitor.set_process_labels({})
        assert monitor.repaints == repaints
        assert len(shown(monitor)) == count


async def test_small_change_repaints_few_cells(tmp_path: Path) -> None:
    app = make_app(tmp_path, "two")
    async with app.run_test(size=(120, 40)) as pilot:
        monitor = app.query_one(SystemMonitor)
        await wait_for(pilot, lambda: monitor.latest_snapshot is not None)
        monitor.interval = 60.0
        await pilot.pause(0.3)
        await wait_for(pilot, lambda: bool(shown(monitor)))
        snapshot = monitor.latest_snapshot
        gpu = snapshot.gpus[0]
        bumped = replace(gpu, util_percent=(gpu.util_percent + 1) % 100)
        before = monitor.repaints
        monitor._record(replace(snapshot, gpus=(bumped, *snapshot.gpus[1:])))
        monitor._render_lines()
        # the util value, one bar chunk, at most one sparkline chunk
        assert 1 <= monitor.repaints - before <= 3


class FlakyHost:
    """Fails its first sample, then works: the panel must report it and keep polling."""

    def __init__(self) -> None:
        self.calls = 0

    def sample(self) -> HostInfo:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("psutil exploded")
        return HOST


async def test_failed_poll_is_reported_and_next_poll_recovers(tmp_path: Path) -> None:
    host = FlakyHost()
    fakes = Fakes(nvml=fake_from_spec("two"), host=host)
    # A long interval: the test starts the second poll itself, so nothing races.
    app = MonitorHarness(AppContext(Workspace(tmp_path), Settings(interval=60), fakes=fakes))
    async with app.run_test(size=(120, 40)) as pilot:
        monitor = app.query_one(SystemMonitor)
        await wait_for(pilot, lambda: bool(shown(monitor)) and "exploded" in shown(monitor)[0])
        assert shown(monitor)[0] == "monitor poll failed: psutil exploded"
        assert monitor.latest_snapshot is None
        monitor._poll()
        await wait_for(pilot, lambda: shown(monitor)[0].startswith("NVML  driver 550.54.15"))


class BlockedHost:
    """Holds the first sample until released: the panel has nothing to show yet."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def sample(self) -> HostInfo:
        self.release.wait(10)
        return HOST


class FrameRecorder(MonitorHarness):
    """Keeps what each screen update would write to the terminal."""

    CSS = "SystemMonitor { height: auto; }"  # as in the app's monitor pane

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.frames: list[str] = []

    def _display(self, screen: Screen, renderable: object) -> None:
        if isinstance(renderable, CompositorUpdate):
            self.frames.append(renderable.render_segments(self.console))
        super()._display(screen, renderable)


async def test_sampling_line_is_in_the_first_frame(tmp_path: Path) -> None:
    # With height auto the panel used to be 0 lines tall until the Resize after the
    # first layout built its rows, so the first frame showed nothing of the monitor.
    host = BlockedHost()
    fakes = Fakes(nvml=fake_from_spec("two"), host=host)
    app = FrameRecorder(AppContext(Workspace(tmp_path), Settings(interval=60), fakes=fakes))
    async with app.run_test(size=(80, 24)) as pilot:
        monitor = app.query_one(SystemMonitor)
        await pilot.pause()
        assert app.frames, "nothing painted"
        assert "sampling GPUs and host…" in app.frames[0]
        assert monitor.size.height == 1
        assert monitor.latest_snapshot is None
        host.release.set()
        await wait_for(pilot, lambda: monitor.latest_snapshot is not None)
        assert monitor.size.height > 1


async def test_unknown_fake_spec_in_env_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAITWISE_FAKE_NVML", "bogus")
    app = make_app(tmp_path, None)
    async with app.run_test(size=(120, 40)) as pilot:
        monitor = app.query_one(SystemMonitor)
        await wait_for(pilot, lambda: monitor.latest_snapshot is not None)
        assert "unknown fake NVML spec 'bogus'" in shown(monitor)[0]


def test_fit_drops_whole_fields_with_ellipsis() -> None:
    assert row_plain(fit(["alpha", "beta", "gamma"], 14)) == "alpha  beta  …"
    assert row_plain(fit(["alpha", "beta"], 11)) == "alpha  beta"
    assert row_plain(fit([Content("a-very-long-name")], 6)) == "a-ver…"
    # a group of cells is kept or dropped as one field
    assert row_plain(fit(["ab", [Content("cd"), Content("ef")]], 7)) == "ab  …"
    assert len(fit(["ab", [Content("cd"), Content("ef")]], 8)) == 3


def test_bar_cells_tile_the_bar() -> None:
    cells = bar_cells(0.5, 20, "$primary")
    assert [c.cell_length for c in cells] == [5, 5, 5, 5]
    assert "".join(c.plain for c in cells) == "█" * 10 + "·" * 10
    assert row_plain(bar_cells(None, 7, "$primary")) == "·" * 7


def test_sparkline_buckets_are_stable() -> None:
    history = History(capacity=20)
    for value in (0, 100, 50, 50):
        history.add(value)
    line = sparkline(history, 10).plain
    assert len(line) == 10
    assert line.endswith("█▅")  # two samples per cell: max of each pair
    history.add(None)  # unknown readings are skipped, not drawn as zero
    assert sparkline(history, 10).plain == line


def test_monitor_snapshot(snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Deterministic: seeded fake, no process of ours on the GPUs, frozen host, one poll.
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    fakes = Fakes(nvml=FakeNvml(FakeConfig(own_process=False)), host=FrozenHost(HOST))
    ctx = AppContext(Workspace(tmp_path), Settings(interval=60.0), fakes=fakes)

    async def first_poll(pilot: Pilot) -> None:
        monitor = pilot.app.query_one(SystemMonitor)
        await wait_for(pilot, lambda: monitor.latest_snapshot is not None)
        await pilot.pause()

    assert snap_compare(MonitorHarness(ctx), terminal_size=(100, 30), run_before=first_poll)


def test_process_rows_are_reused_while_what_they_show_is_unchanged() -> None:
    from waitwise_tui.core.gpu.sampler import GpuProcess
    from waitwise_tui.ui.monitor.gpu_render import process_rows

    proc = GpuProcess(
        pid=4242,
        gpu_index=0,
        gpu_memory_bytes=2 * 1024**3,
        sm_percent=40,
        user="me",
        command="python train.py",
        cpu_percent=99.2,
        rss_bytes=1024**3,
        elapsed_s=125.0,
        own=True,
        visible=True,
    )
    cache: dict = {}
    first = process_rows([proc], [], {}, 100, False, cache)
    # CPU 99.4 % and two more seconds still show as "99" and "2m": the same row object
    same = process_rows(
        [replace(proc, cpu_percent=99.4, elapsed_s=127.0)], [], {}, 100, False, cache
    )
    assert same[1] is first[1]
    moved = process_rows([replace(proc, sm_percent=41)], [], {}, 100, False, cache)
    assert moved[1] is not first[1] and "41" in row_plain(moved[1])
    assert len(cache) == 1  # only rows shown by the last call are kept


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_host_only_comes_first_in_the_app(tmp_path: Path, size: tuple[int, int]) -> None:
    """In the whole app the GPU panel is narrower than the reason: a cut keeps "host only"."""
    from fakes import make_context

    from waitwise_tui.ui.app import WaitwiseApp

    app = WaitwiseApp(make_context(tmp_path, gpus="missing"))
    async with app.run_test(size=size) as pilot:
        monitor = app.query_one(SystemMonitor)
        await wait_for(pilot, lambda: monitor.latest_snapshot is not None and shown(monitor))
        assert shown(monitor)[0].startswith("⚠ host only: NVML")
