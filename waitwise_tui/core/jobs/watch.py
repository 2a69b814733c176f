"""Runs linked to Slurm jobs, and the one watch over those jobs' GPUs and time limits.

A run is linked to a Slurm job by its writer process's ``SLURM_JOB_ID`` (read from
``/proc/PID/environ``: readable for the user's own processes only, which is what is
wanted), or, for a job the tuner submitted through the Slurm backend, by its log's path:
the job's ``.waitwise/jobs/<id>/stdout.log`` is a run, and the job store knows that job's
Slurm id (:class:`StoreLinks`; a writer on another node has no pid here).
:class:`SlurmWatch` is polled by the app's one owner of live data
(``ui/live.py``) with the latest runs reading: it keeps one GPU collector per linked or
picked job (core/jobs/gpus.py), checks each linked run's ETA against its job's end
(core/jobs/timelimit.py) and the job's GPUs for a hang, a straggler or an idle GPU
(core/jobs/gpu_alerts.py), and returns a :class:`ClusterSnapshot` plus the new core
``Event``s. Collectors of jobs nobody links or picks any more are stopped; ``stop()``
stops them all (nobody watches).

Everything outside is injected (``read_allocation``, ``make_collector``, ``job_of_pid``,
``job_of_path``, ``clock``), so the whole watch is tested without a cluster.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from waitwise_tui.core.events import Event
from waitwise_tui.core.jobs.gpu_alerts import JobGpuAlerts, series_from_history
from waitwise_tui.core.jobs.gpus import JobAllocation, NodeReading
from waitwise_tui.core.jobs.slurm_cli import SlurmError, run_tool
from waitwise_tui.core.jobs.timelimit import TimeLimitWatch, check
from waitwise_tui.core.workspace import Workspace

# How often a job's end time is asked again (it changes only with scontrol update).
ALLOCATION_REFRESH_S = 60.0


def parse_environ(data: bytes) -> dict[str, str]:
    """``/proc/PID/environ`` (NUL-separated ``KEY=value``) -> a dict; bad entries skipped."""
    out: dict[str, str] = {}
    for entry in data.split(b"\0"):
        key, sep, value = entry.partition(b"=")
        if sep and key:
            out[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
    return out


def job_id_from_environ(env: dict[str, str]) -> str | None:
    """The Slurm job a process runs in: ``SLURM_JOB_ID`` (else ``SLURM_JOBID``), digits only."""
    for key in ("SLURM_JOB_ID", "SLURM_JOBID"):
        value = env.get(key, "").strip()
        if value.isdigit():
            return value
    return None


def slurm_job_of_pid(pid: int, proc_root: str = "/proc") -> str | None:
    """The Slurm job id of process ``pid``; None outside Slurm or when unreadable."""
    try:
        with open(os.path.join(proc_root, str(int(pid)), "environ"), "rb") as handle:
            data = handle.read(1 << 20)
    except (OSError, ValueError):
        return None
    return job_id_from_environ(parse_environ(data))


def job_dir_id(path: str, jobs_dir: str) -> int | None:
    """The waitwise job whose folder holds ``path`` (``JOBS_DIR/<id>/...``); else None."""
    try:
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(jobs_dir))
    except ValueError:  # another drive
        return None
    first = rel.split(os.sep, 1)[0]
    return int(first) if first.isdigit() and rel != first else None


class StoreLinks:
    """Run path -> Slurm job id, for runs in a waitwise job's folder whose job went to
    Slurm (the tuner's trials): ``backend_id`` in the ``jobs`` table. Each job is asked
    again after ``refresh_s`` (a pending job gets its id on submission, a requeued one a
    new id); the database is opened read-only per lookup, never created."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        clock: Callable[[], float] = time.time,
        refresh_s: float = ALLOCATION_REFRESH_S / 2,
    ) -> None:
        self.workspace = workspace
        self.clock = clock
        self.refresh_s = refresh_s
        self._known: dict[int, tuple[float, str | None]] = {}

    def __call__(self, path: str) -> str | None:
        job = job_dir_id(path, str(self.workspace.jobs_dir))
        if job is None:
            return None
        now = self.clock()
        known = self._known.get(job)
        if known is None or now - known[0] >= self.refresh_s:
            known = (now, self._slurm_id(job))
            self._known[job] = known
        return known[1]

    def _slurm_id(self, job: int) -> str | None:
        db = self.workspace.db_path
        if not db.exists():
            return None
        try:
            conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=5.0)
            try:
                row = conn.execute(
                    "SELECT backend, backend_id FROM jobs WHERE id = ?", (job,)
                ).fetchone()
            finally:
                conn.close()
        except sqlite3.Error:
            return None
        if row is None or row[0] != "slurm" or not row[1]:
            return None
        slurm_id = str(row[1]).split(";")[0].strip()
        return slurm_id if slurm_id.isdigit() else None


def running_job_ids(*, timeout: float = 30.0) -> list[str]:
    """The user's running Slurm jobs (``squeue --me -t R``), oldest first."""
    proc = run_tool(["squeue", "--me", "-h", "-t", "R", "-o", "%i"], timeout=timeout)
    ids = [line.strip() for line in proc.stdout.splitlines()]
    return sorted((i for i in ids if i.isdigit()), key=int)


class Collector(Protocol):
    """What the watch needs of ``core.jobs.gpus.JobGpuCollector``."""

    allocation: JobAllocation

    def start(self) -> Any: ...
    def stop(self) -> None: ...
    def readings(self) -> dict[str, NodeReading]: ...
    def series(self) -> dict[tuple[str, int], list[tuple[float, dict[str, Any]]]]: ...
    @property
    def ended(self) -> bool: ...
    @property
    def errors(self) -> list[str]: ...


class RunLike(Protocol):
    """What the watch reads of a run (``core.runs.monitor.RunInfo``)."""

    name: str
    path: str
    status: str
    writer_pid: int | None
    eta_seconds: float | None
    last_step: float | None
    step_rate: float | None
    age_seconds: float | None


@dataclass(frozen=True)
class ClusterJob:
    """One watched job as the views show it."""

    job_id: str
    run: str  # the linked run ("" for a job only picked in the cluster view)
    state: str
    nodes: tuple[str, ...]
    end_time: float | None
    time_limit_s: float | None
    readings: dict[str, NodeReading]
    problems: tuple[str, ...] = ()
    alerts: tuple[str, ...] = ()  # the GPU alerts standing now (``possible_hang``...)

    def left_s(self, now: float) -> float | None:
        return None if self.end_time is None else max(0.0, self.end_time - now)


@dataclass(frozen=True)
class ClusterSnapshot:
    time: float
    jobs: tuple[ClusterJob, ...]
    links: dict[str, str]  # run name -> Slurm job id
    problem: str | None = None
    running: tuple[str, ...] = ()  # the user's running jobs, when listed (``listing``)

    def job(self, job_id: str) -> ClusterJob | None:
        return next((j for j in self.jobs if j.job_id == job_id), None)


@dataclass
class _Watched:
    collector: Collector
    allocation: JobAllocation
    asked_at: float
    time_limit: TimeLimitWatch
    gpu_alerts: JobGpuAlerts


@dataclass
class SlurmWatch:
    """Polled with the latest runs; see the module's docstring."""

    make_collector: Callable[[JobAllocation], Collector]
    read_allocation: Callable[[str], JobAllocation]
    job_of_pid: Callable[[int], str | None] = slurm_job_of_pid
    job_of_path: Callable[[str], str | None] | None = None  # StoreLinks: tuner's jobs
    clock: Callable[[], float] = time.time
    lead_s: float = 1800.0
    signal: str = ""
    send_signal: Callable[[str, str], None] | None = None
    list_running: Callable[[], list[str]] = running_job_ids
    picked: frozenset[str] = frozenset()
    pick_all: bool = False  # every running job of the user (``squeue --me``)
    listing: bool = False  # list the user's running jobs even when only some are picked
    _running: tuple[float, list[str]] | None = None  # (when asked, ids)
    _pids: dict[int, str | None] = field(default_factory=dict)
    _jobs: dict[str, _Watched] = field(default_factory=dict)

    def pick(self, job_ids: Iterable[str] | None, *, listing: bool = False) -> None:
        """Jobs watched besides the linked ones (the cluster view's pick); None: all
        the user's running jobs. ``listing``: list those jobs (``ClusterSnapshot
        .running``) without watching them, for the view to pick from."""
        self.pick_all = job_ids is None
        self.listing = listing
        self.picked = frozenset(j for j in job_ids or () if j.isdigit())
        if not self.pick_all and not listing:
            self._running = None

    def _running_ids(self, now: float) -> list[str]:
        if not (self.pick_all or self.listing):
            return []
        if self._running is None or now - self._running[0] >= ALLOCATION_REFRESH_S / 2:
            self._running = (now, self.list_running())
        return self._running[1]

    def _picked_ids(self, running: list[str]) -> list[str]:
        if not self.pick_all:
            return sorted(self.picked, key=int)
        return sorted(set(running) | self.picked, key=int)

    def links(self, runs: Sequence[RunLike]) -> dict[str, str]:
        """Run name -> Slurm job id, from each writer's environment (cached per pid),
        else from the job store for a run in a waitwise job's folder."""
        out: dict[str, str] = {}
        for run in runs:
            pid = run.writer_pid
            job = None
            if pid is not None:
                if pid not in self._pids:
                    self._pids[pid] = self.job_of_pid(pid)
                job = self._pids[pid]
            if job is None and self.job_of_path is not None:
                job = self.job_of_path(run.path)
            if job is not None:
                out[run.name] = job
        return out

    def poll(self, runs: Sequence[RunLike]) -> tuple[ClusterSnapshot, list[Event]]:
        now = self.clock()
        links = self.links(runs)
        problems: list[str] = []
        running: list[str] = []
        try:
            running = self._running_ids(now)
        except SlurmError as exc:
            problems.append(str(exc))
        picked = self._picked_ids(running)
        by_job: dict[str, RunLike | None] = {job: None for job in picked}
        for run in runs:
            if run.name in links and run.status not in ("finished", "crashed", "gone"):
                by_job[links[run.name]] = run
        for job_id in set(self._jobs) - set(by_job):
            self._jobs.pop(job_id).collector.stop()
        events: list[Event] = []
        jobs: list[ClusterJob] = []
        for job_id, run in by_job.items():
            try:
                watched = self._watched(job_id, run, now)
            except SlurmError as exc:
                problems.append(f"job {job_id}: {exc}")
                continue
            if watched is None:
                continue
            allocation = watched.allocation
            if run is not None:
                events.extend(self._check(watched, run, now))
            jobs.append(
                ClusterJob(
                    job_id=job_id,
                    run=run.name if run is not None else "",
                    state=allocation.state,
                    nodes=allocation.nodes,
                    end_time=allocation.end_time,
                    time_limit_s=allocation.time_limit_s,
                    readings=watched.collector.readings(),
                    problems=tuple(watched.collector.errors),
                    alerts=tuple(sorted({kind for kind, _ in watched.gpu_alerts.active})),
                )
            )
        snapshot = ClusterSnapshot(
            now, tuple(jobs), links, "; ".join(problems) or None, tuple(running)
        )
        return snapshot, events

    def _watched(self, job_id: str, run: RunLike | None, now: float) -> _Watched | None:
        watched = self._jobs.get(job_id)
        fresh = watched is not None and now - watched.asked_at < ALLOCATION_REFRESH_S
        if watched is not None and fresh and not watched.collector.ended:
            return watched
        allocation = self.read_allocation(job_id)
        if allocation.ended or allocation.state != "RUNNING":
            if watched is not None:
                self._jobs.pop(job_id).collector.stop()
            return None
        if watched is None or watched.collector.ended:
            if watched is not None:
                watched.collector.stop()
            name = run.name if run is not None else ""
            kwargs: dict[str, Any] = {}
            if self.send_signal is not None:
                kwargs["send_signal"] = self.send_signal
            watched = _Watched(
                collector=self.make_collector(allocation),
                allocation=allocation,
                asked_at=now,
                time_limit=TimeLimitWatch(job_id, name, self.signal, **kwargs),
                gpu_alerts=JobGpuAlerts(job_id, name),
            )
            watched.collector.start()
            self._jobs[job_id] = watched
        else:
            watched.allocation, watched.asked_at = allocation, now
        return watched

    def _check(self, watched: _Watched, run: RunLike, now: float) -> list[Event]:
        watched.time_limit.run = watched.gpu_alerts.run = run.name
        verdict = check(
            now=now,
            end_time=watched.allocation.end_time,
            eta_s=run.eta_seconds,
            step=run.last_step,
            step_rate=run.step_rate,
            lead_s=self.lead_s,
        )
        events = watched.time_limit.update(verdict, now)
        stalled = run.age_seconds if run.status == "stalled" else None
        events += watched.gpu_alerts.update(
            series_from_history(watched.collector.series()),
            now,
            stalled_s=stalled,
            stall_threshold_s=0.0,  # "stalled" already means past the run's threshold
            run_live=run.status == "live",
        )
        return events

    def stop(self) -> None:
        """Nobody watches: stop every collector (they start again on the next poll)."""
        jobs, self._jobs = self._jobs, {}
        for watched in jobs.values():
            watched.collector.stop()
