"""The demo training run: a real detached process that logs and stops by itself."""

from __future__ import annotations

import itertools
import json
import time

import psutil
import pytest

from waitwise_tui.cli import main
from waitwise_tui.core.runs.demo import start_demo
from waitwise_tui.core.runs.monitor import RunMonitor


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


def _lines(path: str) -> list[dict]:
    try:
        with open(path, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.endswith("\n")]
    except FileNotFoundError:
        return []


@pytest.mark.slow  # a real training loop in a subprocess until it ends
def test_demo_logs_grow_and_it_exits_by_itself(tmp_path, monkeypatch):
    monkeypatch.setenv("WAITWISE_CONFIG_DIR", str(tmp_path / "config"))
    pid, path = start_demo(tmp_path, seconds=3.0, interval=0.2)
    assert path.startswith(str(tmp_path / ".waitwise" / "demo"))
    assert path.endswith("metrics.jsonl")
    monitor = RunMonitor(tmp_path, [path], rescan_seconds=0.5)
    seen_live = False
    counts = []
    deadline = time.monotonic() + 12
    while time.monotonic() < deadline:
        snap = monitor.poll()
        counts.append(len(_lines(path)))
        if snap.runs and snap.runs[0].status == "live":
            seen_live = True
        if not psutil.pid_exists(pid) or _wait_gone(pid, 0):
            break
        time.sleep(0.4)
    assert _wait_gone(pid, 5), "the demo should stop by itself"
    assert counts[-1] > counts[0] or counts[0] > 0
    assert any(b > a for a, b in itertools.pairwise(counts)), counts
    records = _lines(path)
    assert records[0]["max_steps"] == records[-1]["max_steps"] == records[-1]["step"]
    assert records[-1]["event"] == "finished"
    train = [r for r in records if "loss" in r]
    assert {"step", "epoch", "loss", "acc", "lr", "wall_time"} <= set(train[0])
    assert any("val_loss" in r and "val_acc" in r for r in records)
    assert train[-1]["loss"] < train[0]["loss"]
    assert seen_live
    run = monitor.poll().runs[0]
    assert run.metric("loss") is not None and run.progress == 1.0
    assert run.status in ("finished", "live")
    monitor.close()


def test_demo_command_prints_json(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("WAITWISE_CONFIG_DIR", str(tmp_path / "config"))
    assert main(["demo", "-w", str(tmp_path), "--seconds", "0.5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"pid", "path"}
    assert _wait_gone(out["pid"], 10)
    assert _lines(out["path"])[-1]["event"] == "finished"


def test_demo_command_text_and_bad_workspace(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("WAITWISE_CONFIG_DIR", str(tmp_path / "config"))
    assert main(["demo", "-w", str(tmp_path), "--seconds", "0.3"]) == 0
    out = capsys.readouterr().out
    assert "pid" in out and "metrics.jsonl" in out
    assert main(["demo", "-w", str(tmp_path / "missing")]) == 2
    assert "not a directory" in capsys.readouterr().err
