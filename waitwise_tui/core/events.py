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


# Two records of one alert this close together are one: the TUI and ``watch`` on one
# workspace each see it, a poll or a GPU averaging window apart.
RECORD_ONCE_S = 600.0


def alert_key(event: Event) -> str | None:
    """What makes two processes' records of an alert the same alert: the producer's
    ``data["episode"]`` (GPU alerts), else its run, alert kind, metric and step (both
    read the same log). None for events that are each their own (a finished trial)."""
    data = event.data
    episode = data.get("episode")
    if episode is not None:
        return f"{event.kind}|{episode}"
    if event.kind not in (ALERT, RUN_CRASHED, RUN_FINISHED):
        return None
    parts = (data.get("alert") or "", data.get("metric") or "", data.get("step"))
    return "|".join([event.kind, event.source, *map(repr, parts)])


def record_event_once(
    conn: sqlite3.Connection, event: Event, *, within_s: float = RECORD_ONCE_S
) -> tuple[int, bool]:
    """Store ``event`` unless another process stored the same alert (``alert_key``)
    within ``within_s`` of it; returns (the row id, whether this call stored it).
    One ``BEGIN IMMEDIATE`` transaction: two processes cannot both store it."""
    key = alert_key(event)
    if key is None:
        return record_event(conn, event), True
    conn.execute("BEGIN IMMEDIATE")
    try:
        rows = conn.execute(
            "SELECT id, data FROM events WHERE kind = ? AND source = ? AND time >= ?"
            " AND time <= ? ORDER BY id",
            (event.kind, event.source, event.time - within_s, event.time + within_s),
        ).fetchall()
        for row in rows:
            try:
                data = json.loads(row[1])
            except ValueError:
                continue
            if not isinstance(data, dict):
                continue
            if alert_key(Event(event.kind, event.source, "", 0.0, data)) == key:
                conn.execute("COMMIT")
                return int(row[0]), False
        event_id = record_event(conn, event)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return event_id, True


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
