"""``RunMonitor``: tails every run found, feeds series and health, hands out snapshots.

The UI calls ``poll`` from a thread worker (one poll at a time) and ``chart`` from
another; a lock keeps series appends and chart reads apart, while plotext drawing runs
outside it. ``poll`` returns an immutable ``RunsSnapshot`` that is safe to pass to the
UI thread. Runs are rediscovered every ``rescan_seconds``; each keeps one ``Tail``
whose polls read only new bytes, so an idle poll costs a ``stat`` per run.

A metric named ``max_steps`` or ``total_steps`` in a log is taken as the run's total
(giving progress and ETA) rather than drawn as a curve.

The facts a run's status rests on are gathered here for ``RunHealth``: the writer
process (``procs``, searched while the run may still be running), the crash line that
ends a text log, and a job's ``exit.json`` next to its ``stdout.log`` (written by the
job shim for local and Slurm jobs: the final word on how the run ended). A named path
that does not exist yet is listed in ``RunsSnapshot.waiting`` and picked up by the
rescan after it appears.

A total typed by the user is stored (``core.runs.totals``) by the next poll and given
back to the same run (by its identity) when a later monitor finds it.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from waitwise_tui.core.runs.chart import DEFAULT_COLORS, ChartLine, ChartOptions, Color
from waitwise_tui.core.runs.health import TERMINAL, Alert, HealthConfig, RunHealth
from waitwise_tui.core.runs.model import Column, Point, ReadUpdate, RunCandidate, Tail
from waitwise_tui.core.runs.procs import Writer, WriterFinder
from waitwise_tui.core.runs.series import Series
from waitwise_tui.core.runs.totals import TotalStore, identity

if TYPE_CHECKING:
    import numpy as np

TOTAL_METRICS = frozenset({"max_steps", "total_steps"})
# A tracker's own run status (MLflow, W&B) that says how the run ended.
TRACKER_FINISHED = frozenset({"FINISHED"})
TRACKER_FAILED = frozenset({"FAILED", "KILLED", "CRASHED"})
EXIT_FILE = "exit.json"
# A run quiet for longer than this is not searched for a writer any more.
WRITER_SEARCH_AGE = 86400.0


@dataclass(frozen=True)
class MetricSummary:
    """Counts and values of one metric; ``min``/``max`` over finite values (nan if none)."""

    name: str
    count: int
    first: float
    last: float
    min: float
    max: float
    last_step: float


@dataclass(frozen=True)
class RunInfo:
    """One run as the UI shows it."""

    name: str
    path: str
    format: str
    status: str
    last_step: float | None
    age_seconds: float | None
    progress: float | None
    eta_seconds: float | None
    step_rate: float | None
    writer_pid: int | None
    metrics: tuple[MetricSummary, ...]
    alerts: tuple[Alert, ...]
    error: str | None = None
    # The tracker's own status word and the run's params/tags/summary (see ReadUpdate).
    tracker_status: str | None = None
    details: tuple[tuple[str, str], ...] = ()
    status_reason: str = ""  # the evidence the status rests on
    writer_evidence: str = ""  # why writer_pid is taken as the writer
    # A huge log opened tail first: the share of its history read so far (0..1) while
    # the history fills in behind the tail; None otherwise.
    loading: float | None = None

    def metric(self, name: str) -> MetricSummary | None:
        return next((m for m in self.metrics if m.name == name), None)


@dataclass(frozen=True)
class RunsSnapshot:
    """All runs after one poll, plus the alerts that started during it."""

    time: float
    runs: tuple[RunInfo, ...]
    new_alerts: tuple[Alert, ...]
    waiting: tuple[str, ...] = ()

    def run(self, name: str) -> RunInfo | None:
        return next((r for r in self.runs if r.name == name), None)


class _Run:
    def __init__(self, candidate: RunCandidate, name: str, tail: Tail, config: HealthConfig):
        self.candidate = candidate
        self.name = name
        self.identity = ""  # the key of its stored total (``core.runs.totals``)
        self.tail = tail
        self.series: dict[str, Series] = {}
        # A tail-first fill's history, built up apart until the handover swaps it in.
        self.history: dict[str, Series] = {}
        self.history_total: float | None = None
        self.health = RunHealth(name, config)
        self.finished = False
        self.gone = False
        self.error: str | None = None
        self.log_total: float | None = None
        self.polled = False
        self.writer = Writer(None, None)
        self.tracker_status: str | None = None
        self.details: dict[str, str] = {}
        self.crash: str | None = None
        self.writer_restarted = False
        self.exit: dict[str, object] | None = None
        self.loading: tuple[int, int] | None = None
        self._exit_stamp: tuple[int, int] | None = None

    def read_exit(self) -> None:
        """A job's ``exit.json`` beside its ``stdout.log``, re-read when it changes."""
        if os.path.basename(self.candidate.path) != "stdout.log":
            return
        path = os.path.join(os.path.dirname(self.candidate.path), EXIT_FILE)
        try:
            st = os.stat(path)
        except OSError:
            self.exit, self._exit_stamp = None, None
            return
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._exit_stamp:
            return
        self._exit_stamp = stamp
        try:
            with open(path, encoding="utf-8") as fh:
                record = json.load(fh)
        except (OSError, ValueError):
            return  # being written: the next poll reads it
        self.exit = record if isinstance(record, dict) else None

    def facts(self) -> dict[str, object]:
        """The evidence ``RunHealth.update`` judges the status on."""
        code = signal = None
        if self.exit is not None:
            raw_code, raw_signal = self.exit.get("exit_code"), self.exit.get("signal")
            code = raw_code if isinstance(raw_code, int) else None
            signal = raw_signal if isinstance(raw_signal, int) else None
        return {
            "finished": self.finished,
            "gone": self.gone,
            "writer_alive": self.writer.alive,
            "writer_pid": self.writer.pid,
            "writer_evidence": self.writer.evidence,
            "exit_code": code,
            "exit_signal": signal,
            "exit_source": EXIT_FILE if self.exit is not None else "",
            "crash": self.crash,
            "failed": self.failed(),
        }

    def apply(self, update: ReadUpdate, now: float) -> list[Alert]:
        handover = update.reset and update.handover
        self._build_history(update.history)
        counts: dict[str, int] = {}
        if update.reset:
            self.series.clear()
            if handover:
                self.series.update(self.history)
                counts = {metric: len(series) for metric, series in self.series.items()}
                self.log_total = self.history_total or self.log_total
            self.history = {}
            self.history_total = None
        if update.reset and not handover:
            self.health.reset()
            self.finished = False
            self.log_total = None
        self.loading = update.loading
        if update.error:
            self.error = update.error
        if update.tracker_status is not None:
            self.tracker_status = update.tracker_status
            self.finished = self.finished or update.tracker_status in TRACKER_FINISHED
        if update.details is not None:
            self.details = update.details
        self.gone = self.gone or update.gone
        self.finished = self.finished or update.finished
        if update.reset and not handover:
            self.crash = None
        if update.crash:
            self.crash = update.crash
        elif update.has_scalars() and not handover:
            self.crash = None
        if update.has_scalars() and self.writer.alive is False and not handover:
            # Written to after its writer exited: a new writer (a resumed run).
            self.writer = Writer(None, None)
            self.writer_restarted = True
        for metric, parts in _by_metric(update).items():
            if metric in TOTAL_METRICS:
                last = parts[-1]
                value = float(last.values[-1]) if isinstance(last, Column) else last[-1].value
                if math.isfinite(value) and value > 0:
                    self.log_total = value
                continue
            series = self.series.get(metric)
            if series is None:
                series = self.series[metric] = Series(metric)
            before = len(series)
            for part in parts:
                if isinstance(part, Column):
                    series.append(part.steps, part.values, part.walls)
                else:
                    series.extend(part)
            counts[metric] = counts.get(metric, 0) + len(series) - before
        written_at = None if self.polled else _mtime(self.candidate.path)
        self.polled = True
        progress = update.progress
        if progress is None and self.log_total is not None and counts:
            last = max(self.series[m].last_step for m in counts)
            progress = (last, self.log_total)
        return self.health.observe(now, self.series, counts, progress, written_at, history=handover)

    def _build_history(self, columns: list[Column]) -> None:
        for column in _joined(columns):
            if column.metric in TOTAL_METRICS:
                value = float(column.values[-1])
                if math.isfinite(value) and value > 0:
                    self.history_total = value
                continue
            series = self.history.get(column.metric)
            if series is None:
                series = self.history[column.metric] = Series(column.metric)
            series.append(column.steps, column.values, column.walls)

    def info(self, now: float) -> RunInfo:
        health = self.health
        metrics = tuple(
            MetricSummary(s.metric, s.count, s.first, s.last, s.min, s.max, s.last_step)
            for s in self.series.values()
        )
        return RunInfo(
            name=self.name,
            path=self.candidate.path,
            format=self.candidate.format,
            status=health.status,
            status_reason=health.status_reason,
            last_step=health.last_step,
            age_seconds=health.age(now),
            progress=health.progress(),
            eta_seconds=health.eta_seconds(),
            step_rate=health.step_rate(),
            writer_pid=self.writer.pid,
            writer_evidence=self.writer.evidence,
            metrics=metrics,
            alerts=health.active_alerts(),
            error=self.error,
            tracker_status=self.tracker_status,
            details=tuple(self.details.items()),
            loading=_fraction(self.loading),
        )

    def failed(self) -> str | None:
        """Why the run's own record says it ended badly, or None."""
        if self.tracker_status in TRACKER_FAILED:
            return f"run status {self.tracker_status}"
        return None


class RunMonitor:
    """Discovers, tails and judges runs under ``root`` (or just ``paths``)."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        paths: Sequence[str] = (),
        *,
        rescan_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
        discover: Callable[[str, Sequence[str]], list[RunCandidate]] | None = None,
        open_tail: Callable[[RunCandidate], Tail] | None = None,
        writers: WriterFinder | bool | None = True,
        health: HealthConfig | None = None,
        totals: TotalStore | None = None,
    ) -> None:
        self.root = os.fspath(root)
        self.paths = tuple(paths)
        self.rescan_seconds = rescan_seconds
        self._clock = clock
        self._discover = discover
        self._open_tail = open_tail
        self._writers = WriterFinder() if writers is True else (writers or None)
        self._config = health or HealthConfig()
        self._runs: dict[str, _Run] = {}
        self._by_path: dict[tuple[str, str, str], _Run] = {}
        self._totals: dict[str, float | None] = {}
        self._total_store = totals
        self._unsaved_totals: dict[str, float | None] = {}
        self._extra_paths: list[str] = []
        self._last_scan = -math.inf
        self._lock = threading.RLock()
        self.scan_error: str | None = None
        self.totals_error: str | None = None

    # -- polling ---------------------------------------------------------------------

    def poll(self) -> RunsSnapshot:
        """Read what every run appended, update health; one call at a time."""
        now = self._clock()
        new_alerts: list[Alert] = []
        if now - self._last_scan >= self.rescan_seconds:
            self._last_scan = now
            self._rescan()
        with self._lock:
            runs = list(self._runs.values())
            for run in runs:
                try:
                    update = run.tail.poll()
                except Exception as exc:  # a reader bug must not stop the other runs
                    update = ReadUpdate(error=f"read failed: {exc}")
                new_alerts.extend(run.apply(update, now))
        self._save_totals()
        self._update_writers(runs, now)
        for run in runs:
            run.read_exit()
            new_alerts.extend(run.health.update(now, **run.facts()))  # type: ignore[arg-type]
        return RunsSnapshot(
            now, tuple(run.info(now) for run in runs), tuple(new_alerts), self.waiting()
        )

    def waiting(self) -> tuple[str, ...]:
        """Named paths that do not exist yet (a run not started yet)."""
        return tuple(p for p in (*self.paths, *self._extra_paths) if not os.path.exists(p))

    def _rescan(self) -> None:
        discover = self._discover
        if discover is None:
            from waitwise_tui.core.runs.discover import discover_runs as discover
        try:
            candidates = discover(self.root, self.paths)
            if self._extra_paths:
                candidates += discover(self.root, list(self._extra_paths))
        except OSError as exc:
            self.scan_error = f"cannot scan {self.root}: {exc}"
            return
        self.scan_error = None
        open_tail = self._open_tail
        if open_tail is None:
            from waitwise_tui.core.runs.readers import open_tail
        for candidate in candidates:
            key = (os.path.realpath(candidate.path), candidate.format, candidate.key)
            if key in self._by_path:
                continue
            name = candidate.name
            suffix = 2
            while name in self._runs:
                name = f"{candidate.name} ({suffix})"
                suffix += 1
            run = _Run(candidate, name, open_tail(candidate), self._config)
            run.identity = identity(candidate)
            if name in self._totals:
                run.health.set_total(self._totals[name])
            else:
                run.health.set_total(self._stored_total(candidate))
            with self._lock:
                self._runs[name] = run
                self._by_path[key] = run

    def _stored_total(self, candidate: RunCandidate) -> float | None:
        if self._total_store is None:
            return None
        try:
            return self._total_store.load(identity(candidate))
        except (OSError, sqlite3.Error) as exc:
            self.totals_error = f"cannot read the stored totals: {exc}"
            return None

    def _save_totals(self) -> None:
        """Store the totals typed since the last poll (here, off the UI thread)."""
        with self._lock:
            pending, self._unsaved_totals = self._unsaved_totals, {}
        if self._total_store is None:
            return
        for key, total in pending.items():
            try:
                self._total_store.save(key, total)
                self.totals_error = None
            except (OSError, sqlite3.Error) as exc:
                self.totals_error = f"cannot store the total: {exc}"

    def _update_writers(self, runs: Iterable[_Run], now: float) -> None:
        if self._writers is None:
            return
        # A writer is worth looking for only while the run may still be running.
        wanted = {
            run.candidate.path: run
            for run in runs
            if not (run.finished or run.gone or run.exit is not None)
            and run.health.status not in TERMINAL
            and (age := run.health.age(now)) is not None
            and age < WRITER_SEARCH_AGE
        }
        if not wanted:
            return
        for path, run in wanted.items():
            if run.writer_restarted:
                run.writer_restarted = False
                self._writers.forget(path)
        for path, writer in self._writers.poll(wanted).items():
            wanted[path].writer = writer

    # -- queries ---------------------------------------------------------------------

    def add_path(self, path: str | os.PathLike[str]) -> None:
        """Also watch ``path`` (e.g. a demo run just started); found by the next poll.

        A file that does not exist yet is looked for again at every rescan.
        """
        with self._lock:
            path = os.fspath(path)
            if path not in self._extra_paths:
                self._extra_paths.append(path)
            self._last_scan = -math.inf

    def set_total(self, run_name: str, total: float | None) -> None:
        """A total step count typed by the user (None clears it); the next poll stores
        it in the workspace database, keyed by the run's identity."""
        with self._lock:
            self._totals[run_name] = total
            run = self._runs.get(run_name)
            if run is not None:
                run.health.set_total(total)
                self._unsaved_totals[run.identity] = total

    def metric_names(self, run_name: str) -> list[str]:
        with self._lock:
            run = self._runs.get(run_name)
            return list(run.series) if run is not None else []

    def chart(
        self,
        run_names: Sequence[str],
        metrics: Sequence[str],
        width: int,
        height: int,
        options: ChartOptions | None = None,
        colors: Sequence[Color] = DEFAULT_COLORS,
    ) -> str:
        """ANSI chart of ``metrics`` of ``run_names`` overlaid (call from a worker)."""
        from waitwise_tui.core.runs.chart import render_chart

        with self._lock:
            lines: list[ChartLine] = []
            for run_name in run_names:
                run = self._runs.get(run_name)
                if run is None:
                    continue
                walls = [s.first_wall for s in run.series.values() if math.isfinite(s.first_wall)]
                start = min(walls, default=math.nan)
                for metric in metrics:
                    series = run.series.get(metric)
                    if series is None:
                        continue
                    label = metric if len(run_names) == 1 else f"{run_name}:{metric}"
                    lines.append(ChartLine(label, series, start))
            if not lines:
                return "no data"
        return render_chart(lines, width, height, options, colors, data_lock=self._lock)

    def close(self) -> None:
        with self._lock:
            for run in self._runs.values():
                run.tail.close()
            self._runs.clear()
            self._by_path.clear()


def _by_metric(update: ReadUpdate) -> dict[str, list[Column | list[Point]]]:
    """The poll's scalars per metric in log order: its columns, then a run of points.

    Columns stay whole, so a bulk read reaches ``Series.append`` as arrays (a metric's
    chunks joined, see ``_joined``).
    """
    grouped: dict[str, list[Column | list[Point]]] = {}
    for column in _joined(update.columns):
        grouped.setdefault(column.metric, []).append(column)
    for point in update.points:
        parts = grouped.setdefault(point.metric, [])
        last = parts[-1] if parts else None
        if not isinstance(last, list):
            last = []
            parts.append(last)
        last.append(point)
    return grouped


def _fraction(loading: tuple[int, int] | None) -> float | None:
    if loading is None:
        return None
    done, total = loading
    return min(1.0, done / total) if total > 0 else 0.0


def _mtime(path: str) -> float | None:
    try:
        if os.path.isdir(path):
            with os.scandir(path) as entries:
                return max((e.stat().st_mtime for e in entries if e.is_file()), default=None)
        return os.stat(path).st_mtime
    except OSError:
        return None


def _joined(columns: list[Column]) -> list[Column]:
    """Each metric's parts joined in order, up to ``_JOIN`` at a time; empty ones left out.

    A poll of history brings a column per metric per read chunk (64 per metric for a
    64 MB step): appended one by one, the series' pyramid bookkeeping ran per part and
    cost more than the bytes' decoding.
    """
    parts: dict[str, list[Column]] = {}
    for column in columns:
        if len(column):
            parts.setdefault(column.metric, []).append(column)
    out = []
    for metric, whole in parts.items():
        for at in range(0, len(whole), _JOIN):
            out.append(_join(metric, whole[at : at + _JOIN]))
    return out


# Parts joined per append: 16x fewer appends, and the joined copy stays a quarter of a
# 64 MB history step.
_JOIN = 16


def _join(metric: str, group: list[Column]) -> Column:
    if len(group) == 1:
        return group[0]
    import numpy as np

    return Column(
        metric,
        np.concatenate([np.asarray(c.steps, dtype="float64") for c in group]),
        np.concatenate([np.asarray(c.values, dtype="float64") for c in group]),
        None if all(c.walls is None for c in group) else np.concatenate([_walls(c) for c in group]),
    )


def _walls(column: Column) -> np.ndarray:
    import numpy as np

    if column.walls is None:
        return np.full(len(column), np.nan)
    return np.asarray(column.walls, dtype="float64")
