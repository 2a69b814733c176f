"""SlurmBackend against a real Slurm cluster (started by .ci/slurm/up in CI).

Two GPUs are declared in gres.conf, so Slurm really allocates them and sets
``CUDA_VISIBLE_DEVICES``; a third GPU job really waits as PENDING (Resources).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from waitwise_tui.config import Settings
from waitwise_tui.core.tuner.service import (
    TunerService,
    get_study,
    list_trials,
    open_service,
    open_study,
)
from waitwise_tui.core.tuner.space import parse_study
from waitwise_tui.core.workspace import Workspace

# One cluster with two GPUs for all of them: under xdist (``--dist loadgroup``) these
# tests run one after the other on one worker, never two at once.
pytestmark = [pytest.mark.usefixtures("slurm"), pytest.mark.slow, pytest.mark.xdist_group("slurm")]

TRIAL = """\
import json, os, sys, time
x = float(sys.argv[1])
tag = sys.argv[2]
start = time.time()
time.sleep(float(sys.argv[3]))
with open(f"seen-{os.environ['WAITWISE_JOB_ID']}.json", "w") as out:
    json.dump({"cvd": os.environ.get("CUDA_VISIBLE_DEVICES"), "tag": tag,
               "argv": sys.argv[1:], "start": start, "end": time.time()}, out)
open(os.environ["WAITWISE_RESULT"], "w").write(json.dumps({"loss": (x - 1) ** 2}))
"""


def service_for(tmp_path: Path, **slurm: object) -> TunerService:
    settings = Settings()
    settings.slurm = {"poll_seconds": 0.2, "retry_seconds": 0.5, **slurm}
    return open_service(
        Workspace(tmp_path), settings.runner_options(), gpu_probe=list, grace_seconds=0.5
    )


def wait_for(service: TunerService, check, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        service.tick()
        result = check()
        if result:
            return result
        time.sleep(0.2)
    jobs = [(j.id, j.state, j.backend_id, j.reason) for j in service.backend.store.list()]
    raise AssertionError(f"timed out waiting for {what}; jobs: {jobs}")


def submit(service: TunerService, tmp_path: Path, *argv: str, **kwargs):
    return service.backend.submit(list(argv), backend="slurm", workdir=str(tmp_path), **kwargs)


def job(service: TunerService, job_id: int):
    found = service.backend.store.get(job_id)
    assert found is not None
    return found


def study_file(tmp_path: Path, sleep: float, tag: str = "plain") -> Path:
    (tmp_path / "trial.py").write_text(TRIAL)
    path = tmp_path / "study.toml"
    path.write_text(
        f"""\
[study]
name = "slurm-study"
metric = "loss"
max_trials = 4
parallel = 2
gpus_per_trial = 1
timeout_minutes = 5
seed = 3
algorithm = "random"
backend = "slurm"
command = ["python", "trial.py", "{{x}}", "{{tag}}", "{sleep}"]

[slurm]
cpus_per_task = 1

[params.x]
type = "uniform"
low = -2
high = 2

[params.tag]
type = "choice"
options = [{json.dumps(tag)}]
"""
    )
    return path


def seen(tmp_path: Path) -> dict[int, dict]:
    return {
        int(p.stem.split("-")[1]): json.loads(p.read_text()) for p in tmp_path.glob("seen-*.json")
    }


def test_study_on_slurm_gets_distinct_gpus_and_reads_results_back(tmp_path):
    # Trials hold their GPUs long enough for Slurm to say why the third job waits: its
    # reason goes None -> Priority -> Resources over a scheduler cycle or two, and with
    # 3 s trials a slow CI machine saw them finish first.
    path = study_file(tmp_path, sleep=8)
    service = service_for(tmp_path)
    spec = parse_study(path.read_text(), base_dir=tmp_path)
    study = open_study(service.conn, spec, str(path))

    def both_running():
        jobs = [j for j in service.backend.store.list() if j.state == "running"]
        return jobs if len(jobs) == 2 else None

    running = wait_for(service, both_running, what="two running trials")
    assert {j.backend for j in running} == {"slurm"}
    assert all(j.backend_id for j in running)
    assert sorted(j.gpus for j in running) == ["0", "1"]  # Slurm's allocation, read back

    # A third GPU job finds both GPUs taken: Slurm keeps it PENDING (Resources).
    extra = submit(service, tmp_path, "true", gpus=1)
    pending = wait_for(
        service,
        lambda: "Resources" in job(service, extra.id).reason and job(service, extra.id),
        what="PENDING (Resources)",
    )
    assert pending.state == "queued" and pending.backend_state == "PENDING"
    assert pending.reason == "Slurm PENDING (Resources)"

    wait_for(service, lambda: get_study(service.conn, study.id).state == "finished", what="study")
    trials = list_trials(service.conn, study.id)
    assert [t.state for t in trials] == ["done"] * 4
    assert all(t.value == pytest.approx((t.params["x"] - 1) ** 2) for t in trials)
    records = seen(tmp_path)
    assert len(records) == 4
    first, second = (records[t.job_id] for t in trials[:2])
    # The first two trials ran at the same time, on different GPUs.
    assert first["start"] < second["end"] and second["start"] < first["end"]
    assert {first["cvd"], second["cvd"]} == {"0", "1"}


def test_hostile_parameter_is_one_literal_argument_under_slurm(tmp_path):
    hostile = "; touch pwned $(id) `id` 'q\"\n"
    path = study_file(tmp_path, sleep=0, tag=hostile)
    spec = parse_study(path.read_text(), base_dir=tmp_path)
    spec.max_trials = 1
    service = service_for(tmp_path)
    study = open_study(service.conn, spec, str(path))
    wait_for(service, lambda: get_study(service.conn, study.id).state == "finished", what="trial")
    (record,) = seen(tmp_path).values()
    assert record["tag"] == hostile
    assert len(record["argv"]) == 3
    assert not (tmp_path / "pwned").exists()


def test_failing_job_shows_its_exit_code(tmp_path):
    service = service_for(tmp_path)
    failing = submit(service, tmp_path, "sh", "-c", "echo about to fail; exit 3")
    assert failing.backend_id is not None
    ended = wait_for(
        service, lambda: not job(service, failing.id).active and job(service, failing.id)
    )
    assert (ended.state, ended.exit_code, ended.reason) == ("failed", 3, "exit code 3")
    assert "about to fail" in service.backend.log_path(failing.id).read_text()


def test_cancel_uses_scancel(tmp_path):
    service = service_for(tmp_path)
    long = submit(service, tmp_path, "sleep", "120")
    wait_for(service, lambda: job(service, long.id).state == "running", what="running")
    assert service.backend.cancel(long.id)
    ended = wait_for(service, lambda: not job(service, long.id).active and job(service, long.id))
    assert ended.state == "cancelled" and ended.reason == "cancelled"
    state = subprocess.run(
        ["scontrol", "show", "job", "-o", long.backend_id or ""], capture_output=True, text=True
    ).stdout
    assert "JobState=CANCELLED" in state


def test_dependency_chain_waits_then_runs(tmp_path):
    service = service_for(tmp_path)
    first = submit(service, tmp_path, "sh", "-c", "sleep 2; echo one >> chain.txt")
    second = submit(
        service, tmp_path, "sh", "-c", "echo two >> chain.txt", options={"after": [first.id]}
    )
    waiting = wait_for(
        service,
        lambda: "Dependency" in job(service, second.id).reason and job(service, second.id),
        what="Dependency",
    )
    assert waiting.state == "queued"
    wait_for(service, lambda: job(service, second.id).state == "done", what="chain")
    assert (tmp_path / "chain.txt").read_text().split() == ["one", "two"]

    # A failed first link leaves the next one waiting forever: shown, then cancelled.
    bad = submit(service, tmp_path, "false")
    after_bad = submit(service, tmp_path, "true", options={"after": [bad.id]})
    wait_for(
        service,
        lambda: "DependencyNeverSatisfied" in job(service, after_bad.id).reason,
        what="DependencyNeverSatisfied",
    )
    assert service.backend.cancel(after_bad.id)


def test_restart_reattaches_by_job_id(tmp_path):
    service = service_for(tmp_path)
    running = submit(service, tmp_path, "sh", "-c", "sleep 3; echo finished")
    wait_for(service, lambda: job(service, running.id).state == "running", what="running")
    service.conn.close()
    # A new runner (the app restarted) knows the job only from the database.
    again = service_for(tmp_path)
    assert job(again, running.id).state == "running"
    ended = wait_for(again, lambda: not job(again, running.id).active and job(again, running.id))
    assert ended.state == "done"
    assert "finished" in again.backend.log_path(running.id).read_text()


def test_rejected_submission_is_kept_and_retried_not_duplicated(tmp_path):
    service = service_for(tmp_path, partition="no-such-partition")
    kept = submit(service, tmp_path, "true")
    assert kept.state == "queued" and kept.backend_id is None
    assert "Invalid partition" in kept.reason
    assert "retrying" in kept.reason
    slurm = service.backend.backend("slurm")
    assert "Invalid partition" in slurm.problem
    # Fixed config: the same row is submitted, once.
    slurm.config = type(slurm.config)(poll_seconds=0.2, retry_seconds=0.5)
    wait_for(service, lambda: job(service, kept.id).state == "done", what="resubmitted job")
    ours = [j for j in slurm.refresh() if j.job_id == job(service, kept.id).backend_id]
    assert len(ours) == 1


def test_cluster_view_lists_and_cancels_foreign_jobs(tmp_path):
    script = tmp_path / "foreign.sh"
    script.write_text("#!/bin/sh\nsleep 120\n")
    out = subprocess.run(
        ["sbatch", "--parsable", "--job-name=not-from-waitwise", f"--output={tmp_path}/f.out",
         str(script)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    foreign_id = out.strip().split(";")[0]
    cli = [sys.executable, "-m", "waitwise_tui", "jobs", "cluster", "-w", str(tmp_path)]
    listed = json.loads(subprocess.run([*cli, "--json"], capture_output=True, text=True).stdout)
    row = next(r for r in listed["jobs"] if r["job_id"] == foreign_id)
    assert row["name"] == "not-from-waitwise" and row["waitwise_job"] is None
    done = subprocess.run([*cli, "--cancel", foreign_id], capture_output=True, text=True)
    assert done.returncode == 0 and "cancelled" in done.stdout
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = subprocess.run(
            ["scontrol", "show", "job", "-o", foreign_id], capture_output=True, text=True
        ).stdout
        if "JobState=CANCELLED" in state:
            break
        time.sleep(0.2)
    assert "JobState=CANCELLED" in state


def test_workspace_path_and_job_name_with_patterns_stay_literal(tmp_path):
    # A workspace path or a job's name with "%j"/"%u" must not be expanded by sbatch:
    # the output lands in the job's own folder, and squeue shows no "%" in the name.
    root = tmp_path / "proj %j%u 50%"
    root.mkdir()
    service = service_for(root)
    echoed = submit(service, root, "echo", "hello from %j", name="#(touch p1) %x%j")
    done = wait_for(
        service, lambda: job(service, echoed.id).state == "done" and job(service, echoed.id)
    )
    log = service.backend.jobdir(done.id) / "stdout.log"
    assert "hello from %j" in log.read_text()
    assert list(tmp_path.rglob("stdout.log")) == [log]  # nowhere a pattern expanded to
    name = subprocess.run(
        ["squeue", "-j", str(done.backend_id), "-t", "all", "-h", "-o", "%j"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert name.startswith("ww-") and "%" not in name and "#" not in name
    assert not (root / "p1").exists()


def test_path_slurm_cannot_hold_fails_the_job_in_one_line(tmp_path):
    root = tmp_path / "back\\slash 100%"
    root.mkdir()
    service = service_for(root)
    refused = submit(service, root, "true")
    failed = wait_for(
        service, lambda: job(service, refused.id).state == "failed" and job(service, refused.id)
    )
    assert failed.reason.startswith("cannot start: Slurm cannot write to a path holding")
    assert "\n" not in failed.reason
