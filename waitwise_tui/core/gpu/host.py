"""Host sampling with psutil: CPU, load, memory, swap, disk space and I/O rates.

``HostSampler.sample()`` returns a frozen ``HostInfo``. Percentages and rates come
from deltas between two calls, so the first sample has them as ``None`` (shown as
N/A). CPU % is computed from ``psutil.cpu_times`` deltas kept in the sampler itself,
not from ``psutil.cpu_percent``, whose module-global state another caller in the same
process would disturb.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class HostInfo:
    """One host reading. ``None`` means unknown or not yet measurable."""

    cpu_percent: float | None
    per_cpu_percent: tuple[float, ...] | None
    cpu_count: int | None
    load_1m: float | None
    load_5m: float | None
    load_15m: float | None
    memory_used_bytes: int | None
    memory_total_bytes: int | None
    swap_used_bytes: int | None
    swap_total_bytes: int | None
    disk_path: str
    disk_free_bytes: int | None
    disk_total_bytes: int | None
    disk_read_bytes_per_s: float | None
    disk_write_bytes_per_s: float | None
    net_rx_bytes_per_s: float | None
    net_tx_bytes_per_s: float | None


class HostSource(Protocol):
    """Anything that can produce a ``HostInfo`` (tests inject frozen ones)."""

    def sample(self) -> HostInfo: ...


def _busy_fraction(before: Any, after: Any) -> float | None:
    """Share of non-idle time between two ``cpu_times`` readings, 0..100."""
    idle_fields = ("idle", "iowait")
    total = sum(after) - sum(before)
    if total <= 0:
        return None
    idle = sum(
        getattr(after, name, 0.0) - getattr(before, name, 0.0)
        for name in idle_fields
        if hasattr(after, name)
    )
    return max(0.0, min(100.0, 100.0 * (total - idle) / total))


def _rate(before: float | None, after: float | None, seconds: float) -> float | None:
    if before is None or after is None or seconds <= 0:
        return None
    # Counters can wrap or reset (a NIC going away): report no rate rather than a negative one.
    return max(0.0, (after - before) / seconds)


SWAP_EVERY_S = 5.0  # swap use is read this often, not every poll


class HostSampler:
    """Reads host figures; keeps the previous counters to turn them into rates."""

    def __init__(self, disk_path: str | os.PathLike[str] = ".") -> None:
        self.disk_path = os.fspath(disk_path)
        self._last_time: float | None = None
        self._last_cpu: Any = None
        self._last_per_cpu: list[Any] | None = None
        self._last_disk: tuple[float, float] | None = None
        self._last_net: tuple[float, float] | None = None
        self._swap: tuple[float, Any] | None = None

    def sample(self) -> HostInfo:
        import psutil

        now = time.monotonic()
        elapsed = now - self._last_time if self._last_time is not None else 0.0

        per_cpu = psutil.cpu_times(percpu=True)
        # The total is the sum of the per-CPU times: one read of /proc/stat, not two.
        cpu = type(per_cpu[0])(*map(sum, zip(*per_cpu, strict=True))) if per_cpu else None
        cpu_percent = per_cpu_percent = None
        if self._last_cpu is not None and cpu is not None:
            cpu_percent = _busy_fraction(self._last_cpu, cpu)
        if self._last_per_cpu is not None and len(self._last_per_cpu) == len(per_cpu):
            fractions = [
                _busy_fraction(a, b) for a, b in zip(self._last_per_cpu, per_cpu, strict=True)
            ]
            per_cpu_percent = tuple(f if f is not None else 0.0 for f in fractions)

        try:
            load = os.getloadavg()
        except (OSError, AttributeError):
            load = None

        vm = psutil.virtual_memory()
        if self._swap is None or now - self._swap[0] >= SWAP_EVERY_S:
            self._swap = (now, psutil.swap_memory())  # two /proc files; it changes slowly
        swap = self._swap[1]
        try:
            usage = psutil.disk_usage(self.disk_path)
            disk_free, disk_total = usage.free, usage.total
        except OSError:
            disk_free = disk_total = None

        disk = self._io_pair(psutil.disk_io_counters, "read_bytes", "write_bytes")
        net = self._io_pair(psutil.net_io_counters, "bytes_recv", "bytes_sent")
        last_disk, last_net = self._last_disk, self._last_net

        info = HostInfo(
            cpu_percent=cpu_percent,
            per_cpu_percent=per_cpu_percent,
            cpu_count=len(per_cpu) or None,
            load_1m=load[0] if load else None,
            load_5m=load[1] if load else None,
            load_15m=load[2] if load else None,
            # "used" as total minus available: what is actually unavailable to new work.
            memory_used_bytes=vm.total - vm.available,
            memory_total_bytes=vm.total,
            swap_used_bytes=swap.used,
            swap_total_bytes=swap.total,
            disk_path=self.disk_path,
            disk_free_bytes=disk_free,
            disk_total_bytes=disk_total,
            disk_read_bytes_per_s=_rate(
                last_disk[0] if last_disk else None, disk[0] if disk else None, elapsed
            ),
            disk_write_bytes_per_s=_rate(
                last_disk[1] if last_disk else None, disk[1] if disk else None, elapsed
            ),
            net_rx_bytes_per_s=_rate(
                last_net[0] if last_net else None, net[0] if net else None, elapsed
            ),
            net_tx_bytes_per_s=_rate(
                last_net[1] if last_net else None, net[1] if net else None, elapsed
            ),
        )
        self._last_time = now
        self._last_cpu, self._last_per_cpu = cpu, per_cpu
        self._last_disk, self._last_net = disk, net
        return info

    @staticmethod
    def _io_pair(counters: Any, first: str, second: str) -> tuple[float, float] | None:
        # Containers and some kernels expose no disk/net counters at all.
        try:
            # nowrap=False: 64-bit Linux counters do not wrap, and psutil's wrap
            # bookkeeping costs more than the read (_rate drops a negative step anyway).
            reading = counters(nowrap=False)
        except (OSError, RuntimeError):
            return None
        if reading is None:
            return None
        return float(getattr(reading, first)), float(getattr(reading, second))
