"""Studies with real subprocesses: parallel runs, crash/hang/garbage trials, kill -9 resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from waitwise_tui.config import Settings
from waitwise_tui.core.events import TRIAL_FINISHED
from waitwise_tui.core.tuner.service import get_study, list_trials, open_service, open_study
from waitwise_tui.core.tuner.space import parse_study
from waitwise_tui.core.workspace import Workspace

TRIAL = """\
import json, os, sys, time
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
mode = args.get("--mode", "ok")
with open("runs.log", "a") as log:
    log.write(json.dumps(args) + "\\n")
x = float(args["--x"])
if mode == "crash":
    raise SystemExit(4)
if mode == "hang":
    time.sleep(60)
time.sleep(float(args.get("--sleep", "0")))
if mode == "garbage":
    open(os.environ["WAITWISE_RESULT"], "w").write("not json")
else:
    open(os.environ["WAITWISE_RESULT"], "w").write(json.dumps({"loss": (x - 1) ** 2}))
"""


def study_text(max_trials=6, parallel=2, mode='"ok"', sleep="0", timeout=0.02, name="it"):
    return f"""\
[study]
name = "{name}"
metric = "loss"
max_trials = {max_trials}
parallel = {parallel}
timeout_minutes = {timeout}
seed = 1
algorithm = "random"
command = ["python", "trial.py", "--x", "{{x}}", "--mode", "{{mode}}", "--sleep", "{sleep}"]

[params.x]
type = "uniform"
low = -2
high = 2

[params.mode]
type = "choice"
options = [{mode}]
"""


def setup(tmp_path, **kwargs):
    (tmp_path / "trial.py").write_text(TRIAL)
    path = tmp_path / "study.toml"
    path.write_text(study_text(**kwargs))
    return path


def drive(service, study, timeout=20.0):
    events = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events.extend(service.tick([study.id]))
        if get_study(service.conn, study.id).state != "active":
            return events
        time.sleep(0.05)
    raise AssertionError("study did not finish")


def runs(tmp_path):
    lines = (tmp_path / "runs.log").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_six_trials_at_parallel_two(tmp_path):
    path = setup(tmp_path)
    service = open_service(
        Workspace(tmp_path), Settings().runner_options(), gpu_probe=list, grace_seconds=0.5
    )
    study = open_study(service.conn, parse_study(path.read_text(), base_dir=tmp_path), str(path))
    events = drive(service, study)
    trials = list_trials(service.conn, study.id)
    assert [t.state for t in trials] == ["done"] * 6
    assert all(t.value == (t.params["x"] - 1) ** 2 for t in trials)
    assert len({t.params["x"] for t in trials}) == 6
    assert sum(e.kind == TRIAL_FINISHED for e in events) == 6
    assert len(runs(tmp_path)) == 6


@pytest.mark.slow
def test_crash_hang_and_garbage_trials_fail_with_reasons(tmp_path):
    path = setup(tmp_path, max_trials=6, parallel=3, mode='"crash", "hang", "garbage"')
    service = open_service(
        Workspace(tmp_path), Settings().runner_options(), gpu_probe=list, grace_seconds=0.3
    )
    study = open_study(service.conn, parse_study(path.read_text(), base_dir=tmp_path), str(path))
    drive(service, study)
    trials = list_trials(service.conn, study.id)
    assert len(trials) == 6
    reasons = {t.params["mode"]: t.reason for t in trials}
    assert all(t.state == "failed" and t.value is None for t in trials)
    assert reasons.get("crash", "exit code 4") == "exit code 4"
    assert reasons.get("hang", "timed out").startswith("timed out")
    assert "not JSON" in reasons.get("garbage", "not JSON")
    assert len(reasons) >= 2


@pytest.mark.slow
def test_kill_9_of_the_runner_then_resume_loses_and_repeats_nothing(tmp_path):
    path = setup(tmp_path, max_trials=6, parallel=2, sleep="0.4", timeout=1)
    cli = [sys.executable, "-m", "waitwise_tui", "tune", "run", str(path), "-w", str(tmp_path)]
    env = dict(os.environ)
    runner = subprocess.Popen(cli, stdout=subprocess.PIPE, text=True, env=env)
    assert runner.stdout is not None
    seen = 0
    for line in runner.stdout:
        if line.startswith("["):
            seen += 1
        if seen == 2:
            break
    os.kill(runner.pid, signal.SIGKILL)  # mid-study, with trials still running
    runner.wait()
    done = subprocess.run(cli, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    status = subprocess.run(
        [sys.executable, "-m", "waitwise_tui", "tune", "status", "--json", "-w", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    (summary,) = json.loads(status.stdout)["studies"]
    assert [t["state"] for t in summary["trials"]] == ["done"] * 6
    assert all(t["attempts"] == 1 for t in summary["trials"])
    xs = sorted(float(r["--x"]) for r in runs(tmp_path))
    assert xs == sorted(t["params"]["x"] for t in summary["trials"])  # each ran exactly once
    assert summary["best"]["value"] == min(t["value"] for t in summary["trials"])


def test_hostile_choice_values_reach_the_trial_literally(tmp_path):
    path = setup(tmp_path, max_trials=2, parallel=2, mode='"0.1; touch pwned", "$(id)"')
    service = open_service(Workspace(tmp_path), Settings().runner_options(), gpu_probe=list)
    study = open_study(service.conn, parse_study(path.read_text(), base_dir=tmp_path), str(path))
    drive(service, study)
    trials = list_trials(service.conn, study.id)
    assert {r["--mode"] for r in runs(tmp_path)} == {t.params["mode"] for t in trials}
    assert not (tmp_path / "pwned").exists()


def test_a_proposal_left_without_a_job_is_picked_up(tmp_path):
    from waitwise_tui.core.tuner.service import ask

    path = setup(tmp_path, max_trials=2, parallel=2)
    service = open_service(Workspace(tmp_path), Settings().runner_options(), gpu_probe=list)
    study = open_study(service.conn, parse_study(path.read_text(), base_dir=tmp_path), str(path))
    (orphan,) = ask(service.conn, study, 1)  # as if the runner died right after the ask
    service.conn.execute("UPDATE trials SET created = created - 60 WHERE id = ?", (orphan.id,))
    drive(service, study)
    trials = list_trials(service.conn, study.id)
    assert [t.state for t in trials] == ["done", "done"]
    assert trials[0].params == orphan.params and trials[0].job_id is not None
    assert len(runs(tmp_path)) == 2


def test_two_runners_on_one_study_respect_its_limits(tmp_path):
    path = setup(tmp_path, max_trials=4, parallel=2, sleep="0.2")
    spec = parse_study(path.read_text(), base_dir=tmp_path)
    first = open_service(Workspace(tmp_path), Settings().runner_options(), gpu_probe=list)
    second = open_service(Workspace(tmp_path), Settings().runner_options(), gpu_probe=list)
    study = open_study(first.conn, spec, str(path))
    deadline = time.monotonic() + 20
    most_open = 0
    while get_study(first.conn, study.id).state == "active" and time.monotonic() < deadline:
        first.tick([study.id])
        second.tick([study.id])
        trials = list_trials(first.conn, study.id)
        most_open = max(most_open, sum(t.state in ("queued", "running") for t in trials))
        time.sleep(0.05)
    trials = list_trials(first.conn, study.id)
    assert [t.state for t in trials] == ["done"] * 4 and most_open <= 2
    assert len(runs(tmp_path)) == 4
