"""What a run keeps across a restart and across the tail-first handover.

- A typed total is stored in the real workspace SQLite database, keyed by the run's
  identity, and a new monitor (a restarted app) gives it back to the same run only.
- ``[run_alerts]`` settings build the ``HealthConfig`` the monitor judges with.
- A huge log opened tail first shows ``loading`` growing to the end; the handover of
  its complete history keeps the run's health: no alert twice, no status flap.
"""

from __future__ import annotations

import os
import sqlite3
import time

import pytest

from waitwise_tui.config import Settings
from waitwise_tui.core import db
from waitwise_tui.core.runs import tail as tail_mod
from waitwise_tui.core.runs.health import HealthConfig
from waitwise_tui.core.runs.monitor import RunMonitor
from waitwise_tui.core.runs.totals import TotalStore
from waitwise_tui.core.workspace import Workspace


def _log(path, steps: int) -> None:
    path.write_text("".join(f"step={i} loss={1.0 / i:.4f}\n" for i in range(1, steps + 1)))


def _run(monitor: RunMonitor):
    snapshot = monitor.poll()
    assert len(snapshot.runs) == 1
    return snapshot.runs[0]


def test_typed_total_survives_a_restart_and_follows_the_run(tmp_path) -> None:
    workspace = Workspace(tmp_path)
    log = tmp_path / "a" / "train.log"
    log.parent.mkdir()
    _log(log, 50)
    store = TotalStore(workspace.db_path)
    first = RunMonitor(tmp_path, [str(log)], writers=False, totals=store)
    run = _run(first)
    assert run.progress is None
    assert not workspace.db_path.exists()  # reading totals never creates the database
    first.set_total(run.name, 200.0)
    assert _run(first).progress == pytest.approx(0.25)
    first.close()

    conn = sqlite3.connect(workspace.db_path)
    rows = conn.execute("SELECT identity, total FROM run_totals").fetchall()
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.close()
    assert version == len(db.MIGRATIONS)
    assert [total for _, total in rows] == [200.0]
    assert os.path.realpath(log) in rows[0][0]

    # A restart: a new monitor over the same workspace gives the total back.
    again = RunMonitor(tmp_path, [str(log)], writers=False, totals=TotalStore(workspace.db_path))
    assert _run(again).progress == pytest.approx(0.25)
    again.close()

    # Another run of the same name (another directory) does not inherit it.
    other = tmp_path / "b" / "train.log"
    other.parent.mkdir()
    _log(other, 50)
    elsewhere = RunMonitor(tmp_path, [str(other)], writers=False, totals=store)
    assert _run(elsewhere).progress is None

    # Clearing it forgets it for the next start too.
    again = RunMonitor(tmp_path, [str(log)], writers=False, totals=store)
    again.set_total(_run(again).name, None)
    again.poll()
    again.close()
    restarted = RunMonitor(tmp_path, [str(log)], writers=False, totals=store)
    assert _run(restarted).progress is None


def test_run_alerts_settings_build_the_health_config() -> None:
    settings, problem = Settings.from_dict(
        {
            "run_alerts": {
                "plateau_eps": 0.05,
                "stall_min_seconds": 120,
                "warmup_points": 10,
                "loss_pattern": "loss|nll",
                "plateau_fraction": 3.0,
                "divergence_factor": "big",
                "validation_pattern": "(",
                "nope": 1,
            }
        }
    )
    config = settings.health_config()
    assert config.plateau_eps == 0.05
    assert config.stall_min_seconds == 120.0
    assert config.warmup_points == 10
    assert config.is_loss("val_nll")
    # Bad values keep their defaults and are each named in the one-line problem.
    assert config.plateau_fraction == HealthConfig().plateau_fraction
    assert config.divergence_factor == HealthConfig().divergence_factor
    assert config.validation_pattern == HealthConfig().validation_pattern
    assert problem is not None
    for key in ("plateau_fraction", "divergence_factor", "validation_pattern", "nope"):
        assert f"run_alerts.{key}" in problem
    assert "plateau_eps" not in problem
    _, problem = Settings.from_dict({"run_alerts": 3})
    assert problem == "setting 'run_alerts' must be a table"


def test_stall_threshold_from_settings_reaches_the_verdict(tmp_path) -> None:
    log = tmp_path / "train.log"
    _log(log, 5)
    now = [time.time()]
    config = HealthConfig.parse({"live_min_seconds": 5, "stall_min_seconds": 10})[0]
    monitor = RunMonitor(tmp_path, [str(log)], writers=False, clock=lambda: now[0], health=config)
    assert _run(monitor).status == "live"
    now[0] += 7
    run = _run(monitor)
    assert run.status == "idle" and "no writer process identified" in run.status_reason


@pytest.fixture
def small_thresholds(monkeypatch):
    monkeypatch.setattr(tail_mod, "TAIL_FIRST_BYTES", 1 << 20)
    monkeypatch.setattr(tail_mod, "TAIL_WINDOW", 1 << 16)
    monkeypatch.setattr(tail_mod, "HISTORY_STEP", 1 << 18)


def test_handover_keeps_health_and_alerts(tmp_path, small_thresholds) -> None:
    n = 80_000  # ~1.7 MB: opened tail first, filled in over several polls
    path = tmp_path / "metrics.csv"
    rows = [f"{i},{1.0 + 1.0 / (i + 1):.6f}\n" for i in range(n)]
    rows[n - 5] = f"{n - 5},nan\n"  # in the tail: seen by the first poll
    path.write_text("step,train_loss\n" + "".join(rows))
    old = time.time() - 7200
    os.utime(path, (old, old))
    monitor = RunMonitor(tmp_path, [str(path)], writers=False)
    snapshot = monitor.poll()
    run = snapshot.runs[0]
    raised = sorted(a.kind for a in snapshot.new_alerts)
    assert raised == ["nan", "plateau"]  # the tail's own curve is flat
    assert run.loading == 0.0
    status, reason = run.status, run.status_reason
    assert status == "idle" and "no new point for 2h" in reason
    loads, alerts, statuses = [run.loading], [], {status}
    for _ in range(50):
        snapshot = monitor.poll()
        run = snapshot.runs[0]
        alerts += snapshot.new_alerts
        statuses.add(run.status)
        if run.loading is None:
            break
        loads.append(run.loading)
    assert run.loading is None, "the history never filled in"
    assert len(loads) >= 3 and loads == sorted(loads) and loads[-1] < 1.0
    assert run.metric("train_loss").count == n  # the whole history is there
    assert alerts == []  # nothing is raised again by the handover
    assert statuses == {"idle"}  # and the old run does not look live for a poll
    assert sorted(a.kind for a in run.alerts) == raised
    assert run.last_step == n - 1


def test_filled_history_is_held_by_bounded_series(tmp_path, small_thresholds) -> None:
    """The history reaches the monitor as it is read and lands in series that keep only
    the latest raw points: the run counts every point, its summaries are exact."""
    import numpy as np

    from waitwise_tui.core.runs.series import RAW_CAP

    n = RAW_CAP + 70_000
    values = 1.0 + 1.0 / (np.arange(n) + 1.0)
    path = tmp_path / "metrics.csv"
    path.write_text(
        "step,train_loss\n" + "".join(f"{i},{v!r}\n" for i, v in enumerate(values.tolist()))
    )
    monitor = RunMonitor(tmp_path, [str(path)], writers=False)
    run = _run(monitor)
    assert run.loading == 0.0
    assert run.metric("train_loss").count < n // 10  # the tail alone, history apart
    for _ in range(200):
        run = _run(monitor)
        if run.loading is None:
            break
    assert run.loading is None, "the history never filled in"
    metric = run.metric("train_loss")
    assert metric.count == n
    assert (metric.first, metric.last) == (values[0], values[-1])
    assert (metric.min, metric.max) == (values.min(), values.max())
    assert "no data" not in monitor.chart([run.name], ["train_loss"], 60, 12)
    series = monitor._runs[run.name].series["train_loss"]
    (segment,) = series.segments
    assert len(segment) == n and segment.kept <= RAW_CAP
    assert np.array_equal(segment.values.view, values[n - segment.kept :])
