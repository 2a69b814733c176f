"""Where a notes snapshot's parts come from: git, the GPU reading, the tuner db, the runs.

Each reader returns None (or an empty result) when its source is missing or fails, so
the snapshot simply leaves that part out. All of them may block briefly (subprocess,
SQLite, the GPU reader): call them off the UI thread.
"""

from __future__ import annotations

import json
import math
import sqlite3
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from waitwise_tui.core.notes.store import BestTrial, GpuLine, SnapshotParts

GIT_TIMEOUT = 2.0


def git_state(root: Path, *, timeout: float = GIT_TIMEOUT) -> tuple[str, bool | None] | None:
    """(short commit, dirty) of the repository at ``root``; None when it is not one."""
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = head.stdout.strip()
    if head.returncode != 0 or not commit:
        return None
    try:
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return commit, None
    if status.returncode != 0:
        return commit, None
    return commit, bool(status.stdout.strip())


def best_trial(db_path: Path) -> BestTrial | None:
    """The best finished trial of the most recent study, if the database says which is best.

    The direction comes from the study's spec JSON ("direction": "minimize"/"maximize");
    without a known direction no trial is called best.
    """
    db_path = Path(db_path)
    if not db_path.is_file():
        return None
    try:
        # Read-only URI: looking never creates or migrates the database.
        conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error:
        return None
    try:
        study = conn.execute(
            "SELECT id, name, spec FROM studies ORDER BY created DESC, id DESC LIMIT 1"
        ).fetchone()
        if study is None:
            return None
        study_id, name, spec = study
        direction = _direction(spec)
        if direction is None:
            return None
        order = "ASC" if direction == "minimize" else "DESC"
        row = conn.execute(
            "SELECT number, value, params FROM trials WHERE study_id = ? AND state = 'done' "
            f"AND value IS NOT NULL ORDER BY value {order}, number ASC LIMIT 1",
            (study_id,),
        ).fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    if row is None:
        return None
    number, value, params_json = row
    try:
        params = json.loads(params_json)
    except (TypeError, ValueError):
        params = {}
    if not isinstance(params, dict):
        params = {}
    return BestTrial(str(name), int(number), float(value), params, direction)


def _direction(spec: str) -> str | None:
    try:
        loaded = json.loads(spec)
    except (TypeError, ValueError):
        return None
    direction = loaded.get("direction") if isinstance(loaded, dict) else None
    if isinstance(direction, str) and direction.lower() in ("minimize", "maximize"):
        return direction.lower()
    return None


def gpu_lines(devices: Iterable[Any]) -> list[GpuLine]:
    """One line per healthy GPU of a reading (``core.gpu.sampler.GpuInfo``, duck-typed).

    The reading is the app's latest (``ui/live.py`` owns the one NVML sampler); this
    module never opens NVML itself.
    """
    lines = []
    for device in devices:
        if getattr(device, "error", None):
            continue
        used = _number_or_none(getattr(device, "memory_used_bytes", None))
        total = _number_or_none(getattr(device, "memory_total_bytes", None))
        lines.append(
            GpuLine(
                index=int(device.index),
                name=_text_or_none(getattr(device, "name", None)),
                util_percent=_number_or_none(getattr(device, "util_percent", None)),
                mem_used_mib=None if used is None else used / 2**20,
                mem_total_mib=None if total is None else total / 2**20,
            )
        )
    return lines


def run_parts(snapshot: Any) -> dict[str, Any]:
    """Run name, step, epoch, metrics and ETA from the app's runs snapshot, duck-typed.

    Accepts an object with ``runs`` (the first unfinished run wins, else the first) or
    a single run. Fields that are missing or not numbers are left out.
    """
    if snapshot is None:
        return {}
    run = snapshot
    runs = _first_attr(snapshot, "runs")
    if runs is not None:
        if isinstance(runs, Mapping):
            runs = list(runs.values())
        try:
            runs = list(runs)
        except TypeError:
            return {}
        if not runs:
            return {}
        active = [r for r in runs if not _first_attr(r, "finished")]
        run = (active or runs)[0]
    parts: dict[str, Any] = {}
    name = _text_or_none(_first_attr(run, "name", "run"))
    if name:
        parts["run"] = name
    step = _number_or_none(_first_attr(run, "step", "last_step"))
    if step is not None:
        parts["step"] = step
    epoch = _number_or_none(_first_attr(run, "epoch"))
    if epoch is not None:
        parts["epoch"] = epoch
    metrics = _metrics(_first_attr(run, "metrics", "latest"))
    if metrics:
        parts["metrics"] = metrics
    eta = _first_attr(run, "eta_seconds", "eta")
    if isinstance(eta, timedelta):
        eta = eta.total_seconds()
    eta = _number_or_none(eta)
    if eta is not None:
        parts["eta_seconds"] = eta
    return parts


def gather_snapshot(
    base: SnapshotParts,
    *,
    root: Path,
    db_path: Path,
    gpus: Callable[[], Iterable[Any]] | None = None,
) -> SnapshotParts:
    """``base`` (time and run fields) completed with git, GPU and best-trial parts.

    ``gpus`` reads the GPUs to list (the app's live reading); a failing reader only
    drops the GPU lines.
    """
    git = git_state(root)
    try:
        devices = tuple(gpus()) if gpus is not None else ()
    except Exception:  # any NVML/driver failure just drops the GPU lines
        devices = ()
    return replace(
        base,
        gpus=tuple(gpu_lines(devices)),
        best_trial=best_trial(db_path),
        git_commit=git[0] if git else None,
        git_dirty=git[1] if git else None,
    )


def _metrics(raw: Any) -> dict[str, float]:
    if not isinstance(raw, Mapping):
        return {}
    metrics = {}
    for key, value in raw.items():
        number = _first_attr(value, "value") if hasattr(value, "value") else value
        # A NaN loss is news worth writing down, so non-finite values stay.
        if _is_number(number):
            metrics[str(key)] = float(number)
    return metrics


def _first_attr(obj: Any, *names: str) -> Any:
    for name in names:
        if isinstance(obj, Mapping) and name in obj:
            return obj[name]
        value = getattr(obj, name, None)
        if value is not None and not callable(value):
            return value
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number_or_none(value: Any) -> float | None:
    if not _is_number(value) or not math.isfinite(value):
        return None
    return float(value)


def _text_or_none(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value
    return None
