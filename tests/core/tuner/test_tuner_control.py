"""The Tuner tab's read model and commands without the UI: real SQLite, real jobs.

``readmodel`` turns the workspace database into what the tab's tables show; ``control``
drives the runner through the ``WorkspaceTuner`` (one owner, one lock) and decides how
a cancel or retry goes, including the Slurm cluster view's choice between a backend
cancel and a plain ``scancel``. Slurm's tools are stand-in scripts on PATH here (the
real ones are tested in tests/core/jobs).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest

from waitwise_tui.core.db import connect
from waitwise_tui.core.events import TRIAL_FINISHED
from waitwise_tui.core.jobs.slurm_cli import SlurmJob
from waitwise_tui.core.tuner import control
from waitwise_tui.core.tuner.readmodel import (
    JOBS,
    JobsStatus,
    StudyStatus,
    read_job_log,
    read_snapshot,
)
from waitwise_tui.core.tuner.service import (
    ACTIVE,
    FINISHED,
    PAUSED,
    StudyChanged,
    WorkspaceTuner,
    find_study,
    list_trials,
    open_study,
    update_study,
)
from waitwise_tui.core.tuner.space import StudyFileError, parse_study
from waitwise_tui.core.workspace import Workspace

T0 = 1_700_000_000.0

TRIAL = """\
import json, os, sys, time
x = float(sys.argv[1])
if sys.argv[2] == "hang":
    time.sleep(60)
print("training with", x, flush=True)
open(os.environ["WAITWISE_RESULT"], "w").write(json.dumps({"loss": (x - 1) ** 2}))
"""

STUDY = """\
[study]
name = "{name}"
metric = "loss"
direction = "{direction}"
max_trials = {max_trials}
parallel = 2
timeout_minutes = 1
algorithm = "random"
command = ["python", "trial.py", "{{x}}", "{{mode}}"]

[params.x]
type = "uniform"
low = {low}
high = 2

[params.mode]
type = "choice"
options = [{mode}]
"""


def write_study(root: Path, name="demo", max_trials=3, mode='"ok"', low=-2, direction="minimize"):
    (root / "trial.py").write_text(TRIAL)
    path = root / f"{name}.toml"
    path.write_text(
        STUDY.format(name=name, max_trials=max_trials, mode=mode, low=low, direction=direction)
    )
    return path


def tuner_for(root: Path, clock=time.time) -> WorkspaceTuner:
    return WorkspaceTuner(Workspace(root), gpu_probe=list, clock=clock)


def finished_fixture(root: Path, direction="minimize") -> None:
    """A finished study with fixed values and times, and one plain job."""
    path = write_study(root, max_trials=4, direction=direction)
    ws = Workspace(root)
    ws.ensure()
    conn = connect(ws.db_path)
    study = open_study(conn, parse_study(path.read_text(), base_dir=root), "demo.toml")
    rows = [
        (0.5, 0.25, "done"),
        (-1.25, 5.0625, "done"),
        (1.1, 0.01, "done"),
        (0.0, None, "failed"),
    ]
    for number, (x, value, state) in enumerate(rows):
        insert_job(conn, number + 1, root, "done" if state == "done" else "failed", number)
        conn.execute(
            "INSERT INTO trials (study_id, number, state, params, hyperopt_vals, value, reason,"
            " job_id, created, finished) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                study.id,
                number,
                state,
                json.dumps({"x": x, "mode": "ok"}),
                json.dumps({"x": x, "mode": 0}),
                value,
                "" if state == "done" else "exit code 1",
                number + 1,
                T0,
                T0 + number * 10 + 65,
            ),
        )
    insert_job(conn, 5, root, "running", 0, name="plain one", finished=False)
    update_study(conn, study.id, state=FINISHED)
    conn.close()


def insert_job(conn, job_id, root, state, number, *, name="", finished=True, **columns):
    fields = {
        "id": job_id,
        "name": name,
        "argv": json.dumps(["python", "trial.py"]),
        "workdir": str(root),
        "state": state,
        "attempts": 1,
        "created": T0,
        "started": T0 + number * 10,
        "finished": T0 + number * 10 + 65 if finished else None,
        "exit_code": (0 if state == "done" else 1) if finished else None,
        "reason": "exit code 1" if state == "failed" else "",
        **columns,
    }
    conn.execute(
        f"INSERT INTO jobs ({', '.join(fields)}) VALUES ({', '.join('?' * len(fields))})",
        tuple(fields.values()),
    )
    conn.commit()


def wait_until(condition, timeout=20.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(step)
    raise AssertionError("condition not reached")


# -- the read model ---------------------------------------------------------------------


def test_snapshot_of_the_newest_study_has_its_rows_board_and_status(tmp_path):
    finished_fixture(tmp_path)
    tuner = tuner_for(tmp_path)
    with tuner.use() as service:
        assert service is not None
        snap = read_snapshot(service, None, now=T0 + 1000)
    assert [s.name for s in snap.studies] == ["demo"]
    assert snap.selected == snap.study.id
    assert snap.queue[0].cells() == (
        "0",
        "done",
        "x=0.5 mode=ok",
        "local",
        "-",
        "1m05s",
        "0.25",
    )
    failed = snap.queue[3]
    assert (failed.state, failed.value, failed.key, failed.job_id) == (
        "failed",
        "exit code 1",
        f"t{snap.trials[3].id}",
        4,
    )
    assert [row.number for row in snap.board] == ["2", "0", "1"]  # best first, no failure
    assert snap.board[0].cells() == ("1", "2", "0.01", "x=1.1 mode=ok")
    assert snap.status == StudyStatus(FINISHED, 4, 4, 0, 2, "0.01", 2)
    assert snap.cluster is None and snap.problems == ()
    assert [p[0] for p in snap.plot_points()] == [0, 1, 2]
    tuner.close()


def test_snapshot_of_a_maximised_study_ranks_the_largest_first(tmp_path):
    finished_fixture(tmp_path, direction="maximize")
    tuner = tuner_for(tmp_path)
    with tuner.use() as service:
        snap = read_snapshot(service, None, now=T0)
    assert [row.number for row in snap.board] == ["1", "0", "2"]
    assert snap.status.best_number == 1
    tuner.close()


def test_plain_jobs_snapshot_lists_only_jobs_outside_studies(tmp_path):
    finished_fixture(tmp_path)
    tuner = tuner_for(tmp_path)
    with tuner.use() as service:
        snap = read_snapshot(service, JOBS, now=T0 + 100)
    assert snap.selected == JOBS and snap.study is None and snap.board == ()
    assert [(r.key, r.params, r.state, r.time, r.value) for r in snap.queue] == [
        ("j5", "plain one", "running", "1m40s", "")
    ]
    assert snap.status == JobsStatus(total=1, active=1)
    tuner.close()


def test_job_log_is_the_tail_of_stdout(tmp_path):
    ws = Workspace(tmp_path)
    log = ws.jobs_dir / "7" / "stdout.log"
    log.parent.mkdir(parents=True)
    log.write_bytes(b"".join(b"line %d\n" % i for i in range(1000)) + b"bad \xff byte\n")
    read = read_job_log(ws, 7, max_lines=3)
    assert read.lines == ("line 998", "line 999", "bad \ufffd byte")
    assert read.label == ".waitwise/jobs/7/stdout.log"
    cut = read_job_log(ws, 7, max_bytes=20)  # the first line of the tail may be cut
    assert cut.lines[-1] == "bad \ufffd byte" and len(cut.lines) <= 3
    assert read_job_log(ws, 8).lines == ()  # no output yet


# -- polling and commands on real jobs ----------------------------------------------------


def test_poll_without_a_database_creates_nothing(tmp_path):
    tuner = tuner_for(tmp_path)
    polled = control.poll(tuner, None, cluster=False)
    assert polled.snapshot is None and polled.events == []
    assert not (tmp_path / ".waitwise").exists()


@pytest.mark.slow
def test_open_a_study_then_poll_runs_it_to_the_end(tmp_path):
    write_study(tmp_path, max_trials=3)
    tuner = tuner_for(tmp_path)
    study = control.open_study_file(tuner, "demo.toml", fork=False)
    assert study.name == "demo" and study.state == ACTIVE
    events = []

    def finished() -> bool:
        polled = control.poll(tuner, study.id, cluster=False)
        events.extend(polled.events)
        return polled.snapshot.status.state == FINISHED

    wait_until(finished)
    snap = control.poll(tuner, study.id, cluster=False).snapshot
    assert [row.state for row in snap.queue] == ["done"] * 3
    assert sum(e.kind == TRIAL_FINISHED for e in events) == 3
    log = read_job_log(tuner.workspace, snap.queue[0].job_id)
    assert log.lines[0].startswith("training with")
    tuner.close()


def test_open_study_file_refuses_bad_files_and_changed_spaces(tmp_path):
    (tmp_path / "bad.toml").write_text('[study]\ncommand = ["x"]\n[params.a]\ntype = "uniform"\n')
    tuner = tuner_for(tmp_path)
    with pytest.raises(StudyFileError, match="missing metric"):
        control.open_study_file(tuner, "bad.toml", fork=False)
    assert not (tmp_path / ".waitwise").exists()  # nothing created for a bad file
    write_study(tmp_path, max_trials=1)
    control.open_study_file(tuner, "demo.toml", fork=False)
    write_study(tmp_path, max_trials=1, low=-3)  # another space, same name
    with pytest.raises(StudyChanged):
        control.open_study_file(tuner, str(tmp_path / "demo.toml"), fork=False)
    forked = control.open_study_file(tuner, "demo.toml", fork=True)
    assert forked.name == "demo-2"
    tuner.close()


def test_pause_launch_cancel_and_retry_a_hanging_study(tmp_path):
    write_study(tmp_path, max_trials=4, mode='"hang"')
    tuner = tuner_for(tmp_path)
    study = control.open_study_file(tuner, "demo.toml", fork=False)

    def snapshot():
        return control.poll(tuner, study.id, cluster=False).snapshot

    wait_until(lambda: [r.state for r in snapshot().queue] == ["running"] * 2)
    state = control.toggled_state(snapshot().study)
    assert state == PAUSED
    control.change_study(tuner, study.id, state=state)
    snap = snapshot()
    assert snap.study.state == PAUSED and control.toggled_state(snap.study) == ACTIVE

    first = snap.trials[0]
    done = control.cancel(tuner, first.job_id, first)
    assert done == control.Outcome(True, "cancel: trial 0")
    wait_until(lambda: snapshot().queue[0].state == "cancelled")
    assert len(snapshot().queue) == 2  # paused: nothing new launched
    again = control.cancel(tuner, first.job_id, snapshot().trials[0])
    assert again == control.Outcome(False, "cannot cancel trial 0 in its current state", "warning")

    retried = control.retry(tuner, first.job_id, snapshot().trials[0])
    assert retried == control.Outcome(True, "retry: trial 0")
    wait_until(lambda: snapshot().queue[0].state == "running")
    assert control.retry(tuner, first.job_id, snapshot().trials[0]).severity == "warning"

    for trial in snapshot().trials:
        assert control.cancel(tuner, trial.job_id, trial).ok
    wait_until(lambda: [r.state for r in snapshot().queue] == ["cancelled"] * 2)
    with tuner.use() as service:
        update_study(service.conn, study.id, state=FINISHED)
    finished = snapshot().study
    assert control.toggled_state(finished) is None  # finished: launch more instead
    assert control.launch_target(finished, len(snapshot().trials), 2) == 6
    tuner.close()


def test_a_plain_job_is_cancelled_and_retried_by_its_id(tmp_path):
    tuner = tuner_for(tmp_path)
    with tuner.use(create=True) as service:
        job = service.backend.submit(
            [sys.executable, "-c", "import time; time.sleep(60)"], workdir=str(tmp_path)
        )
    assert control.cancel(tuner, job.id) == control.Outcome(True, f"cancel: job {job.id}")

    def ended() -> bool:
        control.poll(tuner, JOBS, cluster=False)
        with tuner.use() as service:
            return not service.backend.store.get(job.id).active

    wait_until(ended)
    assert control.retry(tuner, job.id) == control.Outcome(True, f"retry: job {job.id}")
    assert control.cancel(tuner, job.id).ok
    wait_until(ended)
    tuner.close()


def test_commands_without_a_database_do_nothing(tmp_path):
    tuner = tuner_for(tmp_path)
    assert control.cancel(tuner, 1) is None and control.retry(tuner, 1) is None
    control.change_study(tuner, 1, state=PAUSED)
    assert not (tmp_path / ".waitwise").exists()


def test_the_lock_lets_one_thread_at_a_time_use_the_service(tmp_path):
    write_study(tmp_path, max_trials=1)
    tuner = tuner_for(tmp_path)
    control.open_study_file(tuner, "demo.toml", fork=False)
    inside = threading.Event()
    release = threading.Event()
    polled = []

    def hold() -> None:
        with tuner.use():
            inside.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    inside.wait(10)
    poller = threading.Thread(
        target=lambda: polled.append(control.poll(tuner, None, cluster=False))
    )
    poller.start()
    poller.join(0.2)
    assert poller.is_alive() and polled == []  # waits for the lock
    release.set()
    holder.join(10)
    poller.join(10)
    assert polled and polled[0].snapshot.study.name == "demo"
    tuner.close()


def test_parse_count_takes_positive_whole_numbers():
    assert control.parse_count("3") == 3
    assert [control.parse_count(t) for t in ("0", "-2", "two", "1.5", "")] == [None] * 5


# -- the cluster view: squeue, and backend cancel versus scancel --------------------------

SQUEUE = """#!/bin/sh
echo "301|RUNNING|None|12:01|1:00:00|node7|gres:gpu:2|gpu|me|(null)|someone-elses-notebook"
echo "302|PENDING|Priority|0:00|1:00:00||gres:gpu:1|gpu|me|(null)|sweep-b"
echo "299|COMPLETED|None|3:00|1:00:00|node2||gpu|me|(null)|done-one"
echo "301|RUNNING|None|12:01|1:00:00|node7|gres:gpu:2|gpu|me|(null)|someone-elses-notebook"
echo "555|RUNNING|None|0:10|1:00:00|node3|gres:gpu:1|gpu|me|(null)|waitwise-5"
"""


def slurm_tools(tmp_path: Path, monkeypatch, squeue: str = SQUEUE) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = bin_dir / "scancel.calls"
    for name, body in {"squeue": squeue, "scancel": f'#!/bin/sh\necho "$@" >> {calls}\n'}.items():
        path = bin_dir / name
        path.write_text(body)
        path.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{sys.exec_prefix}/bin:/usr/bin:/bin")
    return calls


def scancelled(calls: Path) -> list[str]:
    return calls.read_text().split() if calls.exists() else []


def test_cluster_rows_without_a_database(tmp_path, monkeypatch):
    slurm_tools(tmp_path, monkeypatch)
    ws = tmp_path / "ws"
    ws.mkdir()
    tuner = tuner_for(ws)
    snap = control.poll(tuner, None, cluster=True).snapshot
    cluster = snap.cluster
    assert [row.job.job_id for row in cluster.rows] == ["555", "301", "302", "299"]
    assert (cluster.running, cluster.pending) == (3, 1)  # squeue's lines, as listed
    assert cluster.rows[2].cells()[1:3] == ("pending", "Priority")
    assert cluster.rows[1].cells()[4:] == ("node7", "2", "someone-elses-notebook", "")
    assert cluster.rows[3].cells()[2] == ""  # a reason only while pending
    assert snap.queue == () and snap.status is None
    assert not (ws / ".waitwise").exists()


def test_cluster_rows_name_our_jobs_and_say_why_slurm_is_missing(tmp_path, monkeypatch):
    slurm_tools(tmp_path, monkeypatch)
    ws = tmp_path / "ws"
    ws.mkdir()
    finished_fixture(ws)
    with connect(Workspace(ws).db_path) as conn:
        insert_job(conn, 6, ws, "running", 0, backend="slurm", backend_id="555", finished=False)
    tuner = tuner_for(ws)
    cluster = control.poll(tuner, None, cluster=True).snapshot.cluster
    assert [row.job_id for row in cluster.rows] == [6, None, None, None]
    assert cluster.rows[0].cells()[-1] == "6"
    tuner.close()
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    nothing = tuner_for(tmp_path / "elsewhere")
    missing = control.poll(nothing, None, cluster=True).snapshot.cluster
    assert missing.rows is None and "squeue not found on PATH" in missing.error


def test_ended_slurm_jobs_are_refused_before_asking():
    def job(state: str) -> SlurmJob:
        return SlurmJob("12", state, "", "", "", "", "", "", "", "", "x")

    for state in ("PENDING", "RUNNING", "SUSPENDED", "REQUEUED", "CONFIGURING"):
        assert control.cluster_refusal(job(state)) is None
    assert control.cluster_refusal(job("COMPLETED")) == "Slurm job 12 already ended (completed)"
    hostile = SlurmJob("1\x1b[2J", "TIMEOUT\x07", "", "", "", "", "", "", "", "", "x")
    assert control.cluster_refusal(hostile) == "Slurm job 1\\x1b[2J already ended (timeout\\x07)"


def test_someone_elses_job_is_scancelled_as_it_is(tmp_path, monkeypatch):
    calls = slurm_tools(tmp_path, monkeypatch)
    tuner = tuner_for(tmp_path)  # no database: still cancels
    assert control.cancel_cluster_job(tuner, "301") == control.Outcome(
        True, "Slurm job 301 cancelled"
    )
    assert scancelled(calls) == ["301"]
    assert not (tmp_path / ".waitwise").exists()


def test_our_active_slurm_job_is_cancelled_through_its_backend(tmp_path, monkeypatch):
    calls = slurm_tools(tmp_path, monkeypatch)
    ws = Workspace(tmp_path)
    ws.ensure()
    with connect(ws.db_path) as conn:
        insert_job(
            conn, 1, tmp_path, "running", 0, backend="slurm", backend_id="555", finished=False
        )
        insert_job(conn, 2, tmp_path, "done", 0, backend="slurm", backend_id="556")
    tuner = tuner_for(tmp_path)
    assert control.cancel_cluster_job(tuner, "555").ok
    assert scancelled(calls) == ["555"]
    with tuner.use() as service:
        job = service.backend.store.get(1)
    assert job.cancel_requested is not None and job.cancel_reason == "cancelled"
    # Ours but already ended in our books: Slurm still lists it, so scancel it as it is.
    assert control.cancel_cluster_job(tuner, "556").ok
    assert scancelled(calls) == ["555", "556"]
    with tuner.use() as service:
        assert service.backend.store.get(2).cancel_requested is None
    tuner.close()


def test_a_refused_scancel_is_an_error_outcome(tmp_path, monkeypatch):
    calls = slurm_tools(tmp_path, monkeypatch)
    tuner = tuner_for(tmp_path)
    outcome = control.cancel_cluster_job(tuner, "3\x1b[2J03")
    assert not outcome.ok and outcome.severity == "error"
    assert outcome.message.startswith("not cancelled: not a Slurm job id")
    assert "\x1b" not in outcome.message
    assert scancelled(calls) == []
    (tmp_path / "bin" / "scancel").write_text(
        "#!/bin/sh\necho 'scancel: error: Invalid job id' >&2\nexit 1\n"
    )
    failed = control.cancel_cluster_job(tuner, "404")
    assert failed == control.Outcome(False, "not cancelled: scancel: invalid job id", "error")


def test_snapshot_reads_the_study_that_was_asked_for(tmp_path):
    finished_fixture(tmp_path)
    write_study(tmp_path, name="second", max_trials=1)
    tuner = tuner_for(tmp_path)
    second = control.open_study_file(tuner, "second.toml", fork=False)
    first = find_study(connect(Workspace(tmp_path).db_path), "demo")
    assert control.poll(tuner, None, cluster=False).snapshot.selected == second.id  # newest
    chosen = control.poll(tuner, first.id, cluster=False).snapshot
    assert chosen.study.name == "demo" and len(chosen.queue) == 4
    wait_until(
        lambda: control.poll(tuner, second.id, cluster=False).snapshot.status.state == FINISHED
    )
    with tuner.use() as service:
        assert len(list_trials(service.conn, second.id)) == 1
    tuner.close()
