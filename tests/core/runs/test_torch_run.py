"""Verdicts over a real PyTorch run, and a real event-file-only run killed with SIGKILL.

``tests/fixtures/runs/torch_mlp`` was recorded by ``make_torch_run.py`` beside it (a
small MLP trained on CPU for 600 steps with ``SummaryWriter``, exit 0 at its total):
its event directory and its stdout log are read by the real ``waitwise-tui runs --json``
as they are left after the run. The killed run is a Python process that writes
TensorBoard records the way ``SummaryWriter`` does (reopening the file, never holding
it open) until SIGKILL: nothing tells how it ended, and the verdict says so.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from waits import wait_until

from waitwise_tui.core.runs.monitor import RunMonitor
from waitwise_tui.core.runs.procs import WriterFinder

FIXTURE = Path(__file__).parents[2] / "fixtures" / "runs" / "torch_mlp"


@pytest.fixture
def torch_run(tmp_path) -> Path:
    """The recorded run, copied and dated an hour back (as a run that ended)."""
    run = tmp_path / "torch_mlp"
    shutil.copytree(FIXTURE, run)
    old = time.time() - 3600
    for path in run.rglob("*"):
        os.utime(path, (old, old))
    return run


def _report(tmp_path, *paths: Path) -> dict[str, dict]:
    env = {**os.environ, "WAITWISE_CONFIG_DIR": str(tmp_path / "config")}
    out = subprocess.run(
        [sys.executable, "-m", "waitwise_tui", "runs", "--json", "-w", str(tmp_path)]
        + [str(p) for p in paths],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    return {run["path"]: run for run in json.loads(out)["runs"]}


def test_the_real_pytorch_run_is_judged_right(tmp_path, torch_run) -> None:
    stdout_log, events = torch_run / "stdout.log", torch_run / "tb"
    runs = _report(tmp_path, stdout_log, events)
    log = runs[str(stdout_log)]
    # The stdout log reached 600/600 and went quiet: finished, never crashed.
    assert log["status"] == "finished"
    assert "600/600" in log["status_reason"]
    assert log["progress"] == 1.0
    # The event files alone do not say the run ended: not crashed, not stalled.
    tb = runs[str(events)]
    assert tb["status"] == "idle", tb["status_reason"]
    assert "no writer process identified" in tb["status_reason"]
    # val/loss falls ~5x over the run: no plateau, no divergence, no alert at all.
    for run in (log, tb):
        assert run["alerts"] == [], run["alerts"]
    metrics = tb["metrics"]
    assert metrics["val/loss"]["count"] == 24
    assert metrics["val/loss"]["last"] < metrics["val/loss"]["first"] / 4
    assert metrics["train/loss"]["count"] == 600


def test_the_real_run_replayed_live_raises_no_alert(tmp_path, torch_run) -> None:
    """The same curves fed poll by poll as they were written (the app's path)."""
    from waitwise_tui.core.runs.model import RunCandidate
    from waitwise_tui.core.runs.readers import read_all

    whole = read_all(RunCandidate(str(torch_run / "tb"), "tfevents", "torch_mlp"))
    points = sorted(whole.iter_points(), key=lambda p: (p.step, p.metric))
    replay = tmp_path / "replay.jsonl"
    replay.touch()
    monitor = RunMonitor(tmp_path, [str(replay)], writers=False)
    alerts = []
    for start in range(0, len(points), 40):
        with open(replay, "a") as fh:
            for p in points[start : start + 40]:
                fh.write(json.dumps({"step": p.step, p.metric: p.value}) + "\n")
        alerts += monitor.poll().new_alerts
    assert [a.kind for a in alerts] == []


# Writes TensorBoard scalar records, reopening the file for each flush, until killed.
EVENT_WRITER = """
import os, struct, sys, time
from waitwise_tui.core.runs.tfevents import masked_crc32c

def record(data):
    head = struct.pack("<Q", len(data))
    crc = lambda b: struct.pack("<I", masked_crc32c(b))
    return head + crc(head) + data + crc(data)

def scalar(step, value):
    tag = b"train/loss"
    v = b"\\x0a" + bytes([len(tag)]) + tag + b"\\x15" + struct.pack("<f", value)
    summary = b"\\x0a" + bytes([len(v)]) + v
    event = b"\\x09" + struct.pack("<d", time.time()) + b"\\x10" + bytes([step])
    return record(event + b"\\x2a" + bytes([len(summary)]) + summary)

path = os.path.join(sys.argv[1], "events.out.tfevents.1.host")
for step in range(1, 100):
    with open(path, "ab") as f:
        f.write(scalar(step, 1.0 / step))
    time.sleep(0.05)
"""


def test_sigkill_of_an_event_file_only_run_says_the_exit_is_unknown(tmp_path) -> None:
    run_dir = tmp_path / "tb"
    run_dir.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", EVENT_WRITER, str(run_dir)], env=env)
    try:
        monitor = RunMonitor(
            tmp_path, [str(run_dir)], rescan_seconds=0.0, writers=WriterFinder(scan_seconds=0.0)
        )
        alerts = []

        def poll(condition):
            snapshot = monitor.poll()
            alerts.extend(snapshot.new_alerts)
            run = snapshot.runs[0] if snapshot.runs else None
            return run if run is not None and condition(run) else None

        run = wait_until(lambda: poll(lambda r: r.writer_pid == proc.pid), "the writer")
        assert run.status == "live"
        assert "writes matched the log's growth" in run.writer_evidence
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        run = wait_until(lambda: poll(lambda r: r.status != "live"), "the run to end")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
    # No exit code, end marker or crash line: the run ended, how is unknown. No bell.
    assert run.status == "ended"
    assert run.status_reason.startswith(f"writer pid {proc.pid} exited at step ")
    assert run.status_reason.endswith(
        "exit status unknown (no exit code, end marker or crash line)"
    )
    assert alerts == []
