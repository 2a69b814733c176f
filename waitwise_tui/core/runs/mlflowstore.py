"""MLflow runs read from disk, without MLflow: its SQLite store and its file store.

The SQLite store (``mlflow.db``, MLflow 3's default backend) holds every run of every
experiment; each run is its own candidate (``key`` = the run's uuid) named
``experiment/run name``. A tail reads the run's ``metrics`` rows past the last rowid
it read, in one short read-only transaction per poll (see ``stores``). ``VACUUM`` may
renumber rowids: a poll first checks that the rows up to its last rowid are still the
ones it counted, and starts over (``reset``) otherwise.

The file store (``mlruns/<experiment id>/<run id>/``) keeps one ``meta.yaml`` per
run and one file per metric (``metrics/<key>``, lines ``timestamp value step``; keys
with ``/`` are nested folders); each metric file is tailed by the byte offset read.

Both report MLflow's own run status (RUNNING, FINISHED, FAILED, KILLED) as
``tracker_status`` and the run's params and tags (MLflow's own ``mlflow.*`` tags
left out) as ``details``.
"""

from __future__ import annotations

import math
import os
import sqlite3

from waitwise_tui.core.runs import stores
from waitwise_tui.core.runs.model import ReadUpdate, RunCandidate

# The tables that make a SQLite file an MLflow tracking store.
_MLFLOW_TABLES = frozenset({"experiments", "runs", "metrics", "params", "tags"})
# meta.yaml stores the status as RunStatus's number.
_FILE_STATUS = {"1": "RUNNING", "2": "SCHEDULED", "3": "FINISHED", "4": "FAILED", "5": "KILLED"}
_META = "meta.yaml"
_MAX_META = 64 * 1024
_MAX_VALUE = 64 * 1024


def is_mlflow_tables(tables: dict[str, set[str]]) -> bool:
    return (
        set(tables) >= _MLFLOW_TABLES and {"run_uuid", "key", "value", "step"} <= tables["metrics"]
    )


def list_db_runs(path: str) -> list[tuple[str, str]]:
    """(run uuid, ``experiment/run name``) of the live runs in the store at ``path``."""
    try:
        with stores.read_only(path) as conn:
            rows = conn.execute(
                "SELECT r.run_uuid, r.name, e.name FROM runs r "
                "LEFT JOIN experiments e ON e.experiment_id = r.experiment_id "
                "WHERE r.lifecycle_stage IS NOT 'deleted' "
                "AND (e.lifecycle_stage IS NULL OR e.lifecycle_stage IS NOT 'deleted') "
                "ORDER BY r.start_time, r.run_uuid"
            ).fetchall()
    except sqlite3.Error:
        return []
    return [(str(uuid), f"{exp or 'experiment'}/{name or uuid}") for uuid, name, exp in rows]


def _details(params: list[tuple[str, str]], tags: list[tuple[str, str]]) -> dict[str, str]:
    out = {f"params.{k}": str(v)[:_MAX_VALUE] for k, v in sorted(params)}
    out.update(
        (f"tags.{k}", str(v)[:_MAX_VALUE]) for k, v in sorted(tags) if not k.startswith("mlflow.")
    )
    return out


class MlflowDbTail(stores.SqliteTail):
    """Tails one run of an MLflow SQLite store by rowid."""

    what = "MLflow store"

    def __init__(self, candidate: RunCandidate) -> None:
        super().__init__(candidate)
        self._last_rowid = 0
        self._count = 0

    def _read(self, conn: sqlite3.Connection, update: ReadUpdate) -> bool:
        run = conn.execute(
            "SELECT status, lifecycle_stage FROM runs WHERE run_uuid = ?", (self._run,)
        ).fetchone()
        if run is None or run[1] == "deleted":
            update.gone = True
            return True
        if self._count:
            (count,) = conn.execute(
                "SELECT count(*) FROM metrics WHERE run_uuid = ? AND rowid <= ?",
                (self._run, self._last_rowid),
            ).fetchone()
            if count != self._count:
                # Rows renumbered (VACUUM) or removed: read the run again from the start.
                update.reset = True
                self._last_rowid = self._count = 0
        rows = conn.execute(
            "SELECT rowid, key, step, value, timestamp, is_nan FROM metrics "
            "WHERE run_uuid = ? AND rowid > ? ORDER BY rowid LIMIT ?",
            (self._run, self._last_rowid, stores.BATCH_ROWS),
        ).fetchall()
        if rows:
            self._last_rowid = rows[-1][0]
            self._count += len(rows)
            stores.add_scalars(
                update,
                (
                    (
                        str(key),
                        float(step or 0),
                        math.nan if is_nan else float(value),
                        None if timestamp is None else timestamp / 1000.0,
                    )
                    for _, key, step, value, timestamp, is_nan in rows
                ),
            )
        update.tracker_status = str(run[0])
        params = conn.execute(
            "SELECT key, value FROM params WHERE run_uuid = ?", (self._run,)
        ).fetchall()
        tags = conn.execute(
            "SELECT key, value FROM tags WHERE run_uuid = ?", (self._run,)
        ).fetchall()
        update.details = _details(params, tags)
        return len(rows) < stores.BATCH_ROWS


# -- file store ---------------------------------------------------------------------


def read_meta(path: str) -> dict[str, str]:
    """The top-level ``key: value`` pairs of an MLflow ``meta.yaml`` (no YAML library).

    MLflow writes these files flat, one scalar per line; quotes around a value are
    dropped. Nested or multi-line values are not needed here and are skipped.
    """
    try:
        with open(path, "rb") as fh:
            text = fh.read(_MAX_META).decode("utf-8", "replace")
    except OSError:
        return {}
    meta: dict[str, str] = {}
    for line in text.splitlines():
        if not line or line[0] in " \t#-" or ":" not in line:
            continue
        key, _, value = line.partition(":")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        meta[key.strip()] = value
    return meta


def is_file_run(names: set[str], dirs: set[str]) -> bool:
    """Whether a folder with these file and folder names is an MLflow file-store run."""
    return _META in names and "metrics" in dirs


def file_run_name(run_dir: str) -> str:
    """``experiment/run name`` of a file-store run folder."""
    meta = read_meta(os.path.join(run_dir, _META))
    exp = read_meta(os.path.join(os.path.dirname(run_dir), _META)).get("name")
    run = meta.get("run_name") or meta.get("run_id") or os.path.basename(run_dir)
    return f"{exp or os.path.basename(os.path.dirname(run_dir))}/{run}"


def _files_under(top: str, limit: int = 4096) -> list[tuple[str, str]]:
    """(key, path) of the files under ``top``; keys use ``/`` like MLflow's."""
    out: list[tuple[str, str]] = []
    stack = [("", top)]
    while stack and len(out) < limit:
        prefix, folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            key = f"{prefix}{entry.name}"
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((key + "/", entry.path))
                elif entry.is_file(follow_symlinks=False):
                    out.append((key, entry.path))
            except OSError:
                continue
    return out


class MlflowFilesTail:
    """Tails one file-store run: each ``metrics/<key>`` file by byte offset."""

    def __init__(self, candidate: RunCandidate) -> None:
        self.candidate = candidate
        self._dir = candidate.path
        # metric file path -> (inode, offset, pending partial line)
        self._files: dict[str, tuple[int, int, bytes]] = {}
        self._meta_sig: tuple[int, ...] | None = None
        self._seen = False
        self._gone = False
        self._closed = False

    def poll(self) -> ReadUpdate:
        update = ReadUpdate()
        if self._closed:
            return update
        meta_path = os.path.join(self._dir, _META)
        sig = stores.signature(meta_path)
        if sig is None:
            if self._seen and not self._gone:
                update.gone = True
            self._gone = True
            return update
        self._gone = False
        self._seen = True
        if sig != self._meta_sig:
            self._meta_sig = sig
            meta = read_meta(meta_path)
            status = meta.get("status", "")
            update.tracker_status = _FILE_STATUS.get(status, status or None)
            if meta.get("lifecycle_stage") == "deleted":
                update.gone = True
            update.details = _details(
                self._values("params"), [(k, v) for k, v in self._values("tags")]
            )
        rows: list[tuple[str, float, float, float | None]] = []
        for key, path in _files_under(os.path.join(self._dir, "metrics")):
            rows.extend(self._metric_rows(key, path, update))
        if update.reset:
            rows = []
            self._files.clear()
            for key, path in _files_under(os.path.join(self._dir, "metrics")):
                rows.extend(self._metric_rows(key, path, update))
        stores.add_scalars(update, rows)
        return update

    def _values(self, folder: str) -> list[tuple[str, str]]:
        out = []
        for key, path in _files_under(os.path.join(self._dir, folder)):
            try:
                with open(path, "rb") as fh:
                    out.append((key, fh.read(_MAX_VALUE).decode("utf-8", "replace").strip()))
            except OSError:
                continue
        return out

    def _metric_rows(
        self, key: str, path: str, update: ReadUpdate
    ) -> list[tuple[str, float, float, float | None]]:
        try:
            st = os.stat(path)
        except OSError:
            return []
        ino, offset, pending = self._files.get(path, (st.st_ino, 0, b""))
        if ino != st.st_ino or st.st_size < offset:
            # Rewritten: every metric is read again (one reset for the whole run).
            update.reset = True
            return []
        if st.st_size == offset:
            return []
        try:
            with open(path, "rb") as fh:
                fh.seek(offset)
                data = fh.read(st.st_size - offset)
        except OSError:
            return []
        data = pending + data
        end = data.rfind(b"\n") + 1
        self._files[path] = (st.st_ino, offset + len(data) - len(pending), data[end:])
        rows = []
        for line in data[:end].split(b"\n"):
            parts = line.split()
            if len(parts) < 2:
                continue
            try:
                wall = float(parts[0]) / 1000.0
                value = float(parts[1])
                step = float(parts[2]) if len(parts) > 2 else 0.0
            except ValueError:
                continue
            rows.append((key, step, value, wall))
        return rows

    def close(self) -> None:
        self._closed = True
