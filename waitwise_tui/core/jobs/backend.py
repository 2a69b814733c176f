"""The job backend interface, the parts every backend shares, and the runner over them.

A backend turns a queued job row into running work and reports how it ended:
``submit`` (argv + env + GPUs + working dir -> a job row, started when resources
allow), ``poll`` (start what can start, check what runs, return what ended),
``cancel`` and ``retry`` (:class:`BackendBase`). Every job runs under the shim,
which writes the job's output to ``.waitwise/jobs/<id>/stdout.log`` and its exit
record to ``exit.json``; where that file exists it is the final word on how the job
ended.

:class:`JobRunner` holds one backend per name (``local``, ``slurm``) and sends each
call to the backend the job row names, so trials and plain jobs of any backend share
one queue, one table and one CLI.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from waitwise_tui.core.jobs import model
from waitwise_tui.core.jobs.model import Job, JobSpec
from waitwise_tui.core.jobs.result import RESULT_ENV, RESULT_FILE
from waitwise_tui.core.jobs.store import JobStore
from waitwise_tui.core.workspace import Workspace

BACKENDS = ("local", "slurm")


def resolve_argv(argv: list[str]) -> list[str]:
    """``python`` as argv[0] means this interpreter (so examples run inside the venv)."""
    if argv and argv[0] == "python":
        return [sys.executable, *argv[1:]]
    return list(argv)


def shim_argv(jobdir: Path, argv: list[str]) -> list[str]:
    """The job's argv wrapped in the shim (which writes the log and ``exit.json``)."""
    return [sys.executable, "-m", "waitwise_tui.core.jobs.shim", str(jobdir), "--", *argv]


def read_json(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class BackendBase(ABC):
    """The interface :class:`JobRunner` uses, with what every backend shares: job
    directories, the job's environment, submit and retry. A backend adds ``_start``,
    ``poll`` and ``cancel``; ``problem`` is its last failure talking to its own
    machinery ("" when fine)."""

    name = ""

    def __init__(
        self,
        workspace: Workspace,
        conn: sqlite3.Connection,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.workspace = workspace
        self.store = JobStore(conn)
        self.clock = clock
        self.problem = ""

    def jobdir(self, job_id: int) -> Path:
        return self.workspace.jobs_dir / str(job_id)

    def log_path(self, job_id: int) -> Path:
        return self.jobdir(job_id) / "stdout.log"

    def submit(self, spec: JobSpec | Sequence[str], *, start: bool = True, **fields: Any) -> Job:
        """Queue a job and, with ``start``, start it now where the backend can.

        ``spec`` is a ``JobSpec``, or the argv with the spec's other fields as keywords
        (``submit(["python", "train.py"], workdir=".", gpus=1)``)."""
        if not isinstance(spec, JobSpec):
            spec = JobSpec(argv=list(spec), **fields)
        elif fields:
            spec = replace(spec, **fields)
        if not spec.argv:
            raise ValueError("a job needs a command")
        self._check_options(spec.options or {})
        self.workspace.ensure()
        job_id = self.store.create(spec, backend=self.name)
        if start:
            job = self.store.get(job_id)
            if job is not None:
                self._start(job)
        job = self.store.get(job_id)
        assert job is not None
        return job

    def _check_options(self, options: dict[str, Any]) -> None:
        """Refuse options this backend does not know (raise ValueError)."""
        if options:
            raise ValueError(f"the {self.name} backend takes no options: {', '.join(options)}")

    @abstractmethod
    def _start(self, job: Job) -> None:
        """Start a just-queued job now if resources allow (else ``poll`` will)."""

    @abstractmethod
    def poll(self) -> list[Job]:
        """Start what can start, check what runs; returns the jobs that ended now."""

    @abstractmethod
    def cancel(self, job_id: int, reason: str = "cancelled") -> bool:
        """Stop a job (or drop it from the queue); False if it is not active."""

    def _prepare_jobdir(self, job: Job, attempt: int) -> Path:
        """Make the job's directory ready for a new attempt (stale records removed)."""
        jobdir = self.jobdir(job.id)
        jobdir.mkdir(parents=True, exist_ok=True)
        for stale in ("exit.json", "shim.json", RESULT_FILE):
            with contextlib.suppress(FileNotFoundError):
                (jobdir / stale).unlink()
        with open(jobdir / "stdout.log", "ab") as log:
            if attempt > 1:
                log.write(f"--- waitwise: attempt {attempt} ---\n".encode())
        return jobdir

    def _job_env(self, job: Job, base: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        env.update(job.env)
        env[RESULT_ENV] = str(self.jobdir(job.id) / RESULT_FILE)
        env["WAITWISE_JOB_ID"] = str(job.id)
        return env

    def retry(self, job_id: int) -> bool:
        """Queue a finished (failed, cancelled, lost) job again for one more attempt."""
        job = self.store.get(job_id)
        if job is None or job.state not in (model.FAILED, model.CANCELLED, model.LOST):
            return False
        return self.store.transition(
            job_id,
            job.state,
            model.QUEUED,
            max_attempts=max(job.max_attempts, job.attempts + 1),
            reason="",
            finished=None,
            backend_id=None,
            backend_state="",
            node="",
        )


class JobRunner:
    """The workspace's job queue over every backend (each job row names its own)."""

    def __init__(self, store: JobStore, backends: dict[str, BackendBase]) -> None:
        self.store = store
        self.backends = backends

    def backend(self, name: str) -> BackendBase:
        try:
            return self.backends[name]
        except KeyError:
            raise ValueError(
                f"unknown backend {name!r} (known: {', '.join(self.backends)})"
            ) from None

    @property
    def local(self) -> Any:
        return self.backends["local"]

    @property
    def grace_seconds(self) -> float:
        return float(getattr(self.local, "grace_seconds", 5.0))

    def jobdir(self, job_id: int) -> Path:
        return self.local.jobdir(job_id)

    def log_path(self, job_id: int) -> Path:
        return self.local.log_path(job_id)

    def submit(
        self, spec: JobSpec | Sequence[str], *, backend: str = "local", **fields: Any
    ) -> Job:
        return self.backend(backend).submit(spec, **fields)

    def poll(self) -> list[Job]:
        """Poll every backend; returns the jobs that ended now."""
        ended: list[Job] = []
        for backend in self.backends.values():
            ended.extend(backend.poll())
        return ended

    def problems(self) -> list[str]:
        return [f"{b.name}: {b.problem}" for b in self.backends.values() if b.problem]

    def _owner(self, job_id: int) -> BackendBase | None:
        job = self.store.get(job_id)
        if job is None:
            return None
        return self.backends.get(job.backend)

    def cancel(self, job_id: int, reason: str = "cancelled") -> bool:
        owner = self._owner(job_id)
        return owner is not None and owner.cancel(job_id, reason)

    def retry(self, job_id: int) -> bool:
        owner = self._owner(job_id)
        return owner is not None and owner.retry(job_id)
