"""Alerts from the GPUs of a job: a possible collective hang, a straggler, an idle GPU.

Pure functions over recorded per-GPU series (``key -> [(time, util %, power W)]``, the
key ``"node/gpuN"``), so they are tested on recorded sessions without a cluster.
:class:`JobGpuAlerts` fires each finding once as a core ``Event`` (kind ``alert``) and
again only after it has cleared.

- **Possible hang**: the linked run's step has not advanced for its stall threshold
  while every GPU of the job reads >= 90 % utilisation at less than half of its own
  recent power draw (NCCL spinning in a collective: busy, but doing no math).
- **Straggler**: one GPU far below the others' utilisation for more than a minute.
- **Idle GPU**: a GPU allocated to the job at 0 % for more than a minute while the run
  is live.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from waitwise_tui.core.events import ALERT, Event

Sample = tuple[float, float | None, float | None]  # (time, util %, power W)
Series = Mapping[str, Sequence[Sample]]

HANG = "possible_hang"
STRAGGLER = "straggler"
IDLE_GPU = "idle_gpu"


@dataclass(frozen=True)
class GpuAlertConfig:
    busy_util: float = 90.0  # a hang reads at least this utilisation...
    power_drop: float = 0.5  # ...at less than this fraction of its recent power
    recent_s: float = 600.0  # "recent power": the median over this long before...
    current_s: float = 30.0  # ...the last current_s seconds (the "now" reading)
    window_s: float = 60.0  # a straggler or idle GPU lasts at least this long
    straggler_fraction: float = 0.5  # below this fraction of the others' median util
    straggler_min_util: float = 40.0  # ...when the others work at least this hard


def key_of(node: str, index: int) -> str:
    return f"{node}/gpu{index}"


def series_from_history(
    history: Mapping[tuple[str, int], Iterable[tuple[float, dict[str, Any]]]],
) -> dict[str, list[Sample]]:
    """The collector's ``series()`` (GPU dicts from ``gpu --json``) as samples."""
    out: dict[str, list[Sample]] = {}
    for (node, index), readings in history.items():
        out[key_of(node, index)] = [
            (when, _number(gpu.get("util_percent")), _number(gpu.get("power_w")))
            for when, gpu in readings
        ]
    return out


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _between(samples: Sequence[Sample], start: float, end: float, which: int) -> list[float]:
    return [s[which] for s in samples if start <= s[0] <= end and s[which] is not None]  # type: ignore[misc]


def hung_gpus(
    series: Series,
    now: float,
    *,
    stalled_s: float | None,
    stall_threshold_s: float,
    config: GpuAlertConfig = GpuAlertConfig(),
) -> list[str]:
    """Every GPU's key when the run is stalled and all of them look hung, else []."""
    if stalled_s is None or stalled_s < stall_threshold_s or not series:
        return []
    hung = []
    for key, samples in series.items():
        current_start = now - config.current_s
        util_now = _between(samples, current_start, now, 1)
        power_now = _between(samples, current_start, now, 2)
        power_before = _between(samples, current_start - config.recent_s, current_start, 2)
        if not util_now or not power_now or not power_before:
            return []
        recent = statistics.median(power_before)
        if min(util_now) < config.busy_util or recent <= 0:
            return []
        if statistics.mean(power_now) >= config.power_drop * recent:
            return []
        hung.append(key)
    return sorted(hung)


def _covers(samples: Sequence[Sample], start: float) -> bool:
    """The series reaches back to ``start`` (so "for more than a minute" is known)."""
    return bool(samples) and samples[0][0] <= start


def straggler_gpus(
    series: Series, now: float, *, config: GpuAlertConfig = GpuAlertConfig()
) -> list[str]:
    """GPUs whose every reading over the last window is far below the others' median."""
    if len(series) < 2:
        return []
    start = now - config.window_s
    means: dict[str, float] = {}
    for key, samples in series.items():
        utils = _between(samples, start, now, 1)
        if not utils or not _covers(samples, start):
            return []
        means[key] = statistics.mean(utils)
    found = []
    for key, samples in series.items():
        others = statistics.median(v for k, v in means.items() if k != key)
        if others < config.straggler_min_util:
            continue
        utils = _between(samples, start, now, 1)
        if max(utils) < config.straggler_fraction * others:
            found.append(key)
    # When most GPUs are "below the others" nothing is a straggler: the job is uneven.
    return sorted(found) if len(found) * 2 < len(series) else []


def idle_gpus(
    series: Series, now: float, *, run_live: bool, config: GpuAlertConfig = GpuAlertConfig()
) -> list[str]:
    """GPUs at 0 % for every reading of the last window, while the run is live."""
    if not run_live:
        return []
    start = now - config.window_s
    found = []
    for key, samples in series.items():
        utils = _between(samples, start, now, 1)
        if utils and _covers(samples, start) and max(utils) == 0:
            found.append(key)
    return sorted(found)


@dataclass
class JobGpuAlerts:
    """Turns findings into events: each one fires once, and again only after clearing."""

    job_id: str
    run: str = ""
    config: GpuAlertConfig = GpuAlertConfig()
    active: set[tuple[str, str]] = field(default_factory=set)

    def update(
        self,
        series: Series,
        now: float,
        *,
        stalled_s: float | None,
        stall_threshold_s: float,
        run_live: bool,
    ) -> list[Event]:
        hung = hung_gpus(
            series,
            now,
            stalled_s=stalled_s,
            stall_threshold_s=stall_threshold_s,
            config=self.config,
        )
        found: dict[tuple[str, str], str] = {}
        if hung:
            found[(HANG, "")] = (
                f"possible collective hang on {len(hung)} ranks of Slurm job {self.job_id}:"
                f" GPUs busy at low power, step stalled for {int(stalled_s or 0)} s"
            )
        idle = idle_gpus(series, now, run_live=run_live, config=self.config)
        for key in set(straggler_gpus(series, now, config=self.config)) - set(idle):
            found[(STRAGGLER, key)] = (
                f"straggler in Slurm job {self.job_id}: {key} far below the other GPUs"
                f" for over {int(self.config.window_s)} s"
            )
        for key in idle:  # an idle GPU is said to be idle, not also a straggler
            found[(IDLE_GPU, key)] = (
                f"idle GPU in Slurm job {self.job_id}: {key} at 0 % while the run is live"
            )
        events = [
            Event(
                ALERT,
                "slurm",
                message,
                now,
                {"alert": kind, "job_id": self.job_id, "run": self.run, "gpu": key}
                | ({"gpus": hung} if kind == HANG else {}),
            )
            for (kind, key), message in sorted(found.items())
            if (kind, key) not in self.active
        ]
        self.active = set(found)
        return events
