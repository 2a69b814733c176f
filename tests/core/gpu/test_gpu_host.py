"""Host sampler: deltas give CPU % and rates from the second poll on."""

from __future__ import annotations

from pathlib import Path

from waitwise_tui.core.fmt import size as format_bytes
from waitwise_tui.core.gpu.host import HostSampler


def test_first_poll_has_no_rates_second_has(tmp_path: Path) -> None:
    sampler = HostSampler(tmp_path)
    first = sampler.sample()
    assert first.cpu_percent is None
    assert first.per_cpu_percent is None
    assert first.disk_read_bytes_per_s is None and first.net_rx_bytes_per_s is None
    assert first.memory_total_bytes > 0
    assert first.disk_free_bytes is not None and first.disk_path == str(tmp_path)
    sum(range(200_000))  # let a little CPU time pass between readings
    second = sampler.sample()
    assert second.cpu_percent is None or 0.0 <= second.cpu_percent <= 100.0
    if second.per_cpu_percent is not None:
        assert len(second.per_cpu_percent) == second.cpu_count
        assert all(0.0 <= v <= 100.0 for v in second.per_cpu_percent)


def test_missing_disk_path_is_none(tmp_path: Path) -> None:
    info = HostSampler(tmp_path / "nope").sample()
    assert info.disk_free_bytes is None and info.disk_total_bytes is None


def test_format_bytes() -> None:
    assert format_bytes(None) == "N/A"
    assert format_bytes(512) == "512 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(80 * 1024**3, compact=True) == "80.0G"
    assert format_bytes(250 * 1024**3, compact=True) == "250G"


def test_pids_psutil_cannot_see_are_not_looked_up_every_poll(monkeypatch):
    import psutil

    from waitwise_tui.core.gpu import sampler as gpu_module

    calls: list[int] = []

    class Invisible:
        def __init__(self, pid: int) -> None:
            calls.append(pid)
            raise psutil.NoSuchProcess(pid)

    monkeypatch.setattr(psutil, "Process", Invisible)
    clock = [1000.0]
    monkeypatch.setattr(gpu_module.time, "time", lambda: clock[0])
    inspector = gpu_module.ProcessInspector()
    assert inspector.inspect({4_000_001}) == {}
    assert inspector.inspect({4_000_001}) == {}
    assert calls == [4_000_001]  # another PID namespace: asked once, not every second
    clock[0] += gpu_module.ProcessInspector.MISSING_RETRY_SECONDS + 1
    inspector.inspect({4_000_001})
    assert calls == [4_000_001, 4_000_001]
