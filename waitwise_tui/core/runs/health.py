"""Health of one training run: status, step rate, ETA and alerts.

``RunHealth`` is fed after each poll with the run's series and how many points each
metric gained, and with the run-level facts (end marker, file gone, writer process
alive). It keeps just enough state to decide, cheaply and incrementally:

- NaN/Inf: the first non-finite value of a metric, at once.
- divergence (loss-like metrics): after ``warmup_points``, the mean of the latest
  window of ``window_points`` values exceeds ``divergence_factor`` times the best
  (lowest) window mean seen so far. Window means, not single values, so one lucky
  mini-batch does not set an unreachable best.
- plateau (loss-like metrics): the best value of the last ``plateau_window`` points
  improves on the best before them by less than ``plateau_eps`` (relative).
- stall: no new point for ``stall_factor`` times the usual interval between points
  (at least ``stall_min_seconds``), for a run seen live during this session.
- finished / crashed: an end marker, or the writer process (seen alive before) exiting
  without one. A run that reached its known total and then went quiet (or whose
  writer exited) counts as finished.

Each alert fires once when its condition starts; it can fire again only after the
condition has cleared. Historic runs (already over when first read) raise no
stall/finished/crashed alerts: those describe changes seen while watching.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from waitwise_tui.core import fmt
from waitwise_tui.core.runs.series import Series

STATUSES = ("live", "idle", "stalled", "finished", "crashed", "gone")
ALERT_KINDS = ("nan", "divergence", "plateau", "stall", "crashed", "finished")

# Wall times in a log are trusted as epoch seconds only when they are near "now".
_PLAUSIBLE_PAST = 10 * 365 * 86400.0
_PLAUSIBLE_FUTURE = 3600.0


@dataclass(frozen=True)
class Alert:
    """One health finding. ``metric`` is empty for run-level alerts (stall, crash)."""

    kind: str
    run: str
    metric: str
    step: float | None
    message: str
    time: float


@dataclass(frozen=True)
class HealthConfig:
    """Thresholds of the alerts; the defaults suit mini-batch training logs."""

    loss_pattern: str = r"loss"
    divergence_factor: float = 2.0
    warmup_points: int = 32
    window_points: int = 8
    plateau_window: int = 200
    plateau_eps: float = 0.01
    stall_factor: float = 5.0
    stall_min_seconds: float = 60.0
    live_min_seconds: float = 30.0
    rate_window_seconds: float = 300.0

    def is_loss(self, metric: str) -> bool:
        return re.search(self.loss_pattern, metric, re.IGNORECASE) is not None


@dataclass
class _MetricState:
    windows_done: int = 0
    best_window: float = math.inf
    latest_window: float = math.nan
    nan_fired: bool = False


@dataclass
class _Rate:
    """(time, position) samples; ``rate`` is position units per second."""

    samples: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=64))

    def add(self, time: float, position: float) -> None:
        if self.samples and time <= self.samples[-1][0]:
            if position >= self.samples[-1][1]:
                self.samples[-1] = (self.samples[-1][0], position)
            return
        self.samples.append((time, position))

    def rate(self, window: float) -> float | None:
        if len(self.samples) < 2:
            return None
        t_end, p_end = self.samples[-1]
        start = len(self.samples) - 2
        while start > 0 and self.samples[start - 1][0] >= t_end - window:
            start -= 1
        t0, p0 = self.samples[start]
        if t_end <= t0 or p_end < p0:
            return None
        return (p_end - p0) / (t_end - t0)


def plausible_wall(wall: float, now: float) -> bool:
    return math.isfinite(wall) and now - _PLAUSIBLE_PAST <= wall <= now + _PLAUSIBLE_FUTURE


class RunHealth:
    """Incremental health state of one run (see the module docstring)."""

    def __init__(self, run: str, config: HealthConfig | None = None) -> None:
        self.run = run
        self.config = config or HealthConfig()
        self.metrics: dict[str, _MetricState] = {}
        self.active: dict[tuple[str, str], Alert] = {}
        self.last_activity: float | None = None
        self.last_step: float | None = None
        self.status = "idle"
        self.user_total: float | None = None
        self.progress_update: tuple[float, float] | None = None
        self._wall_interval: float | None = None
        self._arrivals: deque[float] = deque(maxlen=32)
        self._last_wall: float | None = None
        self._steps = _Rate()
        self._progress = _Rate()
        self._seen_live = False
        self._seen_unfinished = False
        self._writer_seen = False
        self._ended = False

    # -- feeding ---------------------------------------------------------------------

    def observe(
        self,
        now: float,
        series: Mapping[str, Series],
        new_counts: Mapping[str, int],
        progress: tuple[float, float] | None = None,
        written_at: float | None = None,
    ) -> list[Alert]:
        """Take one poll's new points (``new_counts[metric]`` per metric).

        ``written_at`` (the file's mtime) dates a first read of a log without wall
        times, so an old log does not look live.
        """
        alerts: list[Alert] = []
        if progress is not None and progress[1] > 0:
            self.progress_update = progress
            self._progress.add(now, progress[0])
        grew = {name: n for name, n in new_counts.items() if n > 0 and name in series}
        if not grew:
            return alerts
        self._observe_time(now, series, grew, written_at)
        for name in grew:
            alerts.extend(self._observe_metric(now, series[name]))
        return alerts

    def _observe_time(
        self,
        now: float,
        series: Mapping[str, Series],
        grew: Mapping[str, int],
        written_at: float | None,
    ) -> None:
        busiest = max(grew, key=lambda name: grew[name])
        seg = series[busiest].segments[-1]
        new = min(grew[busiest], len(seg))
        steps = seg.steps.view[len(seg) - new :]
        walls = seg.walls.view[len(seg) - new :]
        last_step = max(s.last_step for name, s in series.items() if name in grew)
        self.last_step = last_step if self.last_step is None else max(self.last_step, last_step)
        # Sample the batch (a first read may bring the whole history at once).
        stride = max(1, new // 32)
        picks = list(range(0, new, stride))
        if picks[-1] != new - 1:
            picks.append(new - 1)
        wall_based = False
        for i in picks:
            wall = float(walls[i])
            if plausible_wall(wall, now):
                wall_based = True
                self._last_wall = wall
                self._steps.add(wall, float(steps[i]))
        if wall_based:
            self._wall_interval = _median_gap(seg.walls.view[-33:])
        if not wall_based:
            self._steps.add(now, self.last_step)
        if self.last_activity is not None:
            self._arrivals.append(now)
            self.last_activity = now
        elif wall_based and self._last_wall is not None:
            self.last_activity = min(self._last_wall, now)
        elif written_at is not None and plausible_wall(written_at, now):
            self.last_activity = min(written_at, now)
        else:
            self.last_activity = now

    def _observe_metric(self, now: float, series: Series) -> list[Alert]:
        state = self.metrics.setdefault(series.metric, _MetricState())
        alerts: list[Alert] = []
        if series.nonfinite and not state.nan_fired:
            state.nan_fired = True
            step = series.first_nonfinite_step
            alerts.append(
                self._fire(
                    "nan",
                    series.metric,
                    step,
                    f"{series.metric} is not finite at step {fmt.step(step, missing='?')}",
                    now,
                )
            )
        if self.config.is_loss(series.metric) and series.segments:
            alerts.extend(self._check_divergence(now, series, state))
            alerts.extend(self._check_plateau(now, series))
        return alerts

    def _check_divergence(self, now: float, series: Series, state: _MetricState) -> list[Alert]:
        import numpy as np

        cfg = self.config
        seg = series.segments[-1]
        width = max(1, cfg.window_points)
        complete = len(seg) // width
        if complete < state.windows_done:
            # A new segment began (restart): judge it on its own.
            state.windows_done, state.best_window = 0, math.inf
        if complete > state.windows_done:
            block = seg.values.view[state.windows_done * width : complete * width].reshape(
                -1, width
            )
            finite = np.isfinite(block)
            counts = finite.sum(axis=1)
            sums = np.where(finite, block, 0.0).sum(axis=1)
            means = sums[counts > 0] / counts[counts > 0]
            if len(means):
                state.best_window = min(state.best_window, float(means.min()))
                state.latest_window = float(means[-1])
            state.windows_done = complete
        key = ("divergence", series.metric)
        diverged = (
            len(seg) >= cfg.warmup_points
            and state.best_window > 0
            and math.isfinite(state.latest_window)
            and state.latest_window > cfg.divergence_factor * state.best_window
        )
        if not diverged:
            self.active.pop(key, None)
            return []
        if key in self.active:
            return []
        message = (
            f"{series.metric} diverging: {state.latest_window:.4g} is "
            f"{state.latest_window / state.best_window:.1f}x its best {state.best_window:.4g}"
        )
        return [self._fire("divergence", series.metric, series.last_step, message, now)]

    def _check_plateau(self, now: float, series: Series) -> list[Alert]:
        cfg = self.config
        seg = series.segments[-1]
        n = len(seg)
        key = ("plateau", series.metric)
        if n < 2 * cfg.plateau_window:
            self.active.pop(key, None)
            return []
        before = seg.aggregate(0, n - cfg.plateau_window)[0]
        recent = seg.aggregate(n - cfg.plateau_window, n)[0]
        if not (math.isfinite(before) and math.isfinite(recent)) or before == 0:
            return []
        improvement = (before - recent) / abs(before)
        if improvement > cfg.plateau_eps:
            self.active.pop(key, None)
            return []
        if key in self.active:
            return []
        message = (
            f"{series.metric} plateau: best of the last {cfg.plateau_window} points "
            f"improves by {max(improvement, 0.0) * 100:.2g}% (< {cfg.plateau_eps * 100:.2g}%)"
        )
        return [self._fire("plateau", series.metric, series.last_step, message, now)]

    # -- run level -------------------------------------------------------------------

    def interval(self) -> float | None:
        """The usual seconds between points: from the log's wall times, else arrivals."""
        if self._wall_interval is not None:
            return self._wall_interval
        arrivals = list(self._arrivals)
        if len(arrivals) >= 3:
            return statistics.median(b - a for a, b in itertools.pairwise(arrivals))
        return None

    def age(self, now: float) -> float | None:
        return None if self.last_activity is None else max(0.0, now - self.last_activity)

    def stall_seconds(self) -> float:
        interval = self.interval()
        threshold = self.config.stall_min_seconds
        if interval is not None:
            threshold = max(threshold, self.config.stall_factor * interval)
        return threshold

    def update(
        self,
        now: float,
        *,
        finished: bool,
        gone: bool,
        writer_alive: bool | None,
        failed: str | None = None,
    ) -> list[Alert]:
        """Recompute the status; returns the run-level alerts that start now.

        ``failed`` is the reason when the run's own record says it ended badly (a
        tracker's FAILED or KILLED status): the run is crashed whatever else is seen.
        """
        cfg = self.config
        alerts: list[Alert] = []
        if writer_alive:
            self._writer_seen = True
        age = self.age(now)
        interval = self.interval()
        live_limit = max(cfg.live_min_seconds, 3 * interval if interval else 0.0)
        fraction = self.progress()
        if gone:
            status = "gone"
        elif failed:
            status = "crashed"
        elif finished or self._ended:
            status = "finished"
        elif self._writer_seen and writer_alive is False:
            done = fraction is not None and fraction >= 0.999
            status = "finished" if done else "crashed"
        elif age is not None and age <= live_limit:
            status = "live"
        elif fraction is not None and fraction >= 0.999:
            # Reached its total and went quiet: done, even without an end marker.
            status = "finished"
        elif age is not None and self._seen_live and age >= self.stall_seconds():
            status = "stalled"
        else:
            status = "idle"
        if status == "live":
            self._seen_live = True
        if status in ("finished", "crashed"):
            self._ended = status == "finished" or self._ended
        step = self.last_step
        if status == "stalled":
            if ("stall", "") not in self.active:
                message = f"no new point for {fmt.duration(age or 0.0)}"
                alerts.append(self._fire("stall", "", step, message, now))
        else:
            self.active.pop(("stall", ""), None)
        # A run already over when first read raises no alert (see the module doc).
        if (
            status == "crashed"
            and self.status != "crashed"
            and (not failed or self._seen_unfinished)
        ):
            reason = failed or "writer process exited without an end marker"
            alerts.append(self._fire("crashed", "", step, reason, now))
        if status == "finished" and self._seen_unfinished and self.status != "finished":
            alert = Alert("finished", self.run, "", step, "run finished", now)
            alerts.append(alert)
        if status not in ("finished", "gone", "crashed"):
            self._seen_unfinished = True
        if status != "crashed":
            self.active.pop(("crashed", ""), None)
        self.status = status
        return alerts

    def _fire(self, kind: str, metric: str, step: float | None, message: str, now: float) -> Alert:
        alert = Alert(kind, self.run, metric, step, message, now)
        self.active[(kind, metric)] = alert
        return alert

    def reset(self) -> None:
        """The reader started over: forget per-metric state (alerts may fire again)."""
        self.metrics.clear()
        for key in [k for k in self.active if k[0] in ("nan", "divergence", "plateau")]:
            del self.active[key]
        self._wall_interval = None
        self._last_wall = None
        self._steps = _Rate()
        self.last_step = None

    # -- progress --------------------------------------------------------------------

    def set_total(self, total: float | None) -> None:
        self.user_total = total if total and total > 0 else None

    def progress(self) -> float | None:
        """Fraction done: user total over last step, else the log's own (n, total)."""
        if self.user_total is not None and self.last_step is not None:
            return min(1.0, max(0.0, self.last_step / self.user_total))
        if self.progress_update is not None:
            n, total = self.progress_update
            return min(1.0, max(0.0, n / total))
        return None

    def step_rate(self) -> float | None:
        """Steps per second over the recent window (None until two samples)."""
        return self._steps.rate(self.config.rate_window_seconds)

    def eta_seconds(self) -> float | None:
        if self.status in ("finished", "crashed", "gone"):
            return None
        if self.user_total is not None and self.last_step is not None:
            remaining, rate = self.user_total - self.last_step, self.step_rate()
        elif self.progress_update is not None:
            n, total = self.progress_update
            remaining, rate = total - n, self._progress.rate(self.config.rate_window_seconds)
        else:
            return None
        if remaining <= 0:
            return 0.0
        if not rate or rate <= 0:
            return None
        return remaining / rate

    def active_alerts(self) -> tuple[Alert, ...]:
        return tuple(self.active.values())


def _median_gap(walls: object) -> float | None:
    import numpy as np

    gaps = np.diff(np.asarray(walls, dtype="float64"))
    gaps = gaps[np.isfinite(gaps) & (gaps > 0)]
    return float(np.median(gaps)) if len(gaps) >= 2 else None
