"""Delivery attempts in the workspace database, next to the events they carried.

One row per event, channel and attempt: its time, the channel's redacted name, the
attempt number (1 for the first try), whether it got through and the channel's error.
A digest's attempt is one row for each event it carried (``digest`` = its size).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Attempt:
    event_id: int | None
    time: float
    channel: str
    attempt: int
    ok: bool
    error: str
    digest: int


def record_attempt(
    conn: sqlite3.Connection,
    event_ids: Sequence[int | None],
    *,
    time: float,
    channel: str,
    attempt: int,
    ok: bool,
    error: str = "",
) -> None:
    digest = len(event_ids) if len(event_ids) > 1 else 0
    conn.execute("BEGIN")
    try:
        conn.executemany(
            "INSERT INTO notify_attempts (event_id, time, channel, attempt, ok, error, digest)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(i, time, channel, attempt, int(ok), error, digest) for i in event_ids],
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def attempts(conn: sqlite3.Connection, *, event_id: int | None = None) -> list[Attempt]:
    query = "SELECT event_id, time, channel, attempt, ok, error, digest FROM notify_attempts"
    args: tuple = ()
    if event_id is not None:
        query += " WHERE event_id = ?"
        args = (event_id,)
    return [
        Attempt(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6])
        for r in conn.execute(query + " ORDER BY id", args)
    ]
