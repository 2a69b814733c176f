"""SlurmBackend: jobs submitted with ``sbatch``, watched with ``squeue``/``scontrol``,
stopped with ``scancel``. Slurm allocates the GPUs and sets ``CUDA_VISIBLE_DEVICES``.

The batch script is fixed (``exec "$@"``); the job's argv, wrapped in the shim, goes
to ``sbatch`` as positional arguments, never through a shell string. The workspace
must be on a filesystem the compute nodes share: the job writes its log,
``exit.json`` and result there, and ``exit.json`` is the final word on how it ended.

Job rows move like this: ``queued`` (no Slurm id: not submitted yet) -> ``starting``
(claimed; ``sbatch`` in flight) -> ``queued`` with a Slurm id (PENDING, with Slurm's
reason) -> ``running`` -> an end state. A failed submission puts the row back in the
queue with the reason and tries again later; a timed-out ``sbatch`` is looked up by
its unique job name before anything is submitted again, so nothing runs twice.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from waitwise_tui.core import text
from waitwise_tui.core.atomic import atomic_write_text
from waitwise_tui.core.jobs import model
from waitwise_tui.core.jobs.backend import BackendBase, read_json, resolve_argv, shim_argv
from waitwise_tui.core.jobs.model import Job
from waitwise_tui.core.jobs.slurm_cli import (
    ENDED_STATES,
    PENDING_STATES,
    SQUEUE_FORMAT,
    SlurmError,
    SlurmJob,
    gpu_indexes,
    parse_exit_code,
    parse_sbatch,
    parse_scontrol,
    parse_squeue,
    run_tool,
)
from waitwise_tui.core.workspace import Workspace

BATCH_SCRIPT = """#!/bin/sh
# waitwise-tui batch script: runs the job's argv exactly as sbatch was given it.
exec "$@"
"""

# Keys a study's [slurm] table or `jobs submit` may set per job.
JOB_OPTION_KEYS = ("partition", "account", "qos", "cpus_per_task", "mem", "extra_args", "after")


@dataclass(frozen=True)
class SlurmConfig:
    """The ``[slurm]`` table of ``settings.toml`` (site-wide choices)."""

    partition: str = ""
    account: str = ""
    qos: str = ""
    extra_args: tuple[str, ...] = ()
    poll_seconds: float = 5.0  # how often squeue is asked while jobs are in Slurm
    command_timeout: float = 30.0  # seconds before a Slurm command counts as hung
    retry_seconds: float = 30.0  # wait after a failed submission
    # The cluster view (core/jobs/gpus.py): how each job's GPUs are read on its nodes.
    gpu_transport: str = "srun"  # "srun" (an --overlap step) or "ssh" (BatchMode)
    gpu_watch_seconds: float = 5.0
    gpu_command: tuple[str, ...] = ("waitwise-tui",)  # this program, on the nodes
    # The time limit (core/jobs/timelimit.py): warn again this long before the end,
    # and (when time_limit_signal is set, e.g. "USR1") send the batch script that signal.
    time_limit_lead_minutes: float = 30.0
    time_limit_signal: str = ""

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> tuple[SlurmConfig, list[str]]:
        """Values from TOML; wrong keys or types give problems and keep the default."""
        problems: list[str] = []
        values: dict[str, Any] = {}
        known = {f.name for f in fields(cls)}
        for key, value in table.items():
            if key not in known:
                problems.append(f"unknown setting slurm.{key}")
            elif key == "extra_args":
                if isinstance(value, list) and all(isinstance(v, str) for v in value):
                    values[key] = tuple(value)
                else:
                    problems.append("setting slurm.extra_args must be a list of strings")
            elif key == "gpu_command":
                if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                    values[key] = tuple(value)
                else:
                    problems.append("setting slurm.gpu_command must be a non-empty list of strings")
            elif key == "gpu_transport":
                if value in ("srun", "ssh"):
                    values[key] = value
                else:
                    problems.append('setting slurm.gpu_transport must be "srun" or "ssh"')
            elif key == "time_limit_signal":
                if isinstance(value, str) and re.fullmatch(r"(SIG)?[A-Z0-9]{0,10}", value):
                    values[key] = value.removeprefix("SIG")
                else:
                    problems.append(
                        'setting slurm.time_limit_signal must be a signal name ("USR1")'
                    )
            elif key in ("partition", "account", "qos"):
                if isinstance(value, str):
                    values[key] = value
                else:
                    problems.append(f"setting slurm.{key} must be a string")
            elif isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                values[key] = float(value)
            else:
                problems.append(f"setting slurm.{key} must be a number above 0")
        return cls(**values), problems


def job_key(workspace: Workspace, job_id: int, attempt: int) -> str:
    """A key unique to this workspace, job and attempt, sent as the Slurm job's
    ``--comment`` so a submission whose answer was lost can be found again."""
    digest = hashlib.sha1(str(workspace.root).encode()).hexdigest()[:8]
    return f"waitwise:{digest}:{job_id}.{attempt}"


def slurm_job_name(job: Job) -> str:
    """What squeue shows: the job's label, or its command's name, in a safe alphabet
    (no ``%``, which Slurm would read as a pattern where ``%x`` is used)."""
    label = job.name or (Path(job.argv[0]).name if job.argv else "job")
    return f"ww-{text.slurm_job_name(label, limit=61)}"


class SlurmQueue:
    """The user's own Slurm jobs (``squeue --me``), asked at most every ``poll_seconds``."""

    def __init__(self, config: SlurmConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.jobs: list[SlurmJob] = []
        self.time = -math.inf

    def refresh(self) -> list[SlurmJob]:
        proc = run_tool(
            ["squeue", "--me", "--states=all", "-h", "-o", SQUEUE_FORMAT],
            timeout=self.config.command_timeout,
        )
        self.jobs = parse_squeue(proc.stdout)
        self.time = self.clock()
        return list(self.jobs)

    def recent(self) -> list[SlurmJob]:
        if self.clock() - self.time < self.config.poll_seconds:
            return list(self.jobs)
        return self.refresh()


class SlurmBackend(BackendBase):
    """Submit, watch and cancel a workspace's Slurm jobs."""

    name = "slurm"

    def __init__(
        self,
        workspace: Workspace,
        conn: sqlite3.Connection,
        *,
        config: SlurmConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(workspace, conn, clock=clock)
        self.queue = SlurmQueue(config or SlurmConfig(), clock)
        self._retry_at: dict[int, float] = {}
        self._last_watch = -math.inf

    # -- submitting ---------------------------------------------------------------

    def _check_options(self, options: dict[str, Any]) -> None:
        unknown = set(options) - set(JOB_OPTION_KEYS)
        if unknown:
            raise ValueError(f"unknown Slurm option(s): {', '.join(sorted(unknown))}")

    def _start(self, job: Job) -> None:
        self._try_submit(job)

    def batch_script(self) -> Path:
        """The fixed batch script (written once per workspace)."""
        path = self.workspace.state_dir / "slurm" / "batch.sh"
        try:
            current = path.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != BATCH_SCRIPT:
            atomic_write_text(path, BATCH_SCRIPT)
        path.chmod(0o755)
        return path

    def sbatch_argv(self, job: Job, attempt: int, dependency_ids: list[str]) -> list[str]:
        """The full ``sbatch`` command line for ``job`` (the job's argv last, as is)."""
        options = job.options
        config = self.config
        jobdir = self.jobdir(job.id)
        argv = [
            "sbatch",
            "--parsable",
            f"--job-name={slurm_job_name(job)}",
            f"--comment={job_key(self.workspace, job.id, attempt)}",
            f"--output={text.slurm_pattern(str(jobdir / 'stdout.log'))}",
            "--open-mode=append",
            f"--chdir={job.workdir}",  # not a pattern: Slurm takes it as it is
        ]
        if job.gpus_requested:
            argv.append(f"--gres=gpu:{job.gpus_requested}")
        if options.get("cpus_per_task"):
            argv.append(f"--cpus-per-task={int(options['cpus_per_task'])}")  # type: ignore[call-overload]
        if options.get("mem"):
            argv.append(f"--mem={options['mem']}")
        if job.timeout_seconds:
            argv.append(f"--time={max(1, math.ceil(job.timeout_seconds / 60))}")
        for key in ("partition", "account", "qos"):
            value = options.get(key) or getattr(config, key)
            if value:
                argv.append(f"--{key}={value}")
        if dependency_ids:
            argv.append(f"--dependency=afterok:{':'.join(dependency_ids)}")
        argv.extend(config.extra_args)
        argv.extend(str(a) for a in options.get("extra_args", ()) or ())  # type: ignore[union-attr]
        argv.append(str(self.batch_script()))
        argv.extend(shim_argv(jobdir, resolve_argv(job.argv)))
        return argv

    def _dependencies(self, job: Job) -> tuple[list[str], str, str]:
        """(Slurm ids ``job`` waits for, why it must wait, why it can never run)."""
        ids: list[str] = []
        for dep_id in job.options.get("after", ()) or ():  # type: ignore[union-attr]
            dep = self.store.get(int(dep_id))
            if dep is None:
                return [], "", f"dependency job {dep_id} does not exist"
            if dep.backend != self.name:
                return [], "", f"dependency job {dep_id} is not a Slurm job"
            if dep.backend_id is None:
                if dep.state in model.FINAL_STATES:
                    return [], "", f"dependency job {dep_id} ended {dep.state} outside Slurm"
                return [], f"waiting for job {dep_id} to reach Slurm", ""
            ids.append(dep.backend_id)
        return ids, "", ""

    def _try_submit(self, job: Job) -> bool:
        now = self.clock()
        if self._retry_at.get(job.id, -math.inf) > now:
            return False
        dependency_ids, wait, never = self._dependencies(job)
        if never:
            self.store.transition(job.id, model.QUEUED, model.FAILED, reason=never, finished=now)
            return True
        if wait:
            if job.reason != wait:
                self.store.update(job.id, reason=wait)
            return False
        attempt = job.attempts + 1
        if not self.store.transition(
            job.id,
            model.QUEUED,
            model.STARTING,
            started=None,
            attempts=attempt,
            gpus="",
            exit_code=None,
            reason="submitting to Slurm",
            cancel_requested=None,
            cancel_reason="",
            backend_id=None,
            backend_state="",
            node="",
        ):
            return False  # another runner claimed it
        if not os.path.isdir(job.workdir):
            self.store.transition(
                job.id,
                model.STARTING,
                model.FAILED,
                reason=f"cannot start: working directory {job.workdir} does not exist",
                finished=now,
            )
            return True
        self._prepare_jobdir(job, attempt)
        try:
            argv = self.sbatch_argv(job, attempt, dependency_ids)
        except ValueError as exc:  # a workspace path Slurm cannot hold literally
            self.store.transition(
                job.id, model.STARTING, model.FAILED, reason=f"cannot start: {exc}", finished=now
            )
            return True
        try:
            env = self._job_env(job)
            # Slurm sets CUDA_VISIBLE_DEVICES from the allocation; never leak ours.
            for key in ("CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER"):
                env.pop(key, None)
            proc = run_tool(argv, timeout=self.config.command_timeout, env=env)
            slurm_id = parse_sbatch(proc.stdout)
        except (SlurmError, OSError) as exc:
            return self._submission_failed(job, attempt, exc)
        self._retry_at.pop(job.id, None)
        self.problem = ""
        reason = "submitted"
        if job.reason.startswith("retrying: "):
            reason = f"submitted again after {job.reason.removeprefix('retrying: ')}"
        self.store.transition(
            job.id,
            model.STARTING,
            model.QUEUED,
            backend_id=slurm_id,
            backend_state="PENDING",
            reason=reason,
        )
        return True

    def _submission_failed(self, job: Job, attempt: int, exc: Exception) -> bool:
        message = str(exc) if isinstance(exc, SlurmError) else f"cannot submit: {exc}"
        self.problem = message
        self._retry_at[job.id] = self.clock() + self.config.retry_seconds
        if isinstance(exc, SlurmError) and exc.ambiguous:
            # Slurm may have taken it: stay "starting" and look it up by name next poll.
            self.store.update(job.id, reason=f"{message}; checking whether Slurm took it")
            return False
        self.store.transition(
            job.id,
            model.STARTING,
            model.QUEUED,
            attempts=attempt - 1,
            reason=f"not submitted: {message}; retrying in {self.config.retry_seconds:g} s",
        )
        return False

    # -- watching -------------------------------------------------------------------

    def poll(self) -> list[Job]:
        """Submit what waits, then (every ``poll_seconds``) check jobs in Slurm."""
        ended: list[Job] = []
        now = self.clock()
        in_slurm = self.store.in_state(
            model.QUEUED, model.STARTING, model.RUNNING, backend=self.name
        )
        watched = [j for j in in_slurm if j.backend_id is not None or j.state == model.STARTING]
        due = now - self._last_watch >= self.config.poll_seconds
        if watched and due:
            ended.extend(self._watch_jobs(watched, now))
        for job in self.store.in_state(model.QUEUED, backend=self.name):
            if job.backend_id is None:
                self._try_submit(job)
        return ended

    @property
    def config(self) -> SlurmConfig:
        return self.queue.config  # one config, shared with the cluster view's queue

    @config.setter
    def config(self, config: SlurmConfig) -> None:
        self.queue.config = config

    def refresh(self) -> list[SlurmJob]:
        """The user's own Slurm jobs now (all of them, not only waitwise's)."""
        return self.queue.refresh()

    def _watch_jobs(self, watched: list[Job], now: float) -> list[Job]:
        self._last_watch = now
        ended: list[Job] = []
        # exit.json first: a finished job needs nothing from Slurm.
        rest: list[Job] = []
        for job in watched:
            record = read_json(self.jobdir(job.id) / "exit.json")
            if record is not None and job.backend_id is not None:
                final = self._finish_from_record(job, record)
                if final is not None:
                    ended.append(final)
            else:
                rest.append(job)
        if not rest:
            return ended
        try:
            seen = {j.job_id: j for j in self.refresh()}
        except SlurmError as exc:
            self.problem = f"{exc}; jobs kept, trying again"
            return ended
        self.problem = ""
        for job in rest:
            if job.backend_id is None:
                self._adopt_or_requeue(job, seen, now)
                continue
            info = seen.get(job.backend_id)
            final = self._apply(job, info)
            if final is not None:
                ended.append(final)
        return ended

    def _adopt_or_requeue(self, job: Job, seen: dict[str, SlurmJob], now: float) -> None:
        """A ``starting`` job whose ``sbatch`` timed out: did Slurm take it?"""
        key = job_key(self.workspace, job.id, job.attempts)
        for info in seen.values():
            if info.comment == key:
                self.store.transition(
                    job.id,
                    model.STARTING,
                    model.QUEUED,
                    backend_id=info.job_id,
                    backend_state=info.state,
                    reason="submitted",
                )
                self._retry_at.pop(job.id, None)
                return
        if self._retry_at.get(job.id, -math.inf) <= now:
            # Slurm answered and has no such job: submitting again is safe.
            self.store.transition(
                job.id,
                model.STARTING,
                model.QUEUED,
                attempts=max(0, job.attempts - 1),
                reason="not submitted (Slurm has no record of it); submitting again",
            )

    def _apply(self, job: Job, info: SlurmJob | None) -> Job | None:
        """Bring ``job`` up to date with what Slurm says; the final Job if it ended."""
        if info is None:
            return self._gone(job)
        state = info.state
        if state in PENDING_STATES:
            why = f"Slurm {state}" + (f" ({info.reason})" if info.reason else "")
            to_state = model.QUEUED
        elif state in ENDED_STATES:
            return self._finish_from_slurm(job, state)
        else:
            why = f"Slurm {state}" + (f" on {info.nodes}" if info.nodes else "")
            to_state = model.RUNNING
        fields: dict[str, Any] = {"backend_state": state, "reason": why, "node": info.nodes}
        if to_state == model.RUNNING and job.state != model.RUNNING:
            fields["started"] = self.clock()
            fields["gpus"] = self._gpu_indexes(job)
        if job.state == model.RUNNING and to_state == model.QUEUED:
            fields["reason"] = f"requeued by Slurm: {why}"
        if (job.state, job.backend_state, job.reason, job.node) != (
            to_state,
            state,
            fields["reason"],
            info.nodes,
        ):
            self.store.transition(job.id, job.state, to_state, **fields)
        return None

    def _show_job(self, job: Job, *flags: str) -> str:
        """``scontrol show job -o`` for ``job`` (raises SlurmError)."""
        argv = ["scontrol", "show", "job", *flags, "-o", str(job.backend_id)]
        return run_tool(argv, timeout=self.config.command_timeout).stdout

    def _gpu_indexes(self, job: Job) -> str:
        try:
            return gpu_indexes(self._show_job(job, "-d"))
        except SlurmError:
            return ""

    def _gone(self, job: Job) -> Job | None:
        """squeue no longer lists the job: ask scontrol, then the exit record."""
        try:
            detail = parse_scontrol(self._show_job(job))
        except SlurmError as exc:
            if "invalid job id" not in str(exc):
                self.problem = f"{exc}; jobs kept, trying again"
                return None
            detail = {}
        record = read_json(self.jobdir(job.id) / "exit.json")
        if record is not None:
            return self._finish_from_record(job, record)
        state = detail.get("JobState", "")
        if state in ENDED_STATES:
            return self._finish_from_slurm(job, state, detail)
        if state:
            return None  # still there, only not listed this time
        return self._end(job, model.LOST, f"Slurm has no record of job {job.backend_id}")

    def _finish_from_record(self, job: Job, record: dict[str, object]) -> Job | None:
        exit_code = record.get("exit_code")
        signum = record.get("signal")
        fresh = self.store.get(job.id) or job
        if record.get("error"):
            return self._end(job, model.FAILED, f"cannot start: {record['error']}", exit_code)
        if fresh.cancel_requested is not None:
            return self._end(job, model.CANCELLED, fresh.cancel_reason, exit_code)
        if exit_code == 0:
            return self._end(job, model.DONE, "", 0)
        if signum is not None:
            return self._end(job, model.FAILED, f"killed by signal {signum}")
        return self._end(job, model.FAILED, f"exit code {exit_code}", exit_code)

    def _finish_from_slurm(
        self, job: Job, state: str, detail: dict[str, str] | None = None
    ) -> Job | None:
        """The job ended without an exit record (killed before the shim could write it)."""
        record = read_json(self.jobdir(job.id) / "exit.json")
        if record is not None:
            return self._finish_from_record(job, record)
        if detail is None:
            detail = self._detail(job)
        code, signum = parse_exit_code(detail.get("ExitCode", ""))
        fresh = self.store.get(job.id) or job
        where = (
            f" on {detail['NodeList']}"
            if detail.get("NodeList") not in (None, "", "(null)")
            else ""
        )
        if state == "COMPLETED":
            return self._end(job, model.DONE, "", 0)
        if state == "CANCELLED":
            return self._end(
                job, model.CANCELLED, fresh.cancel_reason or "cancelled in Slurm", code
            )
        if state == "TIMEOUT":
            return self._end(job, model.FAILED, "timed out (Slurm time limit)", code)
        if state in ("NODE_FAIL", "BOOT_FAIL"):
            return self._end(job, model.LOST, f"Slurm {state}{where}", code, retry=True)
        if state == "PREEMPTED":
            return self._end(job, model.LOST, f"preempted by Slurm{where}", code, retry=True)
        if state == "OUT_OF_MEMORY":
            return self._end(job, model.FAILED, f"out of memory{where}", code)
        if signum:
            return self._end(job, model.FAILED, f"Slurm {state}: killed by signal {signum}", code)
        suffix = f": exit code {code}" if code is not None else ""
        return self._end(job, model.FAILED, f"Slurm {state}{suffix}", code)

    def _detail(self, job: Job) -> dict[str, str]:
        try:
            return parse_scontrol(self._show_job(job))
        except SlurmError:
            return {}

    def _end(
        self,
        job: Job,
        state: str,
        reason: str,
        exit_code: object = None,
        *,
        retry: bool = False,
    ) -> Job | None:
        if retry and job.attempts < job.max_attempts:
            self.store.transition(
                job.id,
                job.state,
                model.QUEUED,
                reason=f"retrying: {reason}",
                backend_id=None,
                backend_state="",
            )
            return None
        fields: dict[str, Any] = {"finished": self.clock(), "reason": reason}
        if isinstance(exit_code, int):
            fields["exit_code"] = exit_code
        if not self.store.transition(job.id, job.state, state, **fields):
            return None  # another runner finished it first
        self._retry_at.pop(job.id, None)
        return self.store.get(job.id)

    # -- controlling ------------------------------------------------------------------

    def cancel(self, job_id: int, reason: str = "cancelled") -> bool:
        """Cancel a job not yet in Slurm now; ``scancel`` one that is.

        Raises :class:`SlurmError` when Slurm can't be told (the job keeps running).
        """
        job = self.store.get(job_id)
        if job is None or not job.active:
            return False
        if job.backend_id is None:
            if job.state == model.QUEUED:
                return self.store.transition(
                    job_id, model.QUEUED, model.CANCELLED, reason=reason, finished=self.clock()
                )
            return False  # sbatch is in flight; cancel once it has an id
        cancel_slurm_job(job.backend_id, timeout=self.config.command_timeout)
        self.store.update(job.id, cancel_requested=self.clock(), cancel_reason=reason)
        self._last_watch = -math.inf  # look again at the next poll
        return True


def cancel_slurm_job(slurm_id: str, *, timeout: float = 30.0) -> None:
    """``scancel`` one job (also one not started from waitwise)."""
    if not slurm_id.replace("_", "").isdigit():
        raise SlurmError(f"not a Slurm job id: {slurm_id!r}")
    run_tool(["scancel", slurm_id], timeout=timeout)
