"""Cross-feature events: alerts, finished jobs/trials/test runs.

Features meet through these, not through each other's widgets: a producer records an
``Event`` in the database's ``events`` table and the UI posts one app-level message
that any tab may handle (the notes journal, notifications).
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

# Known kinds; producers may add more, consumers ignore what they do not know.
ALERT = "alert"
RUN_FINISHED = "run_finished"
RUN_CRASHED = "run_crashed"
JOB_FINISHED = "job_finished"
TRIAL_FINISHED = "trial_finished"
TEST_RUN_FINISHED = "test_run_finished"


@dataclass(frozen=True)
class Event:
    kind: str
    source: str
    message: str
    time: float = field(default_factory=time.time)
    data: dict[str, Any] = field(default_factory=dict)


def record_event(conn: sqlite3.Connection, event: Event) -> int:
    """Store ``event``; returns its row id."""
    cur = conn.execute(
        "INSERT INTO events (time, kind, source, message, data) VALUES (?, ?, ?, ?, ?)",
        (event.time, event.kind, event.source, event.message, json.dumps(event.data)),
    )
    return int(cur.lastrowid or 0)


def recent_events(
    conn: sqlite3.Connection, *, since: float = 0.0, kind: str | None = None, limit: int = 200
) -> list[Event]:
    query = "SELECT time, kind, source, message, data FROM events WHERE time >= ?"
    args: list[Any] = [since]
    if kind is not None:
        query += " AND kind = ?"
        args.append(kind)
    query += " ORDER BY time DESC, id DESC LIMIT ?"
    args.append(limit)
    return [
        Event(
            kind=row["kind"],
            source=row["source"],
            message=row["message"],
            time=row["time"],
            data=json.loads(row["data"]),
        )
        for row in conn.execute(query, args)
    ]
