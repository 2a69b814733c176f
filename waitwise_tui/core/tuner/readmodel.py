"""What the Tuner tab shows, as plain snapshots read in one go off the event loop.

``read_snapshot`` turns the workspace database (and, while the cluster view shows,
``squeue --me``) into a ``TunerSnapshot``: the study picker's choices, the queue,
leaderboard and cluster tables as rows of strings, and the status line's numbers. The
tab only lays these out; it never reads the database, Slurm or a job's files itself.
``read_job_log`` is the log view's read: the tail of a job's ``stdout.log``.

Every string here is raw outside text (study names, parameters, job commands, Slurm's
answers, job output): the UI makes it safe where it shows it (``core.text.display``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from waitwise_tui.core import fmt
from waitwise_tui.core.jobs.model import Job
from waitwise_tui.core.jobs.slurm import SlurmBackend, SlurmQueue
from waitwise_tui.core.jobs.slurm_cli import SlurmError, SlurmJob
from waitwise_tui.core.tuner.service import (
    DONE,
    OPEN_STATES,
    Study,
    Trial,
    TunerService,
    best_trial,
    list_studies,
    list_trials,
)
from waitwise_tui.core.workspace import Workspace

JOBS = -1  # picker value of the plain-jobs list
LOG_TAIL_BYTES = 64 * 1024
LOG_LINES = 500


# -- cells ------------------------------------------------------------------------------


def format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)


def format_params(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={format_value(v)}" for k, v in params.items())


def where_cell(backend: str, backend_id: str | None) -> str:
    """``local``, ``slurm`` (not submitted yet) or ``slurm 1234``."""
    return f"{backend} {backend_id}" if backend_id else backend


# Every word the queue's state column can show: ours, and Slurm's (lowercased) while it
# has an open job. The column is as wide as the longest, so no state is ever cut (the
# table sizes a column when a row is added, not when a cell changes: a row added as
# "queued" showed "runnin" later). A rarer Slurm word is cut at this width.
QUEUE_STATE_WORDS = (
    "queued", "starting", "running", "done", "failed", "cancelled", "lost",
    "interrupted", "pending", "configuring", "completing", "suspended", "requeued",
    "resizing", "signaling", "stage_out", "stopped", "active", "paused", "finished",
)  # fmt: skip
QUEUE_STATE_WIDTH = max(map(len, QUEUE_STATE_WORDS))


def state_cell(state: str, backend_state: str) -> str:
    """Our state, or Slurm's own word while Slurm has the job (pending, completing)."""
    if backend_state and state in OPEN_STATES:
        return backend_state.lower()
    return state


# -- rows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue: a trial of the chosen study, or a plain job."""

    key: str  # "t<trial id>" or "j<job id>": the table's row key
    number: str
    state: str
    params: str  # a trial's parameters, a plain job's name or command (and reason)
    where: str
    gpus: str
    time: str
    value: str  # the value, or why there is none (failure, Slurm's pending reason)
    job_id: int | None
    trial_id: int | None = None

    def cells(self) -> tuple[str, ...]:
        return (self.number, self.state, self.params, self.where, self.gpus, self.time, self.value)


@dataclass(frozen=True)
class BoardRow:
    """One line of the leaderboard: finished trials, best first."""

    rank: str
    number: str
    value: str
    params: str

    def cells(self) -> tuple[str, ...]:
        return (self.rank, self.number, self.value, self.params)


@dataclass(frozen=True)
class ClusterRow:
    """One of the user's Slurm jobs as ``squeue --me`` lists it."""

    job: SlurmJob  # the raw line: its id is what scancel gets
    job_id: int | None  # the waitwise job it is, if any

    def cells(self) -> tuple[str, ...]:
        j = self.job
        return (
            j.job_id,
            j.state.lower(),
            j.reason if j.state == "PENDING" else "",
            j.elapsed,
            j.nodes,
            str(j.gpus or ""),
            j.name,
            "" if self.job_id is None else str(self.job_id),
        )


@dataclass(frozen=True)
class ClusterView:
    """The cluster table: rows (running, pending, then ended), or why Slurm didn't answer."""

    rows: tuple[ClusterRow, ...] | None = None  # None: squeue failed (see error)
    error: str = ""
    running: int = 0
    pending: int = 0


@dataclass(frozen=True)
class StudyStatus:
    """The status line's numbers for a study."""

    state: str
    ended: int
    max_trials: int
    running: int
    parallel: int
    best_value: str | None = None
    best_number: int | None = None


@dataclass(frozen=True)
class JobsStatus:
    """The status line's numbers for the plain-jobs list."""

    total: int
    active: int


@dataclass(frozen=True)
class StudyChoice:
    id: int
    name: str


@dataclass(frozen=True)
class TunerSnapshot:
    """Everything the tab shows, read in one go."""

    studies: tuple[StudyChoice, ...] = ()
    selected: int | None = None  # the study id read (or JOBS); None: no study yet
    study: Study | None = None
    trials: tuple[Trial, ...] = ()
    queue: tuple[QueueRow, ...] = ()
    board: tuple[BoardRow, ...] = ()
    status: StudyStatus | JobsStatus | None = None
    problems: tuple[str, ...] = ()  # backends that failed to answer
    cluster: ClusterView | None = None  # None: not asked (the cluster view isn't shown)
    now: float = 0.0

    def trial(self, trial_id: int) -> Trial | None:
        return next((t for t in self.trials if t.id == trial_id), None)

    def plot_points(self) -> list[tuple[int, dict[str, Any], float]]:
        """(number, params, value) of the trials with a value, in order."""
        return [(t.number, t.params, t.value) for t in self.trials if t.value is not None]


# -- reading ----------------------------------------------------------------------------


def read_snapshot(
    service: TunerService,
    selected: int | None,
    *,
    now: float,
    cluster: bool = False,
) -> TunerSnapshot:
    """The snapshot of ``selected`` (a study id, ``JOBS``, or None for the newest study).

    With ``cluster`` Slurm is asked for the user's jobs too (at most every
    ``poll_seconds``, through the Slurm backend's queue).
    """
    studies = list_studies(service.conn)
    chosen = selected
    if chosen is None and studies:
        chosen = studies[-1].id
    study = next((s for s in studies if s.id == chosen), None)
    trials = list_trials(service.conn, study.id) if study else []
    jobs: list[Job] = []
    if chosen == JOBS:
        in_trials = {t.job_id for s in studies for t in list_trials(service.conn, s.id)}
        jobs = [j for j in service.backend.store.list() if j.id not in in_trials]
    cluster_view: ClusterView | None = None
    if cluster:
        ours = {j.backend_id: j.id for j in service.backend.store.list() if j.backend_id}
        slurm = service.backend.backend("slurm")
        assert isinstance(slurm, SlurmBackend)
        cluster_view = read_cluster(slurm.queue, ours)
    status: StudyStatus | JobsStatus | None
    if chosen == JOBS:
        status = JobsStatus(len(jobs), sum(1 for j in jobs if j.active))
        queue = tuple(_job_row(job, now) for job in jobs)
    else:
        status = _study_status(study, trials) if study is not None else None
        queue = tuple(_trial_row(trial, now) for trial in trials)
    return TunerSnapshot(
        studies=tuple(StudyChoice(s.id, s.name) for s in studies),
        selected=chosen,
        study=study,
        trials=tuple(trials),
        queue=queue,
        board=_board(study, trials) if chosen != JOBS else (),
        status=status,
        problems=tuple(service.backend.problems()),
        cluster=cluster_view,
        now=now,
    )


def cluster_snapshot(queue: SlurmQueue, *, now: float) -> TunerSnapshot:
    """No workspace database yet: the cluster view still shows the user's jobs."""
    return TunerSnapshot(cluster=read_cluster(queue, {}), now=now)


def read_cluster(queue: SlurmQueue, ours: dict[str, int]) -> ClusterView:
    """The user's Slurm jobs, ``ours`` mapping Slurm ids to waitwise job ids."""
    try:
        jobs = queue.recent()
    except SlurmError as exc:
        return ClusterView(error=str(exc))
    rows: dict[str, ClusterRow] = {}
    for job in sorted(jobs, key=_cluster_order):
        # squeue listed an id twice: show it once
        rows.setdefault(job.job_id, ClusterRow(job, ours.get(job.job_id)))
    return ClusterView(
        rows=tuple(rows.values()),
        running=sum(1 for j in jobs if j.state == "RUNNING"),
        pending=sum(1 for j in jobs if j.state == "PENDING"),
    )


def _cluster_order(job: SlurmJob) -> tuple[int, int]:
    """Running, then pending, then ended jobs; newest first within each."""
    rank = {"RUNNING": 0, "PENDING": 1}.get(job.state, 2)
    return rank, -int(job.job_id) if job.job_id.isdigit() else 0


def _elapsed(started: float | None, finished: float | None, now: float) -> str:
    end = finished if finished is not None else now
    return fmt.duration(end - started if started else None, missing="")


def _job_row(job: Job, now: float) -> QueueRow:
    reason = f" ({job.reason})" if job.reason else ""
    return QueueRow(
        key=f"j{job.id}",
        number=str(job.id),
        state=state_cell(job.state, job.backend_state),
        params=(job.name or " ".join(job.argv)) + reason,
        where=where_cell(job.backend, job.backend_id),
        gpus=job.gpus or "-",
        time=_elapsed(job.started, job.finished, now),
        value="" if job.exit_code is None else f"exit {job.exit_code}",
        job_id=job.id,
    )


def _trial_row(trial: Trial, now: float) -> QueueRow:
    if trial.value is not None:
        value = format_value(trial.value)
    elif trial.state in OPEN_STATES and trial.backend == "slurm":
        value = trial.job_reason  # Slurm's pending reason, a failed submission
    else:
        value = trial.reason
    return QueueRow(
        key=f"t{trial.id}",
        number=str(trial.number),
        state=state_cell(trial.state, trial.backend_state),
        params=format_params(trial.params),
        where=where_cell(trial.backend, trial.backend_id),
        gpus=trial.gpus or "-",
        time=_elapsed(trial.started, trial.finished, now),
        value=value,
        job_id=trial.job_id,
        trial_id=trial.id,
    )


def _board(study: Study | None, trials: list[Trial]) -> tuple[BoardRow, ...]:
    if study is None:
        return ()
    done = [t for t in trials if t.state == DONE and t.value is not None]
    sign = 1.0 if study.spec.direction == "minimize" else -1.0
    done.sort(key=lambda t: (sign * (t.value or 0.0), t.number))
    return tuple(
        BoardRow(str(rank), str(t.number), format_value(t.value), format_params(t.params))
        for rank, t in enumerate(done, start=1)
    )


def _study_status(study: Study, trials: list[Trial]) -> StudyStatus:
    best = best_trial(study, trials)
    return StudyStatus(
        state=study.state,
        ended=sum(1 for t in trials if t.state not in OPEN_STATES),
        max_trials=study.spec.max_trials,
        running=sum(1 for t in trials if t.state == "running"),
        parallel=study.spec.parallel,
        best_value=None if best is None else format_value(best.value),
        best_number=None if best is None else best.number,
    )


# -- job logs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class JobLog:
    """The last lines of a job's output (raw text: escape it where it is shown)."""

    job_id: int
    lines: tuple[str, ...]

    @property
    def label(self) -> str:
        """Where the output is, relative to the workspace."""
        return f".waitwise/jobs/{self.job_id}/stdout.log"


def job_log_path(workspace: Workspace, job_id: int) -> Path:
    return workspace.jobs_dir / str(job_id) / "stdout.log"


def read_job_log(
    workspace: Workspace,
    job_id: int,
    *,
    max_bytes: int = LOG_TAIL_BYTES,
    max_lines: int = LOG_LINES,
) -> JobLog:
    """The last ``max_lines`` lines in the last ``max_bytes`` of the job's output.

    A job with no output file yet has no lines; bytes that are not UTF-8 read as U+FFFD.
    """
    try:
        with open(job_log_path(workspace, job_id), "rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            data = handle.read()
    except OSError:
        data = b""
    lines = data.decode("utf-8", errors="replace").splitlines()[-max_lines:]
    return JobLog(job_id, tuple(lines))
