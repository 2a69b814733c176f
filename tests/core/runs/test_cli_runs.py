"""``waitwise-tui runs``: JSON schema, table, NaN handling, bad paths."""

from __future__ import annotations

import json

import pytest

from waitwise_tui.cli import main

RUN_KEYS = {"path", "format", "status", "progress", "eta_seconds", "metrics", "alerts"}
METRIC_KEYS = {"count", "first", "last", "min", "max", "last_step"}


@pytest.fixture(autouse=True)
def _config(tmp_path, monkeypatch):
    monkeypatch.setenv("WAITWISE_CONFIG_DIR", str(tmp_path / "config"))


def _logs(tmp_path):
    (tmp_path / "a").mkdir()
    jsonl = tmp_path / "a" / "metrics.jsonl"
    jsonl.write_text(
        "".join(
            json.dumps({"step": i, "loss": v}) + "\n"
            for i, v in enumerate([2.0, 1.0, float("nan"), 0.5], start=1)
        )
    )
    csv = tmp_path / "a" / "metrics.csv"
    csv.write_text("step,  train_loss  ,acc\n1,nan,0.1\n2,inf,0.2\n")
    return jsonl, csv


def test_runs_json_schema(tmp_path, capsys):
    jsonl, csv = _logs(tmp_path)
    assert main(["runs", str(jsonl), str(csv), "--json", "-w", str(tmp_path)]) == 0
    raw = capsys.readouterr().out
    assert "NaN" not in raw and "Infinity" not in raw
    doc = json.loads(raw)
    runs = {r["format"]: r for r in doc["runs"]}
    assert set(runs) == {"jsonl", "csv"}
    for run in doc["runs"]:
        assert set(run) >= RUN_KEYS
        for metric in run["metrics"].values():
            assert set(metric) == METRIC_KEYS
        for alert in run["alerts"]:
            assert set(alert) == {"kind", "metric", "step", "message"}
    loss = runs["jsonl"]["metrics"]["loss"]
    assert loss == {"count": 4, "first": 2.0, "last": 0.5, "min": 0.5, "max": 2.0, "last_step": 4.0}
    assert [(a["kind"], a["metric"], a["step"]) for a in runs["jsonl"]["alerts"]] == [
        ("nan", "loss", 3.0)
    ]
    train = runs["csv"]["metrics"]["train_loss"]  # padding stripped from the column name
    assert train["count"] == 2
    assert train["first"] is None and train["last"] is None
    assert train["min"] is None and train["max"] is None
    assert runs["csv"]["path"] == str(csv)
    assert runs["jsonl"]["status"] in ("live", "idle")
    assert runs["jsonl"]["progress"] is None and runs["jsonl"]["eta_seconds"] is None


def test_runs_scans_the_workspace_and_prints_a_table(tmp_path, capsys):
    _logs(tmp_path)
    assert main(["runs", "-w", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "metric" in out and "loss" in out and "train_loss" in out
    assert "! nan:" in out


def test_runs_empty_workspace(tmp_path, capsys):
    assert main(["runs", "-w", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"runs": []}
    assert main(["runs", "-w", str(tmp_path)]) == 0
    assert "no training runs found" in capsys.readouterr().out


def test_runs_missing_path(tmp_path, capsys):
    assert main(["runs", str(tmp_path / "nope.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err
