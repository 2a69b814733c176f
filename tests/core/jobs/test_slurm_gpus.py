"""The cluster view against the real Slurm cluster (.ci/slurm/up: one node, two gres
GPUs, the fake NVML behind ``gpu --json`` in the step).

One short job (``--time=2``, one GPU) carries every check: its GPU appears with the
rank of a process of the job; the step is restarted when killed; the time-limit check
reads the job's end time and warns; the signal option delivers SIGUSR1 to the batch
script (which traps it and ends); ending the job ends the stream.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from waitwise_tui.core.jobs.gpus import JobGpuCollector, read_allocation, to_rows
from waitwise_tui.core.jobs.timelimit import TimeLimitWatch, check

pytestmark = [pytest.mark.usefixtures("slurm"), pytest.mark.slow, pytest.mark.xdist_group("slurm")]

BATCH = """#!/bin/sh
trap 'echo got > usr1; kill $child; exit 0' USR1
RANK=3 LOCAL_RANK=1 SLURM_PROCID=3 sleep 110 &
child=$!
echo "$child ${CUDA_VISIBLE_DEVICES%%,*}" > pids.tmp && mv pids.tmp pids
wait $child
"""

COMMAND = [sys.executable, "-m", "waitwise_tui"]


def wait_until(check_fn, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check_fn()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def steps(job_id: str) -> list[str]:
    out = subprocess.run(
        ["squeue", "-h", "-s", "-j", job_id, "-o", "%i"], capture_output=True, text=True
    ).stdout
    return [s for s in out.split() if s.split(".")[-1].isdigit()]


@pytest.fixture
def job(tmp_path: Path):
    (tmp_path / "batch.sh").write_text(BATCH)
    job_id = (
        subprocess.run(
            [
                "sbatch",
                "--parsable",
                "--gres=gpu:1",
                "--time=2",
                f"--chdir={tmp_path}",
                f"--output={tmp_path}/out.log",
                str(tmp_path / "batch.sh"),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .split(";")[0]
    )
    try:
        wait_until(lambda: (tmp_path / "pids").exists(), 60, "the job to start")
        yield job_id
    finally:
        subprocess.run(["scancel", job_id], check=False)


def test_job_gpus_ranks_restart_time_limit_signal_and_end(job, tmp_path):
    env = os.environ | {
        "WAITWISE_FAKE_NVML": "2x0",
        "WAITWISE_FAKE_NVML_PIDS": str(tmp_path / "pids"),
    }
    allocation = read_allocation(job)
    assert allocation.state == "RUNNING" and allocation.nodes
    node = allocation.nodes[0]
    mine = allocation.gpus[node]
    assert len(mine) == 1  # --gres=gpu:1: the IDX Slurm chose
    child_pid = int((tmp_path / "pids").read_text().split()[0])

    collector = JobGpuCollector(
        allocation, COMMAND, seconds=0.3, env=env, backoff=(0.2, 1.0), timeout=10
    ).start()
    try:
        assert collector.wait_for_nodes(30), collector.errors
        rows = to_rows(job, collector.readings())
        # Only the job's GPU, though NVML in the step sees both of the node.
        assert [r["gpu"] for r in rows] == list(mine)
        procs = {p["pid"]: p for p in rows[0]["processes"]}
        assert procs[child_pid]["rank"] == 3 and procs[child_pid]["local_rank"] == 1

        # Kill the step: the stream comes back with a new one.
        first = wait_until(lambda: steps(job), 10, "the step in squeue")
        subprocess.run(["scancel", first[0]], check=True)
        wait_until(lambda: collector.restarts >= 1, 30, "a restart")
        wait_until(lambda: set(steps(job)) - set(first), 30, "a new step")
        before = collector.readings()[node].time
        wait_until(lambda: collector.readings()[node].time > before, 30, "readings again")

        # The time limit: 2 minutes against an ETA of an hour.
        verdict = check(
            now=time.time(),
            end_time=allocation.end_time,
            eta_s=3600,
            step=1000,
            step_rate=10,
            lead_s=1800,
        )
        assert verdict is not None and verdict.hits and verdict.within_lead
        assert 0 < verdict.left_s <= 120
        watch = TimeLimitWatch(job, signal="USR1")
        events = watch.update(verdict, time.time())
        assert len(events) == 1
        assert "will hit the time limit at about step" in events[0].message
        assert "sent SIGUSR1" in events[0].message
        # The batch script traps it and ends; the job's end ends the stream.
        wait_until(lambda: (tmp_path / "usr1").exists(), 30, "the trap to run")
        wait_until(lambda: collector.ended, 60, "the stream to stop with the job")
        assert not any(s.alive for s in collector.streams)
    finally:
        collector.stop()


def test_jobs_gpus_cli_prints_the_rank(job, tmp_path):
    settings = tmp_path / "cfg"
    settings.mkdir()
    (settings / "settings.toml").write_text(
        f"[slurm]\ngpu_command = {json.dumps(COMMAND)}\ngpu_watch_seconds = 0.3\n"
    )
    (tmp_path / "ws").mkdir()
    env = os.environ | {
        "WAITWISE_FAKE_NVML": "2x0",
        "WAITWISE_FAKE_NVML_PIDS": str(tmp_path / "pids"),
        "WAITWISE_CONFIG_DIR": str(settings),
    }
    base = [*COMMAND, "jobs", "gpus", job, "--workspace", str(tmp_path / "ws")]
    out = subprocess.run([*base, "--json"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["gpus"]
    assert len(rows) == 1 and rows[0]["job_id"] == job
    assert any(p["rank"] == 3 for p in rows[0]["processes"])
    text = subprocess.run(base, capture_output=True, text=True, env=env, timeout=60)
    assert text.returncode == 0, text.stderr
    assert "rank 3 (local 1)" in text.stdout and "sleep 110" in text.stdout
