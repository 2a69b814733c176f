"""The Tuner tab's commands, decided here: poll, open a study, change it, cancel, retry.

Each function runs on a worker thread and takes the ``WorkspaceTuner`` (which holds
the lock for the whole command). Commands answer with an ``Outcome``: whether it was
done and the one line to tell the user, so the tab only shows it.

Cancelling a row of the Slurm cluster view decides between two paths: a job waitwise
started and that is still active is cancelled through its backend (the job's row
records why it ended); any other id (someone else's job, one started by hand) is
``scancel``-ed as it is. A job Slurm already lists as ended is refused before asking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from waitwise_tui.core.events import Event
from waitwise_tui.core.jobs.slurm import SlurmBackend, cancel_slurm_job
from waitwise_tui.core.jobs.slurm_cli import SlurmError, SlurmJob
from waitwise_tui.core.text import display
from waitwise_tui.core.tuner.readmodel import TunerSnapshot, cluster_snapshot, read_snapshot
from waitwise_tui.core.tuner.service import (
    ACTIVE,
    PAUSED,
    Study,
    Trial,
    WorkspaceTuner,
    open_study,
    update_study,
)
from waitwise_tui.core.tuner.space import load_study_file

Severity = Literal["information", "warning", "error"]

# Slurm states in which scancel still has something to stop.
LIVE_SLURM_STATES = ("pending", "running", "suspended", "requeued", "configuring")


@dataclass(frozen=True)
class Outcome:
    """What a command did, as the one line the user is told."""

    ok: bool
    message: str  # plain text (outside text in it is already escaped)
    severity: Severity = "information"


@dataclass(frozen=True)
class Polled:
    """One runner round: the snapshot to show and the events it produced."""

    snapshot: TunerSnapshot | None = None  # None: no database and nothing else to show
    events: list[Event] = field(default_factory=list)


def poll(tuner: WorkspaceTuner, selected: int | None, *, cluster: bool) -> Polled:
    """Tick the runner and read what the tab shows (nothing when there's no database,
    unless the cluster view wants the user's Slurm jobs)."""
    with tuner.use() as service:
        if service is not None:
            events = service.tick()
            return Polled(
                read_snapshot(service, selected, now=tuner.clock(), cluster=cluster), events
            )
        if cluster:
            return Polled(cluster_snapshot(tuner.slurm_queue(), now=tuner.clock()))
    return Polled()


def open_study_file(tuner: WorkspaceTuner, answer: str, *, fork: bool) -> Study:
    """Create or resume the study of a file (relative to the workspace).

    Raises ``StudyFileError`` (an unreadable or invalid file) and ``StudyChanged``
    (its parameter space changed: ask, then call again with ``fork``).
    """
    path = Path(answer).expanduser()
    if not path.is_absolute():
        path = tuner.workspace.root / path
    spec = load_study_file(path)
    with tuner.use(create=True) as service:
        assert service is not None
        return open_study(service.conn, spec, answer, fork=fork)


def change_study(tuner: WorkspaceTuner, study_id: int, **changes: Any) -> None:
    """Pause/resume a study or change its limits (``update_study``); no database, no-op."""
    with tuner.use() as service:
        if service is not None:
            update_study(service.conn, study_id, **changes)


def toggled_state(study: Study) -> str | None:
    """The state pausing or resuming moves ``study`` to; None once it has finished."""
    return {ACTIVE: PAUSED, PAUSED: ACTIVE}.get(study.state)


def launch_target(study: Study, trial_count: int, more: int) -> int:
    """The ``max_trials`` that launches ``more`` trials (a finished study's budget is used
    up: it grows from what the study has)."""
    return max(study.spec.max_trials, trial_count) + more


def parse_count(answer: str) -> int | None:
    """A positive whole number typed by the user, or None."""
    try:
        count = int(answer)
    except ValueError:
        return None
    return count if count >= 1 else None


def _label(trial: Trial | None, job_id: int) -> str:
    return f"trial {trial.number}" if trial else f"job {job_id}"


def cancel(tuner: WorkspaceTuner, job_id: int, trial: Trial | None = None) -> Outcome | None:
    """Cancel a trial's job or a plain job; None when there is no database."""
    with tuner.use() as service:
        if service is None:
            return None
        try:
            ok = service.backend.cancel(job_id, "cancelled")
        except SlurmError as exc:
            return Outcome(False, f"not cancelled: {display(str(exc))}", "error")
    return _done("cancel", ok, _label(trial, job_id))


def retry(tuner: WorkspaceTuner, job_id: int, trial: Trial | None = None) -> Outcome | None:
    """Run an ended trial (its study reopens) or plain job again; None without a database."""
    with tuner.use() as service:
        if service is None:
            return None
        ok = service.retry_trial(trial) if trial is not None else service.backend.retry(job_id)
    return _done("retry", ok, _label(trial, job_id))


def _done(what: str, ok: bool, label: str) -> Outcome:
    if ok:
        return Outcome(True, f"{what}: {label}")
    return Outcome(False, f"cannot {what} {label} in its current state", "warning")


def cluster_refusal(job: SlurmJob) -> str | None:
    """Why a job of the cluster view can't be cancelled (it already ended), or None."""
    state = job.state.lower()
    if state in LIVE_SLURM_STATES:
        return None
    shown_id, shown_state = display(job.job_id, limit=40), display(state, limit=40)
    return f"Slurm job {shown_id} already ended ({shown_state})"


def cancel_cluster_job(tuner: WorkspaceTuner, slurm_id: str) -> Outcome:
    """Cancel a job of the cluster view: through its backend when waitwise runs it and
    it is active, else ``scancel`` the id as it is (someone else's job, a finished one
    of ours that Slurm still lists)."""
    try:
        with tuner.use() as service:
            ours = None
            if service is not None:
                ours = next(
                    (j for j in service.backend.store.list() if j.backend_id == slurm_id), None
                )
            if service is not None and ours is not None and ours.active:
                service.backend.cancel(ours.id, "cancelled")
            else:
                cancel_slurm_job(slurm_id, timeout=_slurm_timeout(tuner, service))
    except SlurmError as exc:
        return Outcome(False, f"not cancelled: {display(str(exc))}", "error")
    return Outcome(True, f"Slurm job {display(slurm_id, limit=40)} cancelled")


def _slurm_timeout(tuner: WorkspaceTuner, service: Any) -> float:
    if service is not None:
        slurm = service.backend.backend("slurm")
        if isinstance(slurm, SlurmBackend):
            return slurm.config.command_timeout
    return tuner.slurm_queue().config.command_timeout
