"""What the readers of tracker stores share: read-only SQLite, change checks, columns.

A tracker database (MLflow's ``mlflow.db``, a trackio project) is written by the
training process while we read it. It is opened read-only (``mode=ro``), each poll
reads in one short transaction and closes the connection again, so a writer is never
locked out for longer than one query, and a vacuum or migration between polls is seen
as a changed file, not as a stale handle. A poll is skipped while neither the database
nor its write-ahead log changed (one ``stat`` each).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import urllib.parse
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator

from waitwise_tui.core.runs.model import Column, Point, ReadUpdate, RunCandidate

SQLITE_MAGIC = b"SQLite format 3\x00"
# Rows read by one poll at most: a huge store fills in over several polls.
BATCH_ROWS = 200_000
# How long a query waits for a writer's lock before the poll is given up (retried later).
BUSY_MS = 200
# Consecutive failed polls before a store's error is shown (one failure is usually a
# writer's transaction or a migration in progress).
REPORT_AFTER = 3
# Below this many scalars a poll hands out points; above, numpy columns.
COLUMN_MIN = 2048


def is_sqlite(head: bytes) -> bool:
    return head.startswith(SQLITE_MAGIC)


def signature(path: str) -> tuple[int, ...] | None:
    """What changes when the database or its WAL is written; None if it is missing."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    sig: tuple[int, ...] = (st.st_ino, st.st_size, st.st_mtime_ns)
    try:
        wal = os.stat(path + "-wal")
    except OSError:
        return sig
    return (*sig, wal.st_size, wal.st_mtime_ns)


@contextlib.contextmanager
def read_only(path: str) -> Iterator[sqlite3.Connection]:
    """A read-only connection in one read transaction, closed on exit."""
    uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_MS / 1000, check_same_thread=False)
    try:
        conn.execute("BEGIN")
        yield conn
    finally:
        conn.close()


def tables(conn: sqlite3.Connection) -> dict[str, set[str]]:
    """Table name -> its column names."""
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    return {name: {r[1] for r in conn.execute(f'PRAGMA table_info("{name}")')} for name in names}


def sqlite_tables(path: str) -> dict[str, set[str]] | None:
    """The tables of the database at ``path``, or None when it cannot be read now."""
    try:
        with read_only(path) as conn:
            return tables(conn)
    except sqlite3.Error:
        return None


def transient(exc: sqlite3.Error) -> bool:
    """Whether a failed read is worth retrying silently (a writer holds a lock)."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def add_scalars(update: ReadUpdate, rows: Iterable[tuple[str, float, float, float | None]]) -> None:
    """Append (metric, step, value, wall) rows in log order to ``update``.

    Few rows become points; many become one numpy column per metric, so a store of
    millions of scalars reaches the series as arrays.
    """
    rows = list(rows)
    if len(rows) < COLUMN_MIN:
        update.points.extend(Point(m, s, v, w) for m, s, v, w in rows)
        return
    import numpy as np

    grouped: dict[str, list[tuple[str, float, float, float | None]]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    for metric, group in grouped.items():
        update.columns.append(
            Column(
                metric,
                np.fromiter((r[1] for r in group), "float64", len(group)),
                np.fromiter((r[2] for r in group), "float64", len(group)),
                np.fromiter(
                    (np.nan if r[3] is None else r[3] for r in group), "float64", len(group)
                ),
            )
        )


class SqliteTail(ABC):
    """Tails one run of a tracker's SQLite store: a poll opens the store read-only,
    reads what ``_read`` adds since the last poll and closes it again; an unchanged
    file is not opened, a vanished one is reported gone once, and errors are retried
    and shown only after ``REPORT_AFTER`` failures in a row. ``_read`` returns False
    when it stopped at ``BATCH_ROWS`` (the next poll reads on even if nothing changed)."""

    what = "store"  # in the error line: "cannot read <what>: ..."

    def __init__(self, candidate: RunCandidate) -> None:
        self.candidate = candidate
        self._path = candidate.path
        self._run = candidate.key
        self._sig: tuple[int, ...] | None = None
        self._seen = False
        self._gone = False
        self._closed = False
        self._failures = 0

    def poll(self) -> ReadUpdate:
        """What the run logged since the last poll."""
        update = ReadUpdate()
        if self._closed:
            return update
        sig = signature(self._path)
        if sig is None:
            if self._seen and not self._gone:
                update.gone = True
            self._gone = True
            return update
        if sig == self._sig:
            return update
        self._gone = False
        try:
            with read_only(self._path) as conn:
                done = self._read(conn, update)
        except sqlite3.Error as exc:
            # A lock, a hot journal or a migration under way: retried at the next poll,
            # reported only when it keeps failing.
            self._failures += 1
            if self._failures == REPORT_AFTER and not transient(exc):
                update.error = f"cannot read {self.what}: {exc}"
            return update
        self._failures = 0
        self._seen = True
        self._sig = sig if done else None
        return update

    @abstractmethod
    def _read(self, conn: sqlite3.Connection, update: ReadUpdate) -> bool:
        """Add the run's new rows to ``update``; False when stopped at ``BATCH_ROWS``."""

    def close(self) -> None:
        """Stop tailing."""
        self._closed = True
