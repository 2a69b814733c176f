"""How SlurmBackend behaves when Slurm misbehaves, with stand-in tools on PATH.

The real cluster can't be made to hang mid-``sbatch`` or lose its controller on cue,
so these use small shell scripts that print what Slurm prints in those cases. The
happy paths run against real Slurm in test_slurm.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from waitwise_tui.core.db import connect
from waitwise_tui.core.jobs.slurm import SlurmBackend, SlurmConfig, job_key
from waitwise_tui.core.workspace import Workspace


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def tools(tmp_path: Path, monkeypatch, **scripts: str) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, body in scripts.items():
        path = bin_dir / name
        path.write_text("#!/bin/sh\n" + body + "\n")
        path.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin")
    return bin_dir


def backend(tmp_path: Path, clock: Clock, **config: float) -> SlurmBackend:
    ws = Workspace(tmp_path / "ws")
    ws.ensure()
    settings = {"poll_seconds": 0.0, "retry_seconds": 30.0, "command_timeout": 0.5} | config
    return SlurmBackend(ws, connect(ws.db_path), config=SlurmConfig(**settings), clock=clock)


def calls(tmp_path: Path) -> list[str]:
    path = tmp_path / "sbatch.calls"
    return path.read_text().splitlines() if path.exists() else []


def test_missing_sbatch_keeps_the_job_queued_and_retries(tmp_path, monkeypatch):
    tools(tmp_path, monkeypatch)  # an empty bin dir: no Slurm tools at all
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    clock = Clock()
    slurm = backend(tmp_path, clock)
    job = slurm.submit(["true"], workdir=str(tmp_path))
    assert job.state == "queued" and job.backend_id is None
    assert job.reason == "not submitted: sbatch not found on PATH" + (
        " (Slurm's client tools are needed); retrying in 30 s"
    )
    assert slurm.problem.startswith("sbatch not found")
    assert job.attempts == 0

    # Slurm appears (the module was loaded, say): the next try after the wait submits.
    tools(tmp_path, monkeypatch, sbatch=f'echo "$@" >> {tmp_path}/sbatch.calls; echo 77')
    slurm.poll()
    assert calls(tmp_path) == []  # still inside the retry wait
    clock.now += 31
    slurm.poll()
    again = slurm.store.get(job.id)
    assert again is not None and again.backend_id == "77" and again.attempts == 1
    assert len(calls(tmp_path)) == 1 and slurm.problem == ""


def test_controller_down_keeps_jobs_and_says_so(tmp_path, monkeypatch):
    tools(
        tmp_path,
        monkeypatch,
        sbatch="echo 88",
        squeue='echo "squeue: error: Unable to contact slurm controller (connect failure)" >&2;'
        " exit 1",
    )
    clock = Clock()
    slurm = backend(tmp_path, clock)
    job = slurm.submit(["true"], workdir=str(tmp_path))
    assert job.backend_id == "88"
    assert slurm.poll() == []
    kept = slurm.store.get(job.id)
    assert kept is not None and kept.state == "queued" and kept.backend_id == "88"
    assert "controller not reachable" in slurm.problem
    assert "jobs kept, trying again" in slurm.problem


def test_hung_sbatch_is_looked_up_not_submitted_twice(tmp_path, monkeypatch):
    ws_root = (tmp_path / "ws").resolve()
    key = job_key(Workspace(ws_root), 1, 1)
    queue = tmp_path / "queue"
    # sbatch takes the job (writes it to the queue) but hangs before answering.
    tools(
        tmp_path,
        monkeypatch,
        sbatch=f'echo "$@" >> {tmp_path}/sbatch.calls\n'
        f'echo "501|PENDING|Priority|0:00|1:00||gres:gpu:1|debug|me|{key}|ww-true" > {queue}\n'
        "sleep 5",
        squeue=f"cat {queue} 2>/dev/null; exit 0",
    )
    clock = Clock()
    slurm = backend(tmp_path, clock)
    job = slurm.submit(["true"], workdir=str(tmp_path), gpus=1)
    assert job.state == "starting" and job.backend_id is None
    assert "did not answer within 0.5 s" in job.reason
    assert "checking whether Slurm took it" in job.reason
    slurm.poll()
    adopted = slurm.store.get(job.id)
    assert adopted is not None and adopted.backend_id == "501"
    slurm.poll()
    assert len(calls(tmp_path)) == 1  # found by its key: never submitted again
    shown = slurm.store.get(job.id)
    assert shown is not None and shown.reason == "Slurm PENDING (Priority)"


def test_hung_sbatch_that_slurm_never_saw_is_submitted_again(tmp_path, monkeypatch):
    tools(
        tmp_path,
        monkeypatch,
        sbatch=f'echo "$@" >> {tmp_path}/sbatch.calls\n'
        f"if [ ! -e {tmp_path}/hung ]; then touch {tmp_path}/hung; sleep 5; fi\necho 602",
        squeue="exit 0",
    )
    clock = Clock()
    slurm = backend(tmp_path, clock)
    job = slurm.submit(["true"], workdir=str(tmp_path))
    assert job.state == "starting"
    slurm.poll()  # Slurm answers, has no such job, but the wait isn't over yet
    current = slurm.store.get(job.id)
    assert current is not None and current.state == "starting"
    clock.now += 31
    slurm.poll()
    resubmitted = slurm.store.get(job.id)
    assert resubmitted is not None and resubmitted.backend_id == "602"
    assert len(calls(tmp_path)) == 2


@pytest.mark.parametrize(
    ("state", "exit_code", "expected"),
    [
        ("TIMEOUT", "0:15", ("failed", "timed out (Slurm time limit)")),
        ("NODE_FAIL", "0:0", ("lost", "Slurm NODE_FAIL on node9")),
        ("OUT_OF_MEMORY", "0:125", ("failed", "out of memory on node9")),
        ("FAILED", "2:0", ("failed", "Slurm FAILED: exit code 2")),
    ],
)
def test_end_states_without_an_exit_record(tmp_path, monkeypatch, state, exit_code, expected):
    tools(
        tmp_path,
        monkeypatch,
        sbatch="echo 700",
        squeue=f'echo "700|{state}|None|0:10|1:00|node9||debug|me|(null)|ww-true"',
        scontrol=f'echo "JobId=700 JobState={state} ExitCode={exit_code} NodeList=node9"',
    )
    slurm = backend(tmp_path, Clock())
    job = slurm.submit(["true"], workdir=str(tmp_path))
    (ended,) = slurm.poll()
    assert (ended.state, ended.reason) == expected
    assert ended.id == job.id


def test_node_failure_with_attempts_left_is_requeued_and_shown(tmp_path, monkeypatch):
    tools(
        tmp_path,
        monkeypatch,
        sbatch="echo 800",
        squeue='echo "800|NODE_FAIL|None|0:10|1:00|node3||debug|me|(null)|ww-true"',
        scontrol='echo "JobId=800 JobState=NODE_FAIL ExitCode=0:0 NodeList=node3"',
    )
    slurm = backend(tmp_path, Clock())
    job = slurm.submit(["true"], workdir=str(tmp_path), max_attempts=2)
    assert slurm.poll() == []  # not ended: submitted again, and the reason says why
    again = slurm.store.get(job.id)
    assert again is not None and again.state == "queued" and again.attempts == 2
    assert again.reason == "submitted again after Slurm NODE_FAIL on node3"
    log = slurm.log_path(job.id).read_text()
    assert "attempt 2" in log


def test_requeue_by_slurm_is_shown(tmp_path, monkeypatch):
    state_file = tmp_path / "state"
    state_file.write_text("RUNNING")
    tools(
        tmp_path,
        monkeypatch,
        sbatch="echo 900",
        squeue=f'echo "900|$(cat {state_file})|None|0:10|1:00|node4||debug|me|(null)|ww-true"',
        scontrol='echo "JobId=900 GRES=gpu:1(IDX:1)"',
    )
    slurm = backend(tmp_path, Clock())
    job = slurm.submit(["true"], workdir=str(tmp_path), gpus=1)
    slurm.poll()
    running = slurm.store.get(job.id)
    assert running is not None and running.state == "running" and running.gpus == "1"
    state_file.write_text("PENDING")
    slurm.poll()
    requeued = slurm.store.get(job.id)
    assert requeued is not None and requeued.state == "queued"
    assert requeued.reason == "requeued by Slurm: Slurm PENDING"


def test_sbatch_gets_the_argv_as_positional_arguments(tmp_path, monkeypatch):
    tools(tmp_path, monkeypatch, sbatch=f'printf "%s\\n" "$@" > {tmp_path}/argv; echo 5')
    slurm = backend(tmp_path, Clock())
    slurm.config = SlurmConfig(partition="gpu", account="lab", extra_args=("--exclusive",))
    slurm.submit(
        ["python", "train.py", "--lr", "; touch pwned", "$(id)"],
        workdir=str(tmp_path),
        gpus=2,
        timeout_seconds=90,
        options={"cpus_per_task": 8, "mem": "16G", "qos": "high"},
    )
    argv = (tmp_path / "argv").read_text().splitlines()
    script = argv.index(str(slurm.batch_script()))
    flags, rest = argv[:script], argv[script + 1 :]
    assert "--gres=gpu:2" in flags and "--cpus-per-task=8" in flags and "--mem=16G" in flags
    assert "--time=2" in flags and "--partition=gpu" in flags and "--account=lab" in flags
    assert "--qos=high" in flags and "--exclusive" in flags and "--open-mode=append" in flags
    assert not any(flag.startswith("--wrap") for flag in flags)
    assert rest[-4:] == ["train.py", "--lr", "; touch pwned", "$(id)"]
    assert rest[:3] == [sys.executable, "-m", "waitwise_tui.core.jobs.shim"]
    assert slurm.batch_script().read_text().endswith('exec "$@"\n')
