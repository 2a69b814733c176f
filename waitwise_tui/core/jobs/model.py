"""The Job record and its states."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

QUEUED = "queued"
STARTING = "starting"  # claimed by a runner; the process is being spawned
RUNNING = "running"
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"
LOST = "lost"

ACTIVE_STATES = (QUEUED, STARTING, RUNNING)
FINAL_STATES = (DONE, FAILED, CANCELLED, LOST)


@dataclass(frozen=True)
class JobSpec:
    """What a submitter asks for: the command and how to run it. ``JobStore.create``
    stores it, ``BackendBase.submit`` queues it; the fields are listed only here."""

    argv: list[str]
    workdir: str
    env: dict[str, str] = field(default_factory=dict)
    name: str = ""
    gpus: int = 0
    max_attempts: int = 1
    timeout_seconds: float | None = None
    options: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    id: int
    name: str
    argv: list[str]
    env: dict[str, str]
    workdir: str
    state: str
    gpus_requested: int
    gpus: str
    pid: int | None
    pid_start_time: float | None
    exit_code: int | None
    reason: str
    attempts: int
    max_attempts: int
    timeout_seconds: float | None
    created: float
    started: float | None
    finished: float | None
    cancel_requested: float | None
    cancel_reason: str
    backend: str = "local"
    backend_id: str | None = None  # Slurm's job id
    options: dict[str, object] = field(default_factory=dict)  # backend options (Slurm's)
    node: str = ""
    backend_state: str = ""  # the backend's own word for the state (PENDING, RUNNING, ...)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Job:
        return cls(
            id=row["id"],
            name=row["name"],
            argv=json.loads(row["argv"]),
            env=json.loads(row["env"]),
            workdir=row["workdir"],
            state=row["state"],
            gpus_requested=row["gpus_requested"],
            gpus=row["gpus"],
            pid=row["pid"],
            pid_start_time=row["pid_start_time"],
            exit_code=row["exit_code"],
            reason=row["reason"],
            attempts=row["attempts"],
            max_attempts=row["max_attempts"],
            timeout_seconds=row["timeout_seconds"],
            created=row["created"],
            started=row["started"],
            finished=row["finished"],
            cancel_requested=row["cancel_requested"],
            cancel_reason=row["cancel_reason"],
            backend=row["backend"],
            backend_id=row["backend_id"],
            options=json.loads(row["options"]),
            node=row["node"],
            backend_state=row["backend_state"],
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "argv": self.argv,
            "workdir": self.workdir,
            "state": self.state,
            "gpus_requested": self.gpus_requested,
            "gpus": self.gpus,
            "pid": self.pid,
            "exit_code": self.exit_code,
            "reason": self.reason,
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "timeout_seconds": self.timeout_seconds,
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "backend": self.backend,
            "backend_id": self.backend_id,
            "backend_state": self.backend_state,
            "node": self.node,
        }
