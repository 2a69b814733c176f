"""Columnar batches end to end: monitor, read_all, the CLI report, the tuner's log
fallback; and the JSONL end marker."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from ingest_fixtures import candidate

from waitwise_tui.core.jobs.result import read_result
from waitwise_tui.core.runs.jsonl import END_EVENTS
from waitwise_tui.core.runs.model import Column, Point, ReadUpdate, RunCandidate
from waitwise_tui.core.runs.monitor import RunMonitor
from waitwise_tui.core.runs.readers import read_all
from waitwise_tui.core.runs.report import runs_report


class _Scripted:
    def __init__(self, candidate: RunCandidate, updates: list[ReadUpdate]) -> None:
        self.candidate = candidate
        self.updates = updates

    def poll(self) -> ReadUpdate:
        return self.updates.pop(0) if self.updates else ReadUpdate()

    def close(self) -> None:
        self.updates = []


def _monitor(tmp_path, updates: list[ReadUpdate]) -> RunMonitor:
    cand = RunCandidate(str(tmp_path / "a.jsonl"), "jsonl", "a")
    return RunMonitor(
        tmp_path,
        clock=lambda: 5000.0,
        discover=lambda root, paths: [cand],
        open_tail=lambda c: _Scripted(c, list(updates)),
        writers=False,
    )


def _col(metric: str, steps, values) -> Column:
    return Column(metric, np.asarray(steps, "float64"), np.asarray(values, "float64"))


def _snapshot(tmp_path, update: ReadUpdate) -> dict:
    monitor = _monitor(tmp_path, [update])
    snap = monitor.poll()
    monitor.close()
    (run,) = snap.runs
    return {
        "metrics": {
            m.name: (m.count, m.first, m.last, m.min, m.max, m.last_step) for m in run.metrics
        },
        "alerts": sorted((a.kind, a.metric, a.step) for a in snap.new_alerts),
        "progress": run.progress,
        "last_step": run.last_step,
    }


def test_monitor_gives_the_same_health_from_columns_and_points(tmp_path) -> None:
    n = 600
    steps = np.arange(n, dtype="float64")
    loss = np.where(steps < 300, 2.0 - steps / 300, 10.0)
    loss[450] = math.nan
    acc = np.linspace(0.1, 0.9, n)
    as_points = [Point("loss", float(s), float(v)) for s, v in zip(steps, loss, strict=True)]
    as_points += [Point("acc", float(s), float(v)) for s, v in zip(steps, acc, strict=True)]
    as_points.append(Point("max_steps", 0.0, 1200.0))
    by_points = _snapshot(tmp_path, ReadUpdate(points=as_points))
    # The same log as columns for its first part and points for the rest.
    mixed = ReadUpdate(
        columns=[
            _col("loss", steps[:500], loss[:500]),
            _col("acc", steps[:500], acc[:500]),
            _col("val_loss", [], []),
            _col("max_steps", [0.0], [1200.0]),
        ],
        points=[p for p in as_points if p.metric != "max_steps" and p.step >= 500],
    )
    by_columns = _snapshot(tmp_path, mixed)
    assert by_columns == by_points
    assert ("nan", "loss", 450.0) in by_points["alerts"]
    assert any(kind == "divergence" for kind, *_ in by_points["alerts"])
    assert by_points["progress"] == pytest.approx(599 / 1200)
    assert "val_loss" not in by_columns["metrics"]


def test_iter_points_orders_columns_before_points() -> None:
    update = ReadUpdate(
        points=[Point("loss", 3.0, 0.1)],
        columns=[
            Column("loss", np.array([1.0, 2.0]), np.array([0.5, math.nan]), np.array([7.0, np.nan]))
        ],
    )
    got = [(p.metric, p.step, p.wall_time) for p in update.iter_points()]
    assert got == [("loss", 1.0, 7.0), ("loss", 2.0, None), ("loss", 3.0, None)]
    assert update.has_scalars() and not ReadUpdate(columns=[_col("x", [], [])]).has_scalars()


def _big_csv(path, rows: int = 20_000, last: float = 0.125) -> None:
    lines = [f"{i},{1.0 / (i + 1)!r}" for i in range(rows - 1)]
    path.write_text("step,val_loss\n" + "\n".join(lines) + f"\n{rows - 1},{last}\n")


def test_read_all_keeps_log_order_when_columns_follow_points(tmp_path, monkeypatch) -> None:
    # A first poll of a few points, then a big poll of columns: read_all's merged
    # update must still say "columns before points" in log order.
    from waitwise_tui.core.runs import readers

    first = ReadUpdate(points=[Point("loss", 1.0, 0.5)])
    second = ReadUpdate(columns=[_col("loss", [2.0, 3.0], [0.4, 0.3])])
    third = ReadUpdate(points=[Point("loss", 4.0, 0.2)])
    monkeypatch.setattr(readers, "open_tail", lambda c: _Scripted(c, [first, second, third]))
    total = readers.read_all(RunCandidate(str(tmp_path / "x"), "csv", "x"))
    assert [p.step for p in total.iter_points()] == [1.0, 2.0, 3.0, 4.0]


def test_cli_report_and_tuner_read_a_big_csv_log(tmp_path) -> None:
    log = tmp_path / "stdout.log"
    _big_csv(log)
    update = read_all(candidate(log, "csv"))
    assert update.columns and not update.points
    result = read_result(tmp_path, "val_loss")
    assert (result.value, result.source) == (0.125, "log")
    monitor = RunMonitor(tmp_path, [str(log)], writers=False)
    report = runs_report(monitor.poll())
    monitor.close()
    (run,) = report["runs"]
    text = json.dumps(run)
    assert "val_loss" in text and "20000" in text


def _jsonl(tmp_path, lines: list[dict]) -> ReadUpdate:
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return read_all(candidate(path, "jsonl"))


@pytest.mark.parametrize("word", sorted(END_EVENTS))
@pytest.mark.parametrize("key", ["event", "status"])
def test_jsonl_end_marker_sets_finished(tmp_path, key, word) -> None:
    update = _jsonl(tmp_path, [{"step": 1, "loss": 0.5}, {key: word.upper(), "step": 2}])
    assert update.finished
    assert [(p.metric, p.step) for p in update.points] == [("loss", 1.0)]


def test_jsonl_other_events_do_not_finish(tmp_path) -> None:
    update = _jsonl(
        tmp_path,
        [{"event": "start", "step": 0}, {"status": "running", "loss": 1.0}, {"event": 1}],
    )
    assert not update.finished
    assert [p.metric for p in update.points] == ["loss", "event"]


def test_series_keeps_a_bulk_block_without_writing_it() -> None:
    from waitwise_tui.core.runs.series import Series

    steps = np.arange(1000.0)
    values = np.linspace(1.0, 2.0, 1000)
    values[10] = math.inf
    steps.flags.writeable = values.flags.writeable = False
    kept = Series("x")
    kept.append(steps, values)
    kept.append([1000.0, 1001.0], [5.0, 6.0])
    copied = Series("x")
    for lo in range(0, 1000, 97):
        copied.append(steps[lo : lo + 97].copy(), values[lo : lo + 97].copy())
    copied.append([1000.0, 1001.0], [5.0, 6.0])
    assert steps[-1] == 999.0 and values[-1] == 2.0
    assert (kept.count, kept.max, kept.nonfinite, kept.first_nonfinite_step) == (1002, 6.0, 1, 10.0)
    (a,), (b,) = kept.segments, copied.segments
    for lo, hi in [(0, 1002), (3, 517), (16, 32), (900, 1002)]:
        assert a.aggregate(lo, hi) == pytest.approx(b.aggregate(lo, hi))
