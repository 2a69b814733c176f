"""The tuner: studies and trials in the workspace database, hyperopt ask/tell, the runner loop.

There is no blocking ``fmin``: each ask rebuilds a ``hyperopt.Trials`` from the
``trials`` table (finished trials with their loss, pending ones as running, failed ones
as errors) and calls the study's suggester for one new id. Every proposal is written
as a queued trial before the next ask, so parallel proposals differ, and the seed of
trial *k* is derived from the study seed and *k*, so a study resumed from the database
proposes what an uninterrupted run would have. hyperopt is imported only in ``ask``.

``TunerService.tick`` is the whole runner: poll the job backend, turn ended jobs into
finished trials (reading their results), and top each active study up to its parallel
limit. The CLI calls it in a loop; the tab's poller calls it through ``WorkspaceTuner``,
the one owner of the workspace's runner and of the lock around its database connection.
"""

from __future__ import annotations

import importlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from waitwise_tui.core.db import connect
from waitwise_tui.core.events import JOB_FINISHED, TRIAL_FINISHED, Event
from waitwise_tui.core.jobs import model as job_model
from waitwise_tui.core.jobs.backend import JobRunner
from waitwise_tui.core.jobs.local import GpuProbe, LocalBackend
from waitwise_tui.core.jobs.result import read_result
from waitwise_tui.core.jobs.store import transaction
from waitwise_tui.core.tuner.space import StudySpec, render_command, values_to_params
from waitwise_tui.core.workspace import Workspace

if TYPE_CHECKING:
    from waitwise_tui.core.jobs.slurm import SlurmQueue

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"
LOST = "lost"
OPEN_STATES = (QUEUED, RUNNING)

ACTIVE = "active"
PAUSED = "paused"
FINISHED = "finished"

# A proposal with no job after this long lost its runner between the two writes.
_ORPHAN_SECONDS = 10.0

_ALGORITHMS = {"tpe": "hyperopt.tpe", "random": "hyperopt.rand", "anneal": "hyperopt.anneal"}


class StudyChanged(ValueError):
    """The study file's parameter space differs from the one the study started with."""


@dataclass(frozen=True)
class Study:
    id: int
    name: str
    path: str
    spec: StudySpec
    state: str
    space_hash: str


@dataclass(frozen=True)
class Trial:
    id: int
    study_id: int
    number: int
    state: str
    params: dict[str, Any]
    value: float | None
    reason: str
    job_id: int | None
    attempts: int
    gpus: str
    started: float | None
    finished: float | None
    backend: str = "local"
    backend_id: str | None = None  # the Slurm job id
    backend_state: str = ""  # Slurm's PENDING, RUNNING, ...
    job_reason: str = ""  # the job's own reason (Slurm's pending reason, a retry)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.number,
            "state": self.state,
            "params": self.params,
            "value": self.value,
            "job_id": self.job_id,
            "attempts": self.attempts,
            "reason": self.reason,
            "backend": self.backend,
            "backend_id": self.backend_id,
        }


def trial_seed(study_seed: int, number: int) -> int:
    return (study_seed * 1_000_003 + number * 7_919 + 1) % (2**31 - 1)


# -- studies -------------------------------------------------------------------------


def _study_from_row(row: sqlite3.Row) -> Study:
    return Study(
        id=row["id"],
        name=row["name"],
        path=row["path"],
        spec=StudySpec.from_json(row["spec"]),
        state=row["state"],
        space_hash=row["space_hash"],
    )


def list_studies(conn: sqlite3.Connection) -> list[Study]:
    return [_study_from_row(r) for r in conn.execute("SELECT * FROM studies ORDER BY id")]


def get_study(conn: sqlite3.Connection, study_id: int) -> Study | None:
    row = conn.execute("SELECT * FROM studies WHERE id = ?", (study_id,)).fetchone()
    return _study_from_row(row) if row else None


def find_study(conn: sqlite3.Connection, name: str) -> Study | None:
    row = conn.execute("SELECT * FROM studies WHERE name = ?", (name,)).fetchone()
    return _study_from_row(row) if row else None


def open_study(
    conn: sqlite3.Connection, spec: StudySpec, path: str, *, fork: bool = False
) -> Study:
    """Create the study or resume it; a changed space is refused (or forked on request)."""
    with transaction(conn):
        existing = find_study(conn, spec.name)
        if existing is not None and existing.space_hash != spec.space_hash:
            if not fork:
                raise StudyChanged(
                    f"study {spec.name!r} was started with a different parameter space; "
                    "use --fork to start it as a new study, or rename it"
                )
            taken = {s.name for s in list_studies(conn)}
            number = 2
            while f"{spec.name}-{number}" in taken:
                number += 1
            spec = replace(spec, name=f"{spec.name}-{number}")
            existing = None
        if existing is None:
            cur = conn.execute(
                "INSERT INTO studies (name, path, space_hash, spec, state, created)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (spec.name, path, spec.space_hash, spec.to_json(), ACTIVE, time.time()),
            )
            study_id = int(cur.lastrowid or 0)
        else:
            study_id = existing.id
            conn.execute(
                "UPDATE studies SET path = ?, spec = ?, state = ? WHERE id = ?",
                (path, spec.to_json(), ACTIVE, study_id),
            )
    study = get_study(conn, study_id)
    assert study is not None
    return study


def update_study(
    conn: sqlite3.Connection,
    study_id: int,
    *,
    state: str | None = None,
    parallel: int | None = None,
    max_trials: int | None = None,
) -> Study | None:
    """Pause/resume a study or change its limits; takes effect on the next tick."""
    with transaction(conn):
        study = get_study(conn, study_id)
        if study is None:
            return None
        spec = study.spec
        if parallel is not None:
            spec = replace(spec, parallel=max(1, parallel))
        if max_trials is not None:
            spec = replace(spec, max_trials=max(1, max_trials))
        conn.execute(
            "UPDATE studies SET spec = ?, state = ? WHERE id = ?",
            (spec.to_json(), state or study.state, study_id),
        )
    return get_study(conn, study_id)


# -- trials --------------------------------------------------------------------------

_TRIAL_QUERY = """
    SELECT t.*, j.attempts AS attempts, j.gpus AS gpus, j.started AS job_started,
           j.finished AS job_finished, j.backend AS backend, j.backend_id AS backend_id,
           j.backend_state AS backend_state, j.reason AS job_reason
    FROM trials t LEFT JOIN jobs j ON j.id = t.job_id
"""


def _trial_from_row(row: sqlite3.Row) -> Trial:
    return Trial(
        id=row["id"],
        study_id=row["study_id"],
        number=row["number"],
        state=row["state"],
        params=json.loads(row["params"]),
        value=row["value"],
        reason=row["reason"],
        job_id=row["job_id"],
        attempts=row["attempts"] or 0,
        gpus=row["gpus"] or "",
        started=row["job_started"],
        finished=row["finished"] if row["finished"] is not None else row["job_finished"],
        backend=row["backend"] or "local",
        backend_id=row["backend_id"],
        backend_state=row["backend_state"] or "",
        job_reason=row["job_reason"] or "",
    )


def list_trials(conn: sqlite3.Connection, study_id: int) -> list[Trial]:
    rows = conn.execute(_TRIAL_QUERY + " WHERE t.study_id = ? ORDER BY t.number", (study_id,))
    return [_trial_from_row(r) for r in rows]


def best_trial(study: Study, trials: list[Trial]) -> Trial | None:
    done = [t for t in trials if t.state == DONE and t.value is not None]
    if not done:
        return None
    sign = 1.0 if study.spec.direction == "minimize" else -1.0
    return min(done, key=lambda t: (sign * (t.value or 0.0), t.number))


def ask(
    conn: sqlite3.Connection, study: Study, n: int = 1, *, within_limits: bool = False
) -> list[Trial]:
    """Propose ``n`` trials and store them as queued (each before the next is asked).

    With ``within_limits`` it stops early when the study's ``parallel`` or
    ``max_trials`` is reached, checked inside the same transaction, so two runners
    driving one study cannot overshoot together.
    """
    from hyperopt import JOB_STATE_DONE, JOB_STATE_ERROR, JOB_STATE_RUNNING, Domain, Trials
    from hyperopt.base import STATUS_FAIL, STATUS_OK, STATUS_RUNNING

    from waitwise_tui.core.tuner.space import hyperopt_space

    spec = study.spec
    suggest = importlib.import_module(_ALGORITHMS[spec.algorithm]).suggest
    domain = Domain(lambda _params: 0.0, hyperopt_space(spec.params))
    sign = 1.0 if spec.direction == "minimize" else -1.0
    labels = [p.name for p in spec.params]
    created: list[int] = []
    for _ in range(n):
        with transaction(conn):
            rows = conn.execute(
                "SELECT number, state, hyperopt_vals, value FROM trials"
                " WHERE study_id = ? ORDER BY number",
                (study.id,),
            ).fetchall()
            trials = Trials()
            docs = []
            for row in rows:
                tid = row["number"]
                vals = json.loads(row["hyperopt_vals"])
                misc = {
                    "tid": tid,
                    "cmd": domain.cmd,
                    "workdir": None,
                    "idxs": {label: [tid] for label in labels},
                    "vals": {label: [vals[label]] for label in labels},
                }
                if row["state"] == DONE and row["value"] is not None:
                    result, state = (
                        {"status": STATUS_OK, "loss": sign * row["value"]},
                        JOB_STATE_DONE,
                    )
                elif row["state"] in OPEN_STATES:
                    result, state = {"status": STATUS_RUNNING}, JOB_STATE_RUNNING
                else:
                    result, state = {"status": STATUS_FAIL}, JOB_STATE_ERROR
                (doc,) = trials.new_trial_docs([tid], [None], [result], [misc])
                doc["state"] = state
                docs.append(doc)
            trials.insert_trial_docs(docs)
            trials.refresh()
            number = len(rows)
            if within_limits:
                current = get_study(conn, study.id)
                limits = current.spec if current else spec
                open_count = sum(1 for row in rows if row["state"] in OPEN_STATES)
                if open_count >= limits.parallel or number >= limits.max_trials:
                    break
            (new_doc,) = suggest([number], domain, trials, trial_seed(spec.seed, number))
            raw = {label: float(new_doc["misc"]["vals"][label][0]) for label in labels}
            params = values_to_params(spec.params, raw)
            cur = conn.execute(
                "INSERT INTO trials (study_id, number, state, params, hyperopt_vals, created)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (study.id, number, QUEUED, json.dumps(params), json.dumps(raw), time.time()),
            )
            created.append(int(cur.lastrowid or 0))
    return [t for t in list_trials(conn, study.id) if t.id in created]


def finish_trial(
    conn: sqlite3.Connection, trial_id: int, state: str, value: float | None, reason: str
) -> bool:
    """Record a trial's end (``tell``); False if it had already ended."""
    cur = conn.execute(
        f"UPDATE trials SET state = ?, value = ?, reason = ?, finished = ?"
        f" WHERE id = ? AND state IN ({','.join('?' * len(OPEN_STATES))})",
        (state, value, reason, time.time(), trial_id, *OPEN_STATES),
    )
    return cur.rowcount == 1


# -- the runner ------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


class TunerService:
    """Drives every active study of a workspace and the plain jobs beside them."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        backend: JobRunner,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.conn = conn
        self.backend = backend
        self.clock = clock

    def tick(self, study_ids: list[int] | None = None) -> list[Event]:
        """One round; returns the events (finished jobs and trials) it produced."""
        ended = self.backend.poll()
        trial_jobs = {
            row[0]
            for row in self.conn.execute("SELECT job_id FROM trials WHERE job_id IS NOT NULL")
        }
        events = [self._job_event(job) for job in ended if job.id not in trial_jobs]
        events.extend(self._collect_trials())
        for study in list_studies(self.conn):
            if study_ids is not None and study.id not in study_ids:
                continue
            if study.state != FINISHED:
                self._resubmit_orphans(study)
            if study.state == ACTIVE:
                self._top_up(study)
        return events

    def _job_event(self, job: job_model.Job) -> Event:
        what = job.name or " ".join(job.argv)[:60]
        message = f"job {job.id} {job.state}: {what}"
        if job.reason:
            message += f" ({job.reason})"
        return Event(
            kind=JOB_FINISHED,
            source="tuner",
            message=message,
            data={"job_id": job.id, "state": job.state, "reason": job.reason, "argv": job.argv},
        )

    def _collect_trials(self) -> list[Event]:
        events: list[Event] = []
        rows = self.conn.execute(
            "SELECT t.id, t.study_id, t.number, t.state, t.params, j.id AS job_id,"
            " j.state AS job_state, j.reason AS job_reason"
            " FROM trials t JOIN jobs j ON j.id = t.job_id WHERE t.state IN (?, ?)",
            OPEN_STATES,
        ).fetchall()
        studies = {s.id: s for s in list_studies(self.conn)}
        for row in rows:
            job_state = row["job_state"]
            if job_state == job_model.RUNNING and row["state"] == QUEUED:
                self.conn.execute(
                    "UPDATE trials SET state = ? WHERE id = ? AND state = ?",
                    (RUNNING, row["id"], QUEUED),
                )
                continue
            if job_state in job_model.ACTIVE_STATES:
                if job_state == job_model.QUEUED and row["state"] == RUNNING:
                    # The job is being retried after an infrastructure failure.
                    self.conn.execute(
                        "UPDATE trials SET state = ? WHERE id = ?", (QUEUED, row["id"])
                    )
                continue
            study = studies[row["study_id"]]
            value: float | None = None
            reason = row["job_reason"]
            if job_state == job_model.DONE:
                result = read_result(self.backend.jobdir(row["job_id"]), study.spec.metric)
                value, reason = result.value, result.reason
                state = DONE if result.ok else FAILED
            elif job_state == job_model.CANCELLED:
                state = CANCELLED
            elif job_state == job_model.LOST:
                state = LOST
            else:
                state = FAILED
            if not finish_trial(self.conn, row["id"], state, value, reason):
                continue
            params = json.loads(row["params"])
            shown = " ".join(f"{k}={_fmt(v)}" for k, v in params.items())
            outcome = (
                f"{study.spec.metric}={_fmt(value)}" if value is not None else f"{state}: {reason}"
            )
            events.append(
                Event(
                    kind=TRIAL_FINISHED,
                    source="tuner",
                    message=f"{study.name} trial {row['number']} {outcome} ({shown})",
                    data={
                        "study": study.name,
                        "trial": row["number"],
                        "state": state,
                        "value": value,
                        "reason": reason,
                        "params": params,
                        "job_id": row["job_id"],
                    },
                )
            )
        return events

    def _top_up(self, study: Study) -> None:
        spec = study.spec
        counts = dict(
            self.conn.execute(
                "SELECT state, COUNT(*) FROM trials WHERE study_id = ? GROUP BY state",
                (study.id,),
            ).fetchall()
        )
        open_count = sum(counts.get(s, 0) for s in OPEN_STATES)
        total = sum(counts.values())
        room = min(spec.parallel - open_count, spec.max_trials - total)
        if room <= 0:
            if open_count == 0 and total >= spec.max_trials:
                self.conn.execute(
                    "UPDATE studies SET state = ? WHERE id = ? AND state = ?",
                    (FINISHED, study.id, ACTIVE),
                )
            return
        for trial in ask(self.conn, study, room, within_limits=True):
            self._submit(study, trial)

    def _resubmit_orphans(self, study: Study) -> None:
        # A runner that died between storing a proposal and queueing its job leaves a
        # queued trial without a job; after a grace period it is given one.
        stale = time.time() - _ORPHAN_SECONDS
        rows = self.conn.execute(
            "SELECT id FROM trials WHERE study_id = ? AND state = ? AND job_id IS NULL"
            " AND created < ?",
            (study.id, QUEUED, stale),
        ).fetchall()
        if rows:
            ids = {row[0] for row in rows}
            for trial in list_trials(self.conn, study.id):
                if trial.id in ids:
                    self._submit(study, trial)

    def _submit(self, study: Study, trial: Trial) -> None:
        spec = study.spec
        job = self.backend.submit(
            render_command(spec.command, trial.params),
            workdir=spec.workdir,
            name=f"{study.name}#{trial.number}",
            gpus=spec.gpus_per_trial,
            max_attempts=spec.max_attempts,
            timeout_seconds=spec.timeout_minutes * 60.0,
            backend=spec.backend,
            options=dict(spec.slurm) if spec.backend == "slurm" else None,
            start=False,
        )
        cur = self.conn.execute(
            "UPDATE trials SET job_id = ? WHERE id = ? AND job_id IS NULL", (job.id, trial.id)
        )
        if cur.rowcount != 1:  # another runner queued it first
            self.backend.cancel(job.id, "duplicate")
            return
        # Started only now, so the trial row already points at the job when it runs.
        self.backend.poll()

    def cancel_trial(self, trial: Trial) -> bool:
        return trial.job_id is not None and self.backend.cancel(trial.job_id, "cancelled")

    def retry_trial(self, trial: Trial) -> bool:
        """Run an ended trial's job again (same parameters); the trial reopens."""
        if trial.job_id is None or trial.state in OPEN_STATES:
            return False
        if not self.backend.retry(trial.job_id):
            return False
        self.conn.execute(
            "UPDATE trials SET state = ?, value = NULL, reason = '', finished = NULL WHERE id = ?",
            (QUEUED, trial.id),
        )
        self.conn.execute(
            "UPDATE studies SET state = ? WHERE id = ? AND state = ?",
            (ACTIVE, trial.study_id, FINISHED),
        )
        return True


def study_summary(conn: sqlite3.Connection, study: Study) -> dict[str, Any]:
    """The JSON shape of ``tune status``."""
    trials = list_trials(conn, study.id)
    best = best_trial(study, trials)
    return {
        "name": study.name,
        "metric": study.spec.metric,
        "direction": study.spec.direction,
        "state": study.state,
        "trials": [t.to_dict() for t in trials],
        "best": None
        if best is None
        else {"id": best.number, "params": best.params, "value": best.value},
    }


@dataclass(frozen=True)
class RunnerOptions:
    """What the job runner takes from the user's settings (``Settings.runner_options``)."""

    free_memory_mib: int = 1024  # a GPU with at least this much free memory...
    free_util_percent: int = 10  # ...and at most this utilisation counts as free
    slurm: dict[str, Any] = field(default_factory=dict)  # the [slurm] table


def open_service(
    workspace: Workspace,
    options: RunnerOptions | None = None,
    *,
    gpu_probe: GpuProbe | None = None,
    grace_seconds: float = 5.0,
    clock: Callable[[], float] = time.time,
) -> TunerService:
    """The runner of ``workspace`` (creates ``.waitwise/`` and the database)."""
    options = options or RunnerOptions()
    workspace.ensure()
    conn = connect(workspace.db_path)
    from waitwise_tui.core.jobs.slurm import SlurmBackend, SlurmConfig

    local = LocalBackend(
        workspace,
        conn,
        gpu_probe=gpu_probe,
        free_memory_mib=options.free_memory_mib,
        free_util_percent=options.free_util_percent,
        grace_seconds=grace_seconds,
        clock=clock,
    )
    slurm_config, _problems = SlurmConfig.from_table(options.slurm)
    slurm = SlurmBackend(workspace, conn, config=slurm_config, clock=clock)
    runner = JobRunner(local.store, {"local": local, "slurm": slurm})
    return TunerService(conn, runner, clock=clock)


class WorkspaceTuner:
    """A workspace's runner for a long-lived caller (the TUI): one owner, one lock.

    The database is opened on first use (only created when asked: a workspace with
    no ``.waitwise/`` stays untouched until a study is opened) and its connection is
    used by one thread at a time: every use holds the lock, from the runner's tick to
    a command like cancel. Jobs are detached, so ``close`` only closes the database.
    """

    def __init__(
        self,
        workspace: Workspace,
        options: RunnerOptions | None = None,
        *,
        gpu_probe: GpuProbe | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.workspace = workspace
        self.options = options or RunnerOptions()
        self.clock = clock
        self._gpu_probe = gpu_probe
        self._lock = threading.Lock()
        self._service: TunerService | None = None
        self._queue: SlurmQueue | None = None

    @contextmanager
    def use(self, *, create: bool = False) -> Iterator[TunerService | None]:
        """The service, locked for the block; None while there is no database and
        ``create`` is false."""
        with self._lock:
            if self._service is None and (create or self.workspace.db_path.exists()):
                self._service = open_service(
                    self.workspace, self.options, gpu_probe=self._gpu_probe, clock=self.clock
                )
            yield self._service

    def slurm_queue(self) -> SlurmQueue:
        """The user's Slurm jobs when there is no database (so no Slurm backend) yet."""
        from waitwise_tui.core.jobs.slurm import SlurmConfig, SlurmQueue

        if self._queue is None:
            config, _problems = SlurmConfig.from_table(self.options.slurm)
            self._queue = SlurmQueue(config)
        return self._queue

    def close(self) -> None:
        with self._lock:
            if self._service is not None:
                self._service.conn.close()
                self._service = None
