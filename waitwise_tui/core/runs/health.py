"""Health of one training run: status and the evidence it rests on, step rate, ETA, alerts.

``RunHealth`` is fed after each poll with the run's series and how many points each
metric gained, and with the run-level facts (end marker, file gone, the writer process
identified by ``procs``, a known exit code, a crash line ending the log). Status, from
the strongest evidence down (``status_reason`` names it):

- gone: the file was deleted.
- finished / crashed by a known exit: exit code 0, or non-zero, or a signal.
- finished: an end marker in the log.
- crashed: the log ends with a traceback's exception, CUDA out of memory, ``Killed``...
- the identified writer exited: finished if the progress reached its total, crashed
  if a total is known and was not reached, else ``ended`` (nothing says why: no bell).
- live: a new point within max(``live_min_seconds``, 3 intervals).
- finished: reached its total and went quiet.
- stalled: no new point for max(``stall_factor`` x the run's own interval,
  ``stall_min_seconds``) while the writer is alive. Without an identified writer a
  quiet run is ``idle``, never stalled.

Metric alerts: NaN/Inf at once; divergence and plateau (``core.runs.trend``) on the
smoothed curve; plateau on the validation losses, or the training losses when the run
logs none. Each alert fires once when its condition starts; it can fire again only
after the condition has cleared. Runs never seen running this session (already over
when first read) raise no finished/crashed alerts: those describe changes seen while
watching. The step rate is a debiased EMA over wall time (``_Rate``), so the ETA is
steady: on a steady run with jittery steps it moves by a few percent between polls
(tests/core/runs/test_eta.py measures it on a real writer; the bound is 15 %).
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from waitwise_tui.core import fmt
from waitwise_tui.core.runs.series import Series

STATUSES = ("live", "idle", "stalled", "finished", "crashed", "ended", "gone")
# Statuses after which the run is over (its writer is no longer looked for).
TERMINAL = frozenset({"finished", "crashed", "ended", "gone"})
ALERT_KINDS = ("nan", "divergence", "plateau", "stall", "crashed", "finished")

# A rate sample below this fraction of the smoothed rate is a pause (evaluation)...
PAUSE_FRACTION = 0.25
# ...unless this many come in a row.
PAUSES_TO_ACCEPT = 3
# Rate samples before an ETA is shown.
ETA_MIN_SAMPLES = 3

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
    validation_pattern: str = r"(?:^|[^a-z])(?:val|valid|validation|eval|test|dev)(?:[^a-z]|$)"
    divergence_factor: float = 2.0
    warmup_points: int = 32
    plateau_min_points: int = 20
    plateau_fraction: float = 0.25
    plateau_min_window: int = 5
    plateau_eps: float = 0.01
    stall_factor: float = 5.0
    stall_min_seconds: float = 60.0
    live_min_seconds: float = 30.0
    rate_window_seconds: float = 300.0  # the time constant of the step-rate EMA

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> tuple[HealthConfig, list[str]]:
        """A config from the settings' ``[run_alerts]`` table; unknown keys and bad
        values are problems (and keep their defaults)."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        problems: list[str] = []
        for key, value in raw.items():
            if key not in known:
                problems.append(f"run_alerts.{key}: unknown setting")
                continue
            if key in _PATTERNS:
                if not isinstance(value, str):
                    problems.append(f"run_alerts.{key}: expected a regular expression")
                    continue
                try:
                    re.compile(value)
                except re.error as exc:
                    problems.append(f"run_alerts.{key}: bad regular expression ({exc})")
                    continue
                values[key] = value
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                problems.append(f"run_alerts.{key}: expected a number")
                continue
            if key in _COUNTS:
                if not isinstance(value, int) or value < 1:
                    problems.append(f"run_alerts.{key}: must be a whole number >= 1")
                    continue
            elif not math.isfinite(value) or value <= 0:
                problems.append(f"run_alerts.{key}: must be positive")
                continue
            elif key in _FRACTIONS and value > 1:
                problems.append(f"run_alerts.{key}: must be in (0, 1]")
                continue
            values[key] = value if key in _COUNTS else float(value)
        return cls(**values), problems

    def is_loss(self, metric: str) -> bool:
        return re.search(self.loss_pattern, metric, re.IGNORECASE) is not None

    def is_validation(self, metric: str) -> bool:
        return re.search(self.validation_pattern, metric, re.IGNORECASE) is not None


_PATTERNS = frozenset({"loss_pattern", "validation_pattern"})
_COUNTS = frozenset({"warmup_points", "plateau_min_points", "plateau_min_window"})
_FRACTIONS = frozenset({"plateau_fraction", "plateau_eps"})


@dataclass
class _MetricState:
    nan_fired: bool = False


@dataclass
class _Rate:
    """Position units per second: a debiased EMA over wall time of the rate between samples.

    Each sample weighs ``1 - exp(-dt / tau)`` (``tau`` seconds), and the average is
    divided by the weight taken so far, so the first minutes are the time-weighted mean
    of the rates seen rather than the first sample: a jittery but steady run gives a
    steady rate (and ETA). A sample below ``PAUSE_FRACTION`` of the current rate is a
    pause (evaluation, checkpointing) and is skipped unless ``PAUSES_TO_ACCEPT`` come
    in a row (then the run really slowed down). When the first sample is that much
    slower than the second, it was the start (compiling, loading) and is dropped.
    ``samples`` counts the samples the rate rests on.
    """

    tau: float = 300.0
    last: tuple[float, float] | None = None
    total: float = 0.0  # the EMA before debiasing
    weight: float = 0.0
    samples: int = 0
    slow_streak: int = 0

    @property
    def value(self) -> float | None:
        return self.total / self.weight if self.weight > 0 else None

    def add(self, time: float, position: float) -> None:
        if self.last is None:
            self.last = (time, position)
            return
        t0, p0 = self.last
        if time <= t0:
            if position > p0:
                self.last = (t0, position)
            return
        if position < p0:
            self.last = (time, position)
            self.total = self.weight = 0.0
            self.samples = self.slow_streak = 0
            return
        self.last = (time, position)
        dt = time - t0
        rate = (position - p0) / dt
        value = self.value
        if value is not None:
            if self.samples == 1 and rate * PAUSE_FRACTION > value:
                self.total = self.weight = 0.0  # the first sample was the start
                self.samples = 0
            elif rate < PAUSE_FRACTION * value:
                self.slow_streak += 1
                if self.slow_streak < PAUSES_TO_ACCEPT:
                    return
            else:
                self.slow_streak = 0
        alpha = 1.0 - math.exp(-dt / self.tau)
        self.total += alpha * (rate - self.total)
        self.weight += alpha * (1.0 - self.weight)
        self.samples += 1

    def rate(self) -> float | None:
        return self.value


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
        self.status_reason = "not read yet"
        self.user_total: float | None = None
        self.progress_update: tuple[float, float] | None = None
        self._wall_interval: float | None = None
        self._arrivals: deque[float] = deque(maxlen=32)
        self._last_wall: float | None = None
        self._steps = _Rate(self.config.rate_window_seconds)
        self._progress = _Rate(self.config.rate_window_seconds)
        self._seen_live = False
        self._seen_unfinished = False

    # -- feeding ---------------------------------------------------------------------

    def observe(
        self,
        now: float,
        series: Mapping[str, Series],
        new_counts: Mapping[str, int],
        progress: tuple[float, float] | None = None,
        written_at: float | None = None,
        *,
        history: bool = False,
    ) -> list[Alert]:
        """Take one poll's new points (``new_counts[metric]`` per metric).

        ``written_at`` (the file's mtime) dates a first read of a log without wall
        times, so an old log does not look live. ``history``: the series were replaced
        by the run's complete history (a tail-first fill ended); nothing new was
        written, so the activity, the rate and the alerts already raised are kept
        (none is raised twice, none is cleared by it).
        """
        alerts: list[Alert] = []
        if progress is not None and progress[1] > 0:
            self.progress_update = progress
            self._progress.add(now, progress[0])
        grew = {name: n for name, n in new_counts.items() if n > 0 and name in series}
        if not grew:
            return alerts
        if history:
            last_step = max(series[name].last_step for name in grew)
            self.last_step = last_step if self.last_step is None else max(self.last_step, last_step)
        else:
            self._observe_time(now, series, grew, written_at)
        for name in grew:
            alerts.extend(self._observe_metric(now, series[name], keep=history))
        for name in self._plateau_metrics(series):
            if name in grew and series[name].segments:
                alerts.extend(self._check_plateau(now, series[name], keep=history))
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
        # Only the latest points are held raw (see Segment.kept).
        new = min(grew[busiest], seg.kept)
        steps = seg.steps.view[seg.kept - new :]
        walls = seg.walls.view[seg.kept - new :]
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

    def _observe_metric(self, now: float, series: Series, keep: bool = False) -> list[Alert]:
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
            alerts.extend(self._check_divergence(now, series, keep))
        return alerts

    def _plateau_metrics(self, series: Mapping[str, Series]) -> list[str]:
        """The validation losses, or the training losses when the run logs none."""
        losses = [name for name in series if self.config.is_loss(name)]
        val = [name for name in losses if self.config.is_validation(name)]
        return val or losses

    def _check_divergence(self, now: float, series: Series, keep: bool = False) -> list[Alert]:
        from waitwise_tui.core.runs import trend

        cfg = self.config
        verdict = trend.divergence(
            series.segments[-1], warmup_points=cfg.warmup_points, factor=cfg.divergence_factor
        )
        return self._judge(now, "divergence", series, verdict, keep)

    def _check_plateau(self, now: float, series: Series, keep: bool = False) -> list[Alert]:
        from waitwise_tui.core.runs import trend

        cfg = self.config
        verdict = trend.plateau(
            series.segments[-1],
            min_points=cfg.plateau_min_points,
            fraction=cfg.plateau_fraction,
            min_window=cfg.plateau_min_window,
            eps=cfg.plateau_eps,
        )
        return self._judge(now, "plateau", series, verdict, keep)

    def _judge(
        self, now: float, kind: str, series: Series, verdict: object, keep: bool = False
    ) -> list[Alert]:
        """Fire ``kind`` when its condition starts; ``keep``: a raised one is not cleared
        now (the curve was only re-read, see ``observe``)."""
        key = (kind, series.metric)
        if not getattr(verdict, "fired", False):
            if not keep:
                self.active.pop(key, None)
            return []
        if key in self.active:
            return []
        message = f"{series.metric} {getattr(verdict, 'message', kind)}"
        return [self._fire(kind, series.metric, series.last_step, message, now)]

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
        writer_pid: int | None = None,
        writer_evidence: str = "",
        exit_code: int | None = None,
        exit_signal: int | None = None,
        exit_source: str = "",
        crash: str | None = None,
        failed: str | None = None,
    ) -> list[Alert]:
        """Recompute the status and its reason; returns the run-level alerts that start now.

        The facts: ``finished`` (an end marker in the log), ``gone`` (file deleted),
        the writer process (``writer_alive`` None: none identified), a known exit
        (``exit_code`` / ``exit_signal`` from ``exit_source``) and ``crash``, the line
        that ends the log when it says the run died. ``failed`` is the reason when the
        run's own record says it ended badly (a tracker's FAILED or KILLED status).
        """
        status, reason = self._verdict(
            now,
            finished=finished,
            gone=gone,
            writer_alive=writer_alive,
            writer=f"writer pid {writer_pid}" if writer_pid else "the writer",
            writer_evidence=writer_evidence,
            exit_code=exit_code,
            exit_signal=exit_signal,
            exit_source=exit_source,
            crash=crash,
            failed=failed,
        )
        alerts: list[Alert] = []
        if status == "live":
            self._seen_live = True
        step = self.last_step
        if status == "stalled":
            if ("stall", "") not in self.active:
                alerts.append(self._fire("stall", "", step, reason, now))
        else:
            self.active.pop(("stall", ""), None)
        watched = self._seen_unfinished  # seen running this session: changes are news
        if status == "crashed" and self.status != "crashed" and watched:
            alerts.append(self._fire("crashed", "", step, reason, now))
        if status == "finished" and self.status != "finished" and watched:
            alerts.append(Alert("finished", self.run, "", step, reason, now))
        if status not in TERMINAL:
            self._seen_unfinished = True
        if status != "crashed":
            self.active.pop(("crashed", ""), None)
        self.status, self.status_reason = status, reason
        return alerts

    def _verdict(
        self,
        now: float,
        *,
        finished: bool,
        gone: bool,
        writer_alive: bool | None,
        writer: str,
        writer_evidence: str,
        exit_code: int | None,
        exit_signal: int | None,
        exit_source: str,
        crash: str | None,
        failed: str | None = None,
    ) -> tuple[str, str]:
        """(status, the evidence it rests on), strongest evidence first."""
        cfg = self.config
        age = self.age(now)
        interval = self.interval()
        live_limit = max(cfg.live_min_seconds, 3 * interval if interval else 0.0)
        fraction = self.progress()
        done = fraction is not None and fraction >= 0.999
        where = f"at {self._position()}"
        source = f" ({exit_source})" if exit_source else ""
        if gone:
            return "gone", "the log file was deleted"
        if failed:
            return "crashed", failed
        if exit_signal:
            return "crashed", f"killed by signal {exit_signal}{source} {where}"
        if exit_code is not None:
            if exit_code == 0:
                return "finished", f"exit code 0{source} {where}"
            return "crashed", f"exit code {exit_code}{source} {where}"
        if finished:
            return "finished", f"end marker in the log {where}"
        if crash and writer_alive is not True:
            return "crashed", f"the log ends with: {crash}"
        if writer_alive is False:
            if done:
                return "finished", f"{writer} exited after reaching its total {where}"
            if fraction is not None:
                return "crashed", f"{writer} exited before its total, {where}"
            return "ended", (
                f"{writer} exited {where}; exit status unknown"
                " (no exit code, end marker or crash line)"
            )
        if age is not None and age <= live_limit:
            reason = f"new point {fmt.duration(age)} ago"
            if writer_alive:
                reason += f"; {writer} {writer_evidence}".rstrip()
            return "live", reason
        if done:
            return "finished", f"reached its total {where} and went quiet"
        quiet = f"no new point for {fmt.duration(age or 0.0)}"
        if writer_alive and age is not None and age >= self.stall_seconds():
            return "stalled", f"{quiet} (over {fmt.duration(self.stall_seconds())}); {writer} alive"
        if writer_alive:
            return "idle", f"{quiet}; {writer} alive"
        if age is None:
            return "idle", "no point yet"
        return "idle", f"{quiet}; no writer process identified"

    def _position(self) -> str:
        step = fmt.step(self.last_step, missing="?")
        if self.user_total is not None:
            return f"step {step} of {fmt.step(self.user_total)}"
        if self.progress_update is not None:
            n, total = self.progress_update
            return f"{fmt.step(n)}/{fmt.step(total)}"
        return f"step {step}"

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
        self._steps = _Rate(self.config.rate_window_seconds)
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
        return self._steps.rate()

    def eta_seconds(self) -> float | None:
        if self.status in TERMINAL:
            return None
        if self.user_total is not None and self.last_step is not None:
            remaining, estimate = self.user_total - self.last_step, self._steps
        elif self.progress_update is not None:
            n, total = self.progress_update
            remaining, estimate = total - n, self._progress
        else:
            return None
        if remaining <= 0:
            return 0.0
        rate = estimate.rate()
        # One or two rate samples are one or two polls' luck: no ETA on them yet.
        if not rate or rate <= 0 or estimate.samples < ETA_MIN_SAMPLES:
            return None
        return remaining / rate

    def active_alerts(self) -> tuple[Alert, ...]:
        return tuple(self.active.values())


def _median_gap(walls: object) -> float | None:
    import numpy as np

    gaps = np.diff(np.asarray(walls, dtype="float64"))
    gaps = gaps[np.isfinite(gaps) & (gaps > 0)]
    return float(np.median(gaps)) if len(gaps) >= 2 else None
