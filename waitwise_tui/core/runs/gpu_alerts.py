"""GPU alerts tied to a run: what the log alone cannot tell.

``GpuAlerts.update(time, gpus, runs)`` takes one GPU reading (``core.gpu.sampler``'s
``GpuInfo`` tuple) and the runs with their writer process (``RunLoad``: its pid, the
pids of its process tree, its CPU use) and returns the alerts that start now, as core
``Event``s; it does no I/O, so the TUI (fed from ``ui/live.py``'s one sampler) and
``waitwise-tui watch`` judge the same readings the same way. ``WriterCpu`` is the
psutil side: it measures each writer's CPU and finds its process tree.

A run is on a GPU when its writer, or a process below it (``torchrun``'s workers), holds
a context there. The alerts:

- ``input_bound``: the run is live and its GPU averaged below ``input_bound_util`` %
  over ``input_bound_window_s`` while its writer's CPU was near its limit: one core
  (a Python main loop cannot use more) or every core the process tree may use.
- ``gpu_memory``: the GPU's memory above ``memory_fraction`` of its total, or growing
  steadily over ``memory_window_s`` so that it fills within ``memory_horizon_s``.
- ``throttle``: thermal or power clock limits for longer than ``throttle_s``.
- ``ecc``: new uncorrected ECC errors; ``gpu_lost``: NVML lost the GPU. These two are
  raised for every GPU (naming the runs on it), the others only for GPUs of a run.

Each fires once per episode: again only after its condition has cleared. Events carry
the numbers in ``data`` and an ``episode`` that names the alert across processes.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from waitwise_tui.core import events as core_events
from waitwise_tui.core import fmt

if TYPE_CHECKING:
    from waitwise_tui.core.gpu.sampler import GpuInfo
    from waitwise_tui.core.runs.monitor import RunInfo

GIB = 1024**3
# Clock event reasons (``sampler.THROTTLE_REASONS`` words) that are a thermal or power limit.
THERMAL = frozenset({"HW thermal", "SW thermal"})
POWER = frozenset({"power cap", "power brake", "HW slowdown", "board limit"})


@dataclass(frozen=True)
class GpuAlertConfig:
    """Thresholds of the GPU alerts (settings table ``[gpu_alerts]``)."""

    input_bound_util: float = 30.0  # % GPU utilisation, averaged over the window
    input_bound_window_s: float = 60.0
    input_bound_cpu: float = 0.9  # fraction of the writer's CPU limit counted as "near"
    memory_fraction: float = 0.95
    memory_window_s: float = 300.0  # growth is judged over this long
    memory_horizon_s: float = 1800.0  # alert when growth fills the GPU within this
    throttle_s: float = 60.0

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> tuple[GpuAlertConfig, list[str]]:
        """A config from a settings table; unknown keys and bad values are problems."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, float] = {}
        problems: list[str] = []
        for key, value in raw.items():
            if key not in known:
                problems.append(f"gpu_alerts.{key}: unknown setting")
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                problems.append(f"gpu_alerts.{key}: expected a number")
                continue
            value = float(value)
            fraction = key in ("input_bound_cpu", "memory_fraction")
            if not math.isfinite(value) or value <= 0 or (fraction and value > 1):
                limit = "in (0, 1]" if fraction else "positive"
                problems.append(f"gpu_alerts.{key}: must be {limit}")
                continue
            values[key] = value
        return cls(**values), problems


@dataclass(frozen=True)
class RunLoad:
    """A run and its writer as the GPU alerts see it."""

    name: str
    status: str  # core.runs.health STATUSES
    pid: int | None  # the writer; None when unknown
    pids: frozenset[int] = frozenset()  # the writer and the processes below it
    cpu_percent: float | None = None  # the writer alone; 100 = one core
    tree_cpu_percent: float | None = None  # the writer and its children
    cores: int = 1  # CPUs the writer may run on

    @property
    def active(self) -> bool:
        return self.status in ("live", "idle", "stalled")


@dataclass
class _Window:
    """Timed samples kept for ``span`` seconds."""

    span: float
    samples: deque[tuple[float, float, float]] = field(default_factory=deque)

    def add(self, now: float, a: float, b: float = 0.0) -> None:
        self.samples.append((now, a, b))
        while self.samples and self.samples[0][0] < now - self.span:
            self.samples.popleft()

    @property
    def covered(self) -> float:
        return self.samples[-1][0] - self.samples[0][0] if self.samples else 0.0

    def mean(self, column: int) -> float:
        return sum(s[column] for s in self.samples) / len(self.samples)


class GpuAlerts:
    """Episodes of the GPU alerts; feed it every reading, in order."""

    def __init__(self, config: GpuAlertConfig | None = None) -> None:
        self.config = config or GpuAlertConfig()
        self._util: dict[tuple[str, int], _Window] = {}
        self._memory: dict[tuple[str, int], _Window] = {}
        self._throttled_since: dict[int, float] = {}
        self._ecc_seen: dict[int, int] = {}
        self._open: set[tuple[str, str, int]] = set()  # (source, alert, gpu) episodes on
        self._last_runs_of: dict[int, tuple[str, ...]] = {}  # runs on each GPU, last known

    def update(
        self, now: float, gpus: Sequence[GpuInfo], runs: Iterable[RunLoad]
    ) -> list[core_events.Event]:
        cfg = self.config
        events: list[core_events.Event] = []
        runs = [run for run in runs if run.pid is not None and run.active]
        runs_of: dict[int, list[RunLoad]] = {}
        for gpu in gpus:
            if gpu.error is not None or not gpu.processes:
                continue
            on = {p.pid for p in gpu.processes}
            runs_of[gpu.index] = [run for run in runs if run.pids & on or run.pid in on]
        for index, on_gpu in runs_of.items():
            self._last_runs_of[index] = tuple(run.name for run in on_gpu)
        seen: set[tuple[str, str, int]] = set()
        for gpu in gpus:
            if gpu.error is not None:
                events += self._once(seen, now, gpu, None, "gpu_lost", self._lost(gpu))
                continue
            on_gpu = runs_of.get(gpu.index, [])
            if gpu.ecc_uncorrected:
                count = gpu.ecc_uncorrected
                if count > self._ecc_seen.get(gpu.index, 0):
                    self._ecc_seen[gpu.index] = count
                    for source in self._sources(gpu.index):
                        events.append(self._event(now, source, gpu, "ecc", *self._ecc(gpu, count)))
            reasons = [r for r in gpu.throttle_reasons or () if r in THERMAL | POWER]
            if reasons:
                since = self._throttled_since.setdefault(gpu.index, now)
                if now - since >= cfg.throttle_s:
                    for run in on_gpu:
                        found = self._throttle(gpu, reasons, now - since)
                        events += self._once(seen, now, gpu, run.name, "throttle", found)
            else:
                self._throttled_since.pop(gpu.index, None)
            for run in on_gpu:
                events += self._once(
                    seen, now, gpu, run.name, "input_bound", self._input_bound(now, gpu, run)
                )
                events += self._once(
                    seen, now, gpu, run.name, "gpu_memory", self._headroom(now, gpu, run)
                )
        self._open &= seen  # an episode whose condition cleared may start again
        live = {(run.name, index) for index, on in runs_of.items() for run in on}
        for windows in (self._util, self._memory):
            for key in set(windows) - live:
                del windows[key]
        return events

    # -- one alert each ------------------------------------------------------------------

    def _input_bound(self, now: float, gpu: GpuInfo, run: RunLoad) -> tuple[str, dict] | None:
        cfg = self.config
        window = self._util.setdefault((run.name, gpu.index), _Window(cfg.input_bound_window_s))
        if run.status != "live" or gpu.util_percent is None or run.cpu_percent is None:
            window.samples.clear()
            return None
        tree = run.tree_cpu_percent if run.tree_cpu_percent is not None else run.cpu_percent
        # Near the limit: one core for the writer alone (a Python main loop), or all of
        # the cores its process tree may use (DataLoader workers).
        load = max(run.cpu_percent / 100.0, tree / (100.0 * max(1, run.cores)))
        window.add(now, float(gpu.util_percent), load)
        if window.covered < cfg.input_bound_window_s * 0.95:
            return None
        util, load = window.mean(1), window.mean(2)
        if util >= cfg.input_bound_util or load < cfg.input_bound_cpu:
            return None
        cpu = round(tree)
        text = (
            f"input-bound on GPU {gpu.index}: {util:.0f} % GPU utilisation over"
            f" {fmt.duration(window.covered)} while the writer (pid {run.pid}) uses"
            f" {cpu} % CPU ({run.cores} core{'s' if run.cores != 1 else ''}):"
            " data loading is the bottleneck"
        )
        return text, {"util": round(util, 1), "cpu": cpu, "cores": run.cores, "pid": run.pid}

    def _headroom(self, now: float, gpu: GpuInfo, run: RunLoad) -> tuple[str, dict] | None:
        cfg = self.config
        used, total = gpu.memory_used_bytes, gpu.memory_total_bytes
        if used is None or not total:
            return None
        window = self._memory.setdefault((run.name, gpu.index), _Window(cfg.memory_window_s))
        window.add(now, float(used))
        numbers = {"used": used, "total": total, "fraction": round(used / total, 4)}
        amount = f"{used / GIB:.1f} of {total / GIB:.1f} GiB"
        if used >= cfg.memory_fraction * total:
            text = f"GPU {gpu.index} memory at {100 * used / total:.0f} % ({amount})"
            return text, numbers
        slope = _steady_slope(window, cfg.memory_window_s)
        if slope is None:
            return None
        to_oom = (total - used) / slope
        if to_oom > cfg.memory_horizon_s:
            return None
        text = (
            f"GPU {gpu.index} memory growing {slope * 60 / GIB:.2f} GiB/min ({amount}):"
            f" out of memory in about {fmt.duration(to_oom)}"
        )
        return text, {**numbers, "growth_bytes_s": round(slope), "oom_in_s": round(to_oom)}

    @staticmethod
    def _throttle(gpu: GpuInfo, reasons: list[str], for_s: float) -> tuple[str, dict]:
        kinds = [w for w, s in (("thermal", THERMAL), ("power", POWER)) if s & set(reasons)]
        text = (
            f"GPU {gpu.index} slowed by its {' and '.join(kinds)} limit for"
            f" {fmt.duration(for_s)} ({', '.join(reasons)})"
        )
        numbers: dict[str, Any] = {"reasons": reasons, "for_s": round(for_s)}
        if gpu.temperature_c is not None:
            numbers["temperature_c"] = gpu.temperature_c
        if gpu.power_w is not None:
            numbers["power_w"] = round(gpu.power_w)
        return text, numbers

    @staticmethod
    def _ecc(gpu: GpuInfo, count: int) -> tuple[str, dict]:
        text = (
            f"GPU {gpu.index} reports {count} uncorrected ECC error{'s' if count != 1 else ''}:"
            " results since may be wrong; resume from a checkpoint, the GPU may need a reset"
        )
        return text, {"ecc_uncorrected": count}

    @staticmethod
    def _lost(gpu: GpuInfo) -> tuple[str, dict]:
        return f"GPU {gpu.index} lost ({gpu.error}): NVML no longer answers for it", {}

    # -- episodes ------------------------------------------------------------------------

    def _sources(self, index: int) -> tuple[str, ...]:
        return self._last_runs_of.get(index) or (f"GPU {index}",)

    def _once(
        self,
        seen: set[tuple[str, str, int]],
        now: float,
        gpu: GpuInfo,
        run: str | None,
        alert: str,
        found: tuple[str, dict] | None,
    ) -> list[core_events.Event]:
        if found is None:
            return []
        events = []
        for source in (run,) if run is not None else self._sources(gpu.index):
            key = (source, alert, gpu.index)
            seen.add(key)
            if key not in self._open:
                self._open.add(key)
                events.append(self._event(now, source, gpu, alert, *found))
        return events

    @staticmethod
    def _event(
        now: float, source: str, gpu: GpuInfo, alert: str, text: str, numbers: dict
    ) -> core_events.Event:
        episode = f"{source}|{alert}|gpu{gpu.index}"
        if alert == "ecc":
            episode += f"|{numbers['ecc_uncorrected']}"
        data: dict[str, Any] = {"alert": alert, "metric": "", "gpu": gpu.index, **numbers}
        data["episode"] = episode
        message = text if source.startswith("GPU ") else f"{source}: {text}"
        return core_events.Event(
            kind=core_events.ALERT, source=source, message=message, time=now, data=data
        )


def _steady_slope(window: _Window, span: float) -> float | None:
    """Bytes per second of a steady rise over the window; None if it is not one.

    Steady: the samples cover at least half the window, at least 5 of them, the
    least-squares slope is positive and at least 80 % of the steps go up or stay."""
    samples = window.samples
    if len(samples) < 5 or window.covered < span / 2:
        return None
    steps = [b[1] - a[1] for a, b in itertools.pairwise(samples)]
    if sum(step >= 0 for step in steps) < 0.8 * len(steps) or samples[-1][1] <= samples[0][1]:
        return None
    t0 = samples[0][0]
    xs = [s[0] - t0 for s in samples]
    ys = [s[1] for s in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    if den <= 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den
    return slope if slope > 0 else None


class WriterCpu:
    """psutil side of ``RunLoad``: each writer's CPU % (a delta between calls), the
    CPUs it may use, and the pids below it (looked up every ``tree_s`` seconds)."""

    def __init__(self, tree_s: float = 10.0) -> None:
        self._tree_s = tree_s
        self._procs: dict[int, Any] = {}  # pid -> psutil.Process, kept for CPU deltas
        self._trees: dict[int, tuple[float, frozenset[int]]] = {}

    def loads(self, runs: Iterable[RunInfo]) -> list[RunLoad]:
        import psutil

        now = time.monotonic()
        result = []
        wanted: set[int] = set()
        for run in runs:
            pid = run.writer_pid
            if pid is None or run.status not in ("live", "idle", "stalled"):
                result.append(RunLoad(run.name, run.status, None))
                continue
            try:
                proc = self._procs.get(pid)
                fresh = proc is None or not proc.is_running()
                if fresh:
                    proc = self._procs[pid] = psutil.Process(pid)
                tree = self._trees.get(pid)
                if tree is None or now - tree[0] >= self._tree_s:
                    children = proc.children(recursive=True)
                    tree = (now, frozenset([pid, *(c.pid for c in children)]))
                    self._trees[pid] = tree
                cpu = proc.cpu_percent(None)
                total = cpu + sum(self._child_cpu(c) for c in tree[1] if c != pid)
                try:
                    cores = len(proc.cpu_affinity())
                except (AttributeError, psutil.Error):
                    cores = psutil.cpu_count() or 1
            except (psutil.Error, OSError):
                result.append(RunLoad(run.name, run.status, pid, frozenset([pid])))
                continue
            wanted |= tree[1]
            result.append(
                RunLoad(
                    run.name,
                    run.status,
                    pid,
                    tree[1],
                    None if fresh else cpu,  # psutil's first reading has no interval
                    None if fresh else total,
                    max(1, cores),
                )
            )
        for gone in set(self._procs) - wanted:
            del self._procs[gone]
        for gone in set(self._trees) - wanted:
            del self._trees[gone]
        return result

    def _child_cpu(self, pid: int) -> float:
        """A child's CPU % since the last call; 0 the first time (its baseline)."""
        import psutil

        try:
            proc = self._procs.get(pid)
            if proc is None:
                proc = self._procs[pid] = psutil.Process(pid)
                proc.cpu_percent(None)
                return 0.0
            return float(proc.cpu_percent(None))
        except psutil.Error:
            self._procs.pop(pid, None)
            return 0.0
