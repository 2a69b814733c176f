"""Who notifies: a lease in the workspace database.

The TUI and ``waitwise-tui watch`` may watch the same runs and see the same alerts.
Whoever holds the ``notify`` lease sends; the holder renews it while it runs and gives
it up on exit; a lease not renewed within its term (a killed process) is taken over by
the next process that asks. Asking is one short ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Callable

NAME = "notify"


def owner_id(role: str) -> str:
    """``watch@gpu-box:1234:9f3a``: who holds the lease, readable in the database."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:4]}"


class Lease:
    def __init__(
        self,
        conn: sqlite3.Connection,
        owner: str,
        term_s: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._conn = conn
        self.owner = owner
        self._term = term_s
        self._clock = clock

    def acquire(self) -> bool:
        """Take or renew the lease; False while another live process holds it."""
        now = self._clock()
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(
                "SELECT owner, expires FROM notify_lease WHERE name = ?", (NAME,)
            ).fetchone()
            mine = row is None or row[0] == self.owner or row[1] < now
            if mine:
                conn.execute(
                    "INSERT INTO notify_lease (name, owner, expires) VALUES (?, ?, ?)"
                    " ON CONFLICT(name) DO UPDATE SET owner = excluded.owner,"
                    " expires = excluded.expires",
                    (NAME, self.owner, now + self._term),
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return mine

    def holder(self) -> str | None:
        row = self._conn.execute(
            "SELECT owner, expires FROM notify_lease WHERE name = ?", (NAME,)
        ).fetchone()
        if row is None or row[1] < self._clock():
            return None
        return str(row[0])

    def release(self) -> None:
        with self._conn:
            self._conn.execute(
                "DELETE FROM notify_lease WHERE name = ? AND owner = ?", (NAME, self.owner)
            )
