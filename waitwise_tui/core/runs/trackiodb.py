"""trackio runs read from its per-project SQLite database, without trackio.

trackio keeps one database per project (``~/.cache/huggingface/trackio/<project>.db``
or ``$TRACKIO_DIR``): a ``metrics`` row per ``trackio.log`` call, whose ``metrics``
column is a JSON object (NaN and infinities written as the strings ``"NaN"``,
``"Infinity"``, ``"-Infinity"``), and a ``configs`` row per run. Each run of the
project is a candidate (``key`` = its run id, or its name in databases from before
trackio had run ids) named ``project/run name``. A tail reads the rows past the last
``id`` (an AUTOINCREMENT key: never reused, never renumbered) in one short read-only
transaction per poll.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import sqlite3
from collections.abc import Mapping

from waitwise_tui.core.runs import stores
from waitwise_tui.core.runs.model import ReadUpdate, RunCandidate

_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_MAX_VALUE = 1024


def trackio_dir(environ: Mapping[str, str] | None = None) -> str:
    """Where trackio keeps its project databases, as trackio itself resolves it.

    ``$TRACKIO_DIR``, else ``$HF_HOME/trackio``, else
    ``$XDG_CACHE_HOME/huggingface/trackio``, else ``~/.cache/huggingface/trackio``.
    """
    env = os.environ if environ is None else environ
    if env.get("TRACKIO_DIR"):
        return os.path.expanduser(env["TRACKIO_DIR"])
    if env.get("HF_HOME"):
        return os.path.join(os.path.expanduser(env["HF_HOME"]), "trackio")
    cache = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(os.path.expanduser(cache), "huggingface", "trackio")


def project_databases(directory: str) -> list[str]:
    """The ``*.db`` files directly in ``directory`` (none when it does not exist)."""
    try:
        with os.scandir(directory) as it:
            return sorted(e.path for e in it if e.name.endswith(".db") and e.is_file())
    except OSError:
        return []


def is_trackio_tables(tables: dict[str, set[str]]) -> bool:
    metrics = tables.get("metrics", set())
    return {"run_name", "step", "metrics", "timestamp"} <= metrics and "configs" in tables


def _run_column(conn: sqlite3.Connection) -> str:
    columns = {r[1] for r in conn.execute('PRAGMA table_info("metrics")')}
    return "run_id" if "run_id" in columns else "run_name"


def list_runs(path: str) -> list[tuple[str, str]]:
    """(run key, ``project/run name``) of the runs in the project database at ``path``."""
    project = os.path.splitext(os.path.basename(path))[0]
    try:
        with stores.read_only(path) as conn:
            column = _run_column(conn)
            rows = conn.execute(
                f"SELECT {column}, run_name FROM metrics GROUP BY {column} ORDER BY min(id)"
            ).fetchall()
    except sqlite3.Error:
        return []
    return [(str(key), f"{project}/{name or key}") for key, name in rows]


def _wall(text: object) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        stamp = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=datetime.timezone.utc)
    return stamp.timestamp()


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return _SPECIAL.get(value)
    return None


class TrackioTail(stores.SqliteTail):
    """Tails one run of a trackio project database by row id."""

    what = "trackio database"

    def __init__(self, candidate: RunCandidate) -> None:
        super().__init__(candidate)
        self._last_id = 0

    def _read(self, conn: sqlite3.Connection, update: ReadUpdate) -> bool:
        column = _run_column(conn)
        rows = conn.execute(
            f"SELECT id, step, timestamp, metrics FROM metrics WHERE {column} = ? AND id > ? "
            "ORDER BY id LIMIT ?",
            (self._run, self._last_id, stores.BATCH_ROWS),
        ).fetchall()
        scalars: list[tuple[str, float, float, float | None]] = []
        for row_id, step, stamp, blob in rows:
            self._last_id = row_id
            try:
                values = json.loads(blob)
            except (ValueError, TypeError, RecursionError):
                continue
            if not isinstance(values, dict) or not isinstance(step, (int, float)):
                continue
            wall = _wall(stamp)
            for key, value in values.items():
                number = _number(value)
                if number is not None and not str(key).startswith("_"):
                    scalars.append((str(key), float(step), number, wall))
        stores.add_scalars(update, scalars)
        if rows or not self._seen:
            update.details = self._config(conn, column)
        return len(rows) < stores.BATCH_ROWS

    def _config(self, conn: sqlite3.Connection, column: str) -> dict[str, str] | None:
        try:
            row = conn.execute(
                f"SELECT config FROM configs WHERE {column} = ? ORDER BY id DESC LIMIT 1",
                (self._run,),
            ).fetchone()
        except sqlite3.Error:
            return None
        if row is None:
            return None
        try:
            config = json.loads(row[0])
        except (ValueError, TypeError, RecursionError):
            return None
        if not isinstance(config, dict):
            return None
        return {
            f"config.{k}": str(v)[:_MAX_VALUE]
            for k, v in sorted(config.items(), key=lambda kv: str(kv[0]))
            if not str(k).startswith("_") and v is not None
        }
