"""The workspace SQLite database: connection setup and numbered migrations.

One file, WAL mode, one transaction per change. Schema changes append to
``MIGRATIONS``; ``PRAGMA user_version`` records how many have been applied.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

MIGRATIONS: list[str] = [
    # 1: events, jobs, GPU leases, studies and trials.
    """
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        time REAL NOT NULL,
        kind TEXT NOT NULL,
        source TEXT NOT NULL,
        message TEXT NOT NULL,
        data TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX events_time ON events(time);
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL DEFAULT '',
        argv TEXT NOT NULL,
        env TEXT NOT NULL DEFAULT '{}',
        workdir TEXT NOT NULL,
        backend TEXT NOT NULL DEFAULT 'local',
        state TEXT NOT NULL,
        gpus_requested INTEGER NOT NULL DEFAULT 0,
        gpus TEXT NOT NULL DEFAULT '',
        pid INTEGER,
        pid_start_time REAL,
        backend_id TEXT,
        exit_code INTEGER,
        reason TEXT NOT NULL DEFAULT '',
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL DEFAULT 1,
        timeout_seconds REAL,
        created REAL NOT NULL,
        started REAL,
        finished REAL
    );
    CREATE TABLE gpu_leases (
        gpu_index INTEGER PRIMARY KEY,
        job_id INTEGER NOT NULL REFERENCES jobs(id),
        leased REAL NOT NULL
    );
    CREATE TABLE studies (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        space_hash TEXT NOT NULL,
        spec TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'active',
        created REAL NOT NULL
    );
    CREATE TABLE trials (
        id INTEGER PRIMARY KEY,
        study_id INTEGER NOT NULL REFERENCES studies(id),
        number INTEGER NOT NULL,
        state TEXT NOT NULL,
        params TEXT NOT NULL,
        hyperopt_vals TEXT NOT NULL,
        value REAL,
        reason TEXT NOT NULL DEFAULT '',
        job_id INTEGER REFERENCES jobs(id),
        created REAL NOT NULL,
        finished REAL,
        UNIQUE (study_id, number)
    );
    """,
    # 2: job cancellation requests (the runner escalates to SIGKILL after a grace period).
    """
    ALTER TABLE jobs ADD COLUMN cancel_requested REAL;
    ALTER TABLE jobs ADD COLUMN cancel_reason TEXT NOT NULL DEFAULT '';
    CREATE INDEX jobs_state ON jobs(state);
    CREATE INDEX trials_study ON trials(study_id, state);
    """,
    # 3: backend details: per-job backend options (JSON), the node a job ran on and the
    # backend's own state word (Slurm's PENDING, RUNNING, ...).
    """
    ALTER TABLE jobs ADD COLUMN options TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE jobs ADD COLUMN node TEXT NOT NULL DEFAULT '';
    ALTER TABLE jobs ADD COLUMN backend_state TEXT NOT NULL DEFAULT '';
    CREATE INDEX jobs_backend ON jobs(backend, state);
    """,
    # 4: notifications: every delivery attempt with its event and result, and the
    # lease that decides which process of the workspace notifies (TUI or `watch`).
    """
    CREATE TABLE notify_attempts (
        id INTEGER PRIMARY KEY,
        event_id INTEGER REFERENCES events(id),
        time REAL NOT NULL,
        channel TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        ok INTEGER NOT NULL,
        error TEXT NOT NULL DEFAULT '',
        digest INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX notify_attempts_event ON notify_attempts(event_id);
    CREATE TABLE notify_lease (
        name TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        expires REAL NOT NULL
    );
    """,
    # 5: run totals typed by the user, keyed by the run's identity (its real path, format
    # and key inside a store), so a restart keeps the progress and the ETA.
    """
    CREATE TABLE run_totals (
        identity TEXT PRIMARY KEY,
        total REAL NOT NULL,
        updated REAL NOT NULL
    );
    """,
]


class SchemaTooNew(RuntimeError):
    """The database was written by a newer waitwise-tui."""


def connect(path: str | Path, *, timeout: float = 5.0) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the database at ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    _set_wal(conn, timeout)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    migrate(conn)
    return conn


def _set_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Switch to WAL, waiting out other first openers. On a fresh file the switch
    needs an exclusive lock, and SQLite answers "database is locked" at once there
    instead of calling the busy handler: 29 of 300 six-thread first opens failed."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)


def migrate(conn: sqlite3.Connection) -> None:
    """Apply the migrations this database lacks.

    Two processes (or threads) may open a fresh database at the same moment, so
    the version is read again under the write lock before each step: whoever
    loses the race finds the work done instead of creating the tables twice.
    """
    while True:
        if _version(conn) >= len(MIGRATIONS):
            break
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = _version(conn)
            if version >= len(MIGRATIONS):
                conn.execute("COMMIT")
                break
            # executescript would COMMIT our transaction; run statements one by one.
            for statement in _statements(MIGRATIONS[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _version(conn: sqlite3.Connection) -> int:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise SchemaTooNew(
            f"database schema {version} is newer than this waitwise-tui ({len(MIGRATIONS)})"
        )
    return version


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
