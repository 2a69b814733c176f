"""LocalBackend with real subprocesses: exit codes, timeouts, cancel, lost, reattach, GPUs."""

from __future__ import annotations

import json
import os
import signal
import sys
import time

import pytest

from waitwise_tui.core.db import connect
from waitwise_tui.core.jobs import model
from waitwise_tui.core.jobs.local import LocalBackend
from waitwise_tui.core.workspace import Workspace

PY = sys.executable


def make_backend(tmp_path, probe=list, **kwargs):
    ws = Workspace(tmp_path)
    ws.ensure()
    conn = connect(ws.db_path)
    return LocalBackend(ws, conn, gpu_probe=probe, grace_seconds=0.5, **kwargs)


def wait_until_ended(backend, job_id, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        backend.poll()
        job = backend.store.get(job_id)
        if not job.active:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {backend.store.get(job_id).state}")


def test_job_runs_detached_with_log_and_exit_record(tmp_path):
    backend = make_backend(tmp_path)
    job = backend.submit(
        [
            PY,
            "-c",
            "import os,sys,time; print('hi', os.getcwd()); print('err', file=sys.stderr)"
            "; time.sleep(0.2)",
        ],
        workdir=str(tmp_path),
    )
    assert job.state == model.RUNNING and job.pid and job.pid_start_time
    assert os.getsid(job.pid) == job.pid  # its own session
    job = wait_until_ended(backend, job.id)
    assert job.state == model.DONE and job.exit_code == 0 and job.attempts == 1
    log = backend.log_path(job.id).read_text()
    assert f"hi {tmp_path}" in log and "err" in log
    record = json.loads((backend.jobdir(job.id) / "exit.json").read_text())
    assert record["exit_code"] == 0 and record["finished"] >= record["started"]


def test_nonzero_exit_fails_without_retry(tmp_path):
    backend = make_backend(tmp_path)
    job = backend.submit([PY, "-c", "raise SystemExit(3)"], workdir=str(tmp_path), max_attempts=3)
    job = wait_until_ended(backend, job.id)
    assert (job.state, job.reason, job.attempts) == (model.FAILED, "exit code 3", 1)


def test_missing_command_and_workdir_fail_cleanly(tmp_path):
    backend = make_backend(tmp_path)
    job = backend.submit(["no-such-command-xyz"], workdir=str(tmp_path))
    assert job.state == model.FAILED and "command not found" in job.reason
    job = backend.submit([PY, "-c", "pass"], workdir=str(tmp_path / "nope"))
    assert job.state == model.FAILED and "does not exist" in job.reason


def test_timeout_cancels_the_job(tmp_path):
    backend = make_backend(tmp_path)
    job = backend.submit(
        [PY, "-c", "import time; time.sleep(60)"], workdir=str(tmp_path), timeout_seconds=0.5
    )
    job = wait_until_ended(backend, job.id)
    assert job.state == model.FAILED and job.reason.startswith("timed out")


def test_cancel_escalates_to_sigkill(tmp_path):
    backend = make_backend(tmp_path)
    script = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    job = backend.submit([PY, "-c", script], workdir=str(tmp_path))
    time.sleep(0.3)  # let the child install its handler
    assert backend.cancel(job.id)
    job = wait_until_ended(backend, job.id)
    assert job.state == model.CANCELLED
    assert not backend.cancel(job.id)


def test_cancel_queued_job(tmp_path):
    backend = make_backend(tmp_path)
    job = backend.submit([PY, "-c", "pass"], workdir=str(tmp_path), start=False)
    assert backend.cancel(job.id)
    assert backend.store.get(job.id).state == model.CANCELLED


def test_vanished_process_is_lost_then_retried(tmp_path):
    backend = make_backend(tmp_path)
    marker = tmp_path / "runs.txt"
    script = f"open({str(marker)!r}, 'a').write('x'); import time; time.sleep(60)"
    job = backend.submit([PY, "-c", script], workdir=str(tmp_path), max_attempts=2)
    time.sleep(0.3)
    os.killpg(job.pid, signal.SIGKILL)  # shim and child die without exit.json
    deadline = time.monotonic() + 10
    while backend.store.get(job.id).attempts < 2 and time.monotonic() < deadline:
        backend.poll()
        time.sleep(0.05)
    job = backend.store.get(job.id)
    assert job.state == model.RUNNING and job.attempts == 2
    time.sleep(0.3)
    os.killpg(job.pid, signal.SIGKILL)
    job = wait_until_ended(backend, job.id)
    assert job.state == model.LOST and "vanished" in job.reason
    assert marker.read_text() == "xx"


def test_reused_pid_is_not_mistaken(tmp_path):
    backend = make_backend(tmp_path)
    job = backend.submit([PY, "-c", "import time; time.sleep(60)"], workdir=str(tmp_path))
    real_pid = job.pid
    # Pretend the recorded process started at another time: the pid now belongs to
    # someone else, so the job must be lost and that process must not be signalled.
    backend.store.update(job.id, pid_start_time=job.pid_start_time - 1000)
    job = wait_until_ended(backend, job.id)
    assert job.state == model.LOST
    os.kill(real_pid, 0)  # still alive: never signalled
    os.killpg(real_pid, signal.SIGKILL)


def test_reattach_after_restart_collects_finished_job(tmp_path):
    backend = make_backend(tmp_path)
    job = backend.submit([PY, "-c", "import time; time.sleep(0.3)"], workdir=str(tmp_path))
    backend.store.conn.close()
    fresh = make_backend(tmp_path)  # a new process's view, same database
    job = wait_until_ended(fresh, job.id)
    assert job.state == model.DONE


def test_gpu_leases_and_environment(tmp_path):
    readings = [(0, 100, 0), (1, 50000, 90), (2, 10, None)]  # GPU 1 is busy
    backend = make_backend(tmp_path, probe=lambda: readings)
    script = "import os; print(os.environ['CUDA_VISIBLE_DEVICES'], os.environ['CUDA_DEVICE_ORDER'])"
    hold = "import time; time.sleep(0.6)"
    first = backend.submit([PY, "-c", hold], workdir=str(tmp_path), gpus=1)
    second = backend.submit([PY, "-c", script], workdir=str(tmp_path), gpus=1)
    third = backend.submit([PY, "-c", "pass"], workdir=str(tmp_path), gpus=1)
    assert (first.gpus, second.gpus) == ("0", "2")
    assert third.state == model.QUEUED  # no free unleased GPU left
    assert backend.store.leased_gpus() == {0, 2}
    second = wait_until_ended(backend, second.id)
    assert backend.log_path(second.id).read_text().strip() == "2 PCI_BUS_ID"
    third = wait_until_ended(backend, third.id)
    assert third.state == model.DONE and third.gpus in ("0", "2")
    wait_until_ended(backend, first.id)
    assert backend.store.leased_gpus() == set()


def test_no_gpu_machine_runs_gpu_jobs_on_cpu(tmp_path):
    backend = make_backend(tmp_path, probe=list)
    job = backend.submit([PY, "-c", "pass"], workdir=str(tmp_path), gpus=1)
    assert job.state == model.RUNNING and job.gpus == ""


def test_retry_runs_a_failed_job_again(tmp_path):
    backend = make_backend(tmp_path)
    job = backend.submit([PY, "-c", "raise SystemExit(1)"], workdir=str(tmp_path))
    wait_until_ended(backend, job.id)
    assert backend.retry(job.id)
    job = wait_until_ended(backend, job.id)
    assert job.attempts == 2 and "attempt 2" in backend.log_path(job.id).read_text()


@pytest.mark.parametrize("value", ["0.1; touch pwned", "$(touch pwned)", "`touch pwned`"])
def test_arguments_are_never_shell_parsed(tmp_path, value):
    backend = make_backend(tmp_path)
    script = "import sys, json; print(json.dumps(sys.argv[1:]))"
    job = backend.submit([PY, "-c", script, value], workdir=str(tmp_path))
    wait_until_ended(backend, job.id)
    assert json.loads(backend.log_path(job.id).read_text()) == [value]
    assert not (tmp_path / "pwned").exists()


def test_default_probe_reads_the_app_gpu_sampler(monkeypatch):
    from waitwise_tui.core.jobs.local import default_gpu_probe

    monkeypatch.setenv("WAITWISE_FAKE_NVML", "2x0")
    readings = default_gpu_probe()()
    assert [index for index, _, _ in readings] == [0, 1]
    assert all(isinstance(used, int) and used >= 0 for _, used, _ in readings)


def test_busy_gpus_keep_a_job_queued(tmp_path):
    backend = make_backend(tmp_path, probe=lambda: [(0, 8000, 3), (1, 10, 80)])
    job = backend.submit([PY, "-c", "pass"], workdir=str(tmp_path), gpus=1)
    assert job.state == model.QUEUED
    backend.poll()
    assert backend.store.get(job.id).state == model.QUEUED
    assert backend.cancel(job.id)
