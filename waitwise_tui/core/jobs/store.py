"""SQLite storage of jobs and GPU leases (tables ``jobs`` and ``gpu_leases``).

Every change is one transaction. State changes that more than one runner could race
on (claiming a queued job, finishing a running one) are compare-and-set updates, so
two processes driving the same workspace never start or finish a job twice.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from waitwise_tui.core.jobs.model import ACTIVE_STATES, QUEUED, Job, JobSpec


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on error)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class JobStore:
    """Rows of the ``jobs`` table as :class:`Job` values."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def create(self, spec: JobSpec, *, backend: str = "local") -> int:
        cur = self.conn.execute(
            "INSERT INTO jobs (name, argv, env, workdir, state, gpus_requested, max_attempts,"
            " timeout_seconds, created, backend, options)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                spec.name,
                json.dumps(list(spec.argv)),
                json.dumps(spec.env or {}),
                spec.workdir,
                QUEUED,
                spec.gpus,
                spec.max_attempts,
                spec.timeout_seconds,
                time.time(),
                backend,
                json.dumps(spec.options or {}),
            ),
        )
        return int(cur.lastrowid or 0)

    def get(self, job_id: int) -> Job | None:
        row = self.conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return Job.from_row(row) if row else None

    def list(self, *, active_only: bool = False, limit: int | None = None) -> list[Job]:
        query = "SELECT * FROM jobs"
        args: list[Any] = []
        if active_only:
            query += f" WHERE state IN ({','.join('?' * len(ACTIVE_STATES))})"
            args.extend(ACTIVE_STATES)
        query += " ORDER BY id"
        if limit is not None:
            query += " DESC LIMIT ?"
            args.append(limit)
        jobs = [Job.from_row(row) for row in self.conn.execute(query, args)]
        return sorted(jobs, key=lambda job: job.id)

    def in_state(self, *states: str, backend: str | None = None) -> list[Job]:
        query = f"SELECT * FROM jobs WHERE state IN ({','.join('?' * len(states))})"
        args: list[Any] = list(states)
        if backend is not None:
            query += " AND backend = ?"
            args.append(backend)
        rows = self.conn.execute(query + " ORDER BY id", args)
        return [Job.from_row(row) for row in rows]

    def transition(self, job_id: int, from_state: str, to_state: str, **fields: Any) -> bool:
        """Compare-and-set: move ``job_id`` only if it is still in ``from_state``."""
        sets = ", ".join(["state = ?", *(f"{key} = ?" for key in fields)])
        cur = self.conn.execute(
            f"UPDATE jobs SET {sets} WHERE id = ? AND state = ?",
            (to_state, *fields.values(), job_id, from_state),
        )
        return cur.rowcount == 1

    def update(self, job_id: int, **fields: Any) -> None:
        sets = ", ".join(f"{key} = ?" for key in fields)
        self.conn.execute(f"UPDATE jobs SET {sets} WHERE id = ?", (*fields.values(), job_id))

    # -- GPU leases -------------------------------------------------------------

    def leased_gpus(self) -> set[int]:
        return {row[0] for row in self.conn.execute("SELECT gpu_index FROM gpu_leases")}

    def lease(self, job_id: int, indexes: list[int]) -> bool:
        """Lease all of ``indexes`` to ``job_id`` or none (False if one is taken)."""
        try:
            with transaction(self.conn):
                now = time.time()
                for index in indexes:
                    self.conn.execute(
                        "INSERT INTO gpu_leases (gpu_index, job_id, leased) VALUES (?, ?, ?)",
                        (index, job_id, now),
                    )
        except sqlite3.IntegrityError:
            return False
        return True

    def release(self, job_id: int) -> None:
        self.conn.execute("DELETE FROM gpu_leases WHERE job_id = ?", (job_id,))
