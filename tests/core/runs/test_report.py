"""The runs report document and table, from a hand-made snapshot."""

from __future__ import annotations

import json
import math

from waitwise_tui.core.runs.health import Alert
from waitwise_tui.core.runs.monitor import MetricSummary, RunInfo, RunsSnapshot
from waitwise_tui.core.runs.report import format_table, runs_report


def _snapshot() -> RunsSnapshot:
    run = RunInfo(
        name="exp",
        path="runs/exp/metrics.jsonl",
        format="jsonl",
        status="live",
        last_step=120.0,
        age_seconds=1.0,
        progress=0.25,
        eta_seconds=3725.0,
        step_rate=2.0,
        writer_pid=None,
        metrics=(
            MetricSummary("loss", 3, 2.0, math.nan, 0.5, 2.0, 120.0),
            MetricSummary("lr", 1, math.inf, math.inf, math.nan, math.nan, 120.0),
        ),
        alerts=(Alert("nan", "exp", "loss", 120.0, "loss is not finite at step 120", 9.0),),
    )
    return RunsSnapshot(10.0, (run,), ())


def test_report_is_json_safe():
    doc = runs_report(_snapshot())
    text = json.dumps(doc, allow_nan=False)
    run = json.loads(text)["runs"][0]
    assert run["metrics"]["loss"] == {
        "count": 3,
        "first": 2.0,
        "last": None,
        "min": 0.5,
        "max": 2.0,
        "last_step": 120.0,
    }
    assert run["metrics"]["lr"]["first"] is None and run["metrics"]["lr"]["min"] is None
    assert run["alerts"] == [
        {
            "kind": "nan",
            "metric": "loss",
            "step": 120.0,
            "message": "loss is not finite at step 120",
        }
    ]
    assert (run["progress"], run["eta_seconds"], run["status"]) == (0.25, 3725.0, "live")


def test_table():
    text = format_table(runs_report(_snapshot()))
    lines = text.splitlines()
    assert lines[0] == "exp  [jsonl]  live  progress 25.0%  eta 1h02m"
    assert lines[1].strip() == "runs/exp/metrics.jsonl"
    assert lines[2].split() == ["metric", "count", "last", "min", "max", "last", "step"]
    assert lines[3].split() == ["loss", "3", "-", "0.5", "2", "120"]
    assert lines[-1] == "  ! nan: loss is not finite at step 120"
    assert format_table({"runs": []}) == "no training runs found"
