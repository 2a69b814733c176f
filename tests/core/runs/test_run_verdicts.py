"""Run verdicts from real processes: the monitor reads real logs and finds real writers.

Each run is a Python subprocess printing ``train N/TOTAL loss=x`` lines; a test holds it
at a gate (a line on its stdin) until the monitor has identified it, then lets it
finish, kills it with SIGKILL or makes it raise, and asserts the status, the evidence it
rests on (``status_reason``) and the alerts fired.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
from waits import wait_until

from waitwise_tui.core.runs.monitor import RunMonitor
from waitwise_tui.core.runs.procs import WriterFinder

# argv: total, steps before the gate, what to do after it (finish | raise | hang).
TRAIN = """
import sys, time
total, before, then = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for i in range(1, before + 1):
    print(f"train {i}/{total} loss={1.0 / i:.4f}", flush=True)
sys.stdin.readline()
if then == "raise":
    raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
if then == "finish":
    for i in range(before + 1, total + 1):
        print(f"train {i}/{total} loss={1.0 / i:.4f}", flush=True)
    print("Training complete" if len(sys.argv) > 4 else "", flush=True)
"""

UNTOTALLED = """
import sys
for i in range(1, 6):
    print(f"step={i} loss={1.0 / i:.4f}", flush=True)
sys.stdin.readline()
"""


def _monitor(tmp_path, log) -> RunMonitor:
    return RunMonitor(
        tmp_path, [str(log)], rescan_seconds=0.0, writers=WriterFinder(scan_seconds=0.0)
    )


def _run_until(monitor: RunMonitor, condition, what: str):
    alerts = []

    def step():
        snapshot = monitor.poll()
        alerts.extend(snapshot.new_alerts)
        run = snapshot.runs[0] if snapshot.runs else None
        return run if run is not None and condition(run) else None

    return wait_until(step, what), alerts


def _start(code: str, *args: str, stdout) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-u", "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=stdout,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def procs():
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def test_a_tee_pipeline_that_exits_0_at_its_total_is_finished(tmp_path, procs):
    log = tmp_path / "train.log"
    train = _start(TRAIN, "20", "10", "finish", stdout=subprocess.PIPE)
    tee = subprocess.Popen(["tee", str(log)], stdin=train.stdout, stdout=subprocess.DEVNULL)
    train.stdout.close()
    procs += [train, tee]
    monitor = _monitor(tmp_path, log)
    # The writer can be found before tee has passed on all ten lines: wait for both.
    run, _ = _run_until(
        monitor,
        lambda r: r.writer_pid == train.pid and r.progress == pytest.approx(0.5),
        "the writer behind tee, its ten lines read",
    )
    assert run.status == "live" and "piped into tee" in run.status_reason
    assert run.progress == pytest.approx(0.5)
    train.stdin.write("go\n")
    train.stdin.close()
    assert train.wait(timeout=30) == 0
    run, alerts = _run_until(monitor, lambda r: r.status != "live", "the run to end")
    assert run.status == "finished"
    assert run.status_reason == f"writer pid {train.pid} exited after reaching its total at 20/20"
    assert [a.kind for a in alerts] == ["finished"]


@pytest.mark.parametrize("total", [True, False])
def test_sigkill_mid_run(tmp_path, procs, total):
    log = tmp_path / "train.log"
    with open(log, "w") as out:
        args = ("20", "5", "hang") if total else ()
        proc = _start(TRAIN if total else UNTOTALLED, *args, stdout=out)
    procs.append(proc)
    monitor = _monitor(tmp_path, log)
    run, _ = _run_until(monitor, lambda r: r.writer_pid == proc.pid, "the writer")
    assert run.status == "live" and "has the log open for writing" in run.status_reason
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    run, alerts = _run_until(monitor, lambda r: r.status != "live", "the run to end")
    if total:
        assert run.status == "crashed"
        assert run.status_reason == f"writer pid {proc.pid} exited before its total, at 5/20"
        assert [a.kind for a in alerts] == ["crashed"]
    else:
        # Nothing says why it stopped: the honest word, and no bell.
        assert run.status == "ended"
        assert "exit status unknown (no exit code, end marker or crash line)" in run.status_reason
        assert alerts == []


def test_a_traceback_then_exit_1_is_a_crash_with_its_exception(tmp_path, procs):
    log = tmp_path / "train.log"
    with open(log, "w") as out:
        proc = _start(TRAIN, "20", "5", "raise", stdout=out)
    procs.append(proc)
    monitor = _monitor(tmp_path, log)
    _run_until(monitor, lambda r: r.writer_pid == proc.pid, "the writer")
    proc.stdin.write("go\n")
    proc.stdin.close()
    assert proc.wait(timeout=30) == 1
    run, alerts = _run_until(monitor, lambda r: r.status != "live", "the run to end")
    assert run.status == "crashed"
    assert run.status_reason == (
        "the log ends with: RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB"
    )
    assert [a.kind for a in alerts] == ["crashed"]


def test_an_unrelated_python_in_the_directory_does_not_decide_the_status(tmp_path, procs):
    log = tmp_path / "train.log"
    with open(log, "w") as out:
        proc = _start(TRAIN, "20", "5", "hang", stdout=out)
    sleeper = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], cwd=tmp_path, stdin=subprocess.PIPE
    )
    procs += [proc, sleeper]
    monitor = _monitor(tmp_path, log)
    run, _ = _run_until(monitor, lambda r: r.writer_pid is not None, "a writer")
    assert run.writer_pid == proc.pid
    sleeper.kill()
    sleeper.wait(timeout=10)
    assert monitor.poll().runs[0].status == "live"


def test_a_job_exit_json_is_the_final_word(tmp_path):
    job = tmp_path / "jobs" / "7"
    job.mkdir(parents=True)
    (job / "stdout.log").write_text("train 3/20 loss=0.5\n")
    (job / "exit.json").write_text('{"exit_code": 0, "signal": null}')
    monitor = RunMonitor(tmp_path, [str(job / "stdout.log")], writers=False)
    run = monitor.poll().runs[0]
    assert run.status == "finished"
    assert run.status_reason == "exit code 0 (exit.json) at 3/20"


def test_a_path_that_does_not_exist_yet_is_waited_for(tmp_path):
    logdir = tmp_path / "runs" / "exp"
    monitor = RunMonitor(tmp_path, [str(logdir)], rescan_seconds=0.0, writers=False)
    snapshot = monitor.poll()
    assert snapshot.runs == () and snapshot.waiting == (str(logdir),)
    logdir.mkdir(parents=True)
    (logdir / "metrics.jsonl").write_text('{"step": 1, "loss": 2.0}\n')
    snapshot = monitor.poll()
    assert snapshot.waiting == () and [r.name for r in snapshot.runs] == ["runs/exp/metrics"]
