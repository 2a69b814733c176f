"""Run totals typed by the user, kept in the workspace database (``run_totals``).

A run is known by its identity: the real path of its log, its format and its key
inside a store (``identity``), so the total follows the run, not the name shown
for it. Reading never creates the database; the first saved total does.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from waitwise_tui.core.runs.model import RunCandidate


def identity(candidate: RunCandidate) -> str:
    """The key a run's total is stored under."""
    return "\x1f".join((os.path.realpath(candidate.path), candidate.format, candidate.key))


class TotalStore:
    """Load and save typed totals; every call opens its own short connection, so any
    thread may call it (the run monitor calls it from its poll thread)."""

    def __init__(self, db_path: str | os.PathLike[str]) -> None:
        self.db_path = Path(db_path)

    def load(self, key: str) -> float | None:
        """The stored total of the run ``key``; None when there is none (or no database)."""
        if not self.db_path.exists():
            return None
        from waitwise_tui.core import db

        conn = db.connect(self.db_path)
        try:
            row = conn.execute("SELECT total FROM run_totals WHERE identity = ?", (key,)).fetchone()
        finally:
            conn.close()
        return float(row[0]) if row is not None else None

    def save(self, key: str, total: float | None) -> None:
        """Store ``total`` for the run ``key``; None forgets it."""
        from waitwise_tui.core import db

        if total is None and not self.db_path.exists():
            return
        conn = db.connect(self.db_path)
        try:
            with conn:
                if total is None:
                    conn.execute("DELETE FROM run_totals WHERE identity = ?", (key,))
                else:
                    conn.execute(
                        "INSERT INTO run_totals (identity, total, updated) VALUES (?, ?, ?)"
                        " ON CONFLICT(identity) DO UPDATE SET total = excluded.total,"
                        " updated = excluded.updated",
                        (key, float(total), time.time()),
                    )
        finally:
            conn.close()
