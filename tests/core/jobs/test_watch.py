"""The Slurm watch: runs linked by their writer's real environment, one collector per
linked or picked job, time-limit and GPU alerts as events, collectors stopped when
unlinked or when nobody watches. The cluster side is a fake collector."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field, replace

from hypothesis import given
from hypothesis import strategies as st

from waitwise_tui.core.jobs.gpus import JobAllocation, NodeReading
from waitwise_tui.core.jobs.watch import (
    SlurmWatch,
    job_id_from_environ,
    parse_environ,
    slurm_job_of_pid,
)

NOW = 1_790_000_000.0


def allocation(job_id: str, left_s: float = 600.0, nodes=("n1",)) -> JobAllocation:
    return JobAllocation(job_id, "RUNNING", tuple(nodes), {}, NOW - 60, NOW + left_s, 3600.0)


@dataclass
class FakeCollector:
    allocation: JobAllocation
    readings_: dict = field(default_factory=dict)
    history: dict = field(default_factory=dict)
    started: bool = False
    stopped: bool = False
    ended: bool = False
    errors: list = field(default_factory=list)

    def start(self):
        self.started = True
        return self

    def stop(self) -> None:
        self.stopped = True

    def readings(self):
        return dict(self.readings_)

    def series(self):
        return {k: list(v) for k, v in self.history.items()}


@dataclass(frozen=True)
class Run:
    name: str = "mlp"
    path: str = ""
    status: str = "live"
    writer_pid: int | None = 1
    eta_seconds: float | None = 60.0
    last_step: float | None = 1000.0
    step_rate: float | None = 2.0
    age_seconds: float | None = 1.0


def make_watch(allocations: dict[str, JobAllocation], links: dict[int, str], **kw):
    made: list[FakeCollector] = []

    def collector(alloc):
        made.append(FakeCollector(alloc))
        return made[-1]

    watch = SlurmWatch(
        make_collector=collector,
        read_allocation=lambda job_id: allocations[job_id],
        job_of_pid=links.get,
        clock=lambda: NOW,
        **kw,
    )
    return watch, made


VALUES = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"))


@given(st.dictionaries(st.from_regex(r"[A-Z_][A-Z0-9_]{0,8}", fullmatch=True), VALUES))
def test_environ_round_trips(env: dict[str, str]) -> None:
    data = b"\0".join(f"{k}={v}".encode() for k, v in env.items())
    assert parse_environ(data + b"\0") == env


@given(st.binary())
def test_any_environ_bytes_parse_and_only_digits_link(data: bytes) -> None:
    job = job_id_from_environ(parse_environ(data))
    assert job is None or job.isdigit()


def test_a_real_process_environment_links_its_job() -> None:
    code = "import sys; sys.stdin.read()"
    env = dict(os.environ, SLURM_JOB_ID="4242")
    env_none = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_JOB")}
    inside = subprocess.Popen([sys.executable, "-c", code], env=env, stdin=subprocess.PIPE)
    outside = subprocess.Popen([sys.executable, "-c", code], env=env_none, stdin=subprocess.PIPE)
    try:
        assert slurm_job_of_pid(inside.pid) == "4242"
        assert slurm_job_of_pid(outside.pid) is None
    finally:
        for proc in (inside, outside):
            proc.communicate(b"")
    assert slurm_job_of_pid(inside.pid) is None  # gone: unreadable, no link


def test_a_linked_run_past_its_time_limit_warns_once_and_its_collector_runs() -> None:
    watch, made = make_watch({"77": allocation("77", left_s=600)}, {1: "77"})
    run = Run(eta_seconds=4000.0)
    snapshot, events = watch.poll([run])
    assert snapshot.links == {"mlp": "77"}
    assert [j.job_id for j in snapshot.jobs] == ["77"] and snapshot.jobs[0].run == "mlp"
    assert snapshot.jobs[0].left_s(snapshot.time) == 600
    assert len(made) == 1 and made[0].started
    (event,) = events
    assert event.kind == "alert" and event.data["alert"] == "time_limit"
    assert "Slurm job 77 will hit the time limit" in event.message
    assert watch.poll([run])[1] == []  # the early warning is said once
    # A run that finishes is no longer watched: its job's stream stops.
    snapshot, _ = watch.poll([replace(run, status="finished")])
    assert made[0].stopped and snapshot.jobs == ()


def test_a_run_that_will_finish_in_time_raises_nothing() -> None:
    watch, _ = make_watch({"77": allocation("77", left_s=600)}, {1: "77"})
    assert watch.poll([Run(eta_seconds=60.0)])[1] == []


def test_unlinked_runs_cost_nothing_and_picked_jobs_are_watched_until_dropped() -> None:
    asked: list[str] = []
    watch, made = make_watch(
        {"5": allocation("5")}, {}, list_running=lambda: asked.append("q") or ["5"]
    )
    snapshot, events = watch.poll([Run()])
    assert snapshot.jobs == () and made == [] and asked == [] and events == []
    watch.pick(None)  # the cluster view: every running job
    snapshot, _ = watch.poll([Run()])
    assert [j.job_id for j in snapshot.jobs] == ["5"] and snapshot.jobs[0].run == ""
    watch.pick(())
    watch.poll([Run()])
    assert made[0].stopped


def test_stop_stops_every_collector_and_the_next_poll_starts_again() -> None:
    watch, made = make_watch({"77": allocation("77")}, {1: "77"})
    watch.poll([Run()])
    watch.stop()
    assert made[0].stopped
    watch.poll([Run()])
    assert len(made) == 2 and made[1].started and not made[1].stopped


def test_an_ended_job_is_dropped() -> None:
    allocations = {"77": allocation("77")}
    watch, made = make_watch(allocations, {1: "77"})
    watch.poll([Run()])
    allocations["77"] = replace(allocations["77"], state="COMPLETED")
    made[0].ended = True  # the stream saw the job end
    snapshot, _ = watch.poll([Run()])
    assert snapshot.jobs == () and made[0].stopped


def test_a_stalled_run_on_busy_low_power_gpus_raises_a_possible_hang() -> None:
    watch, made = make_watch({"77": allocation("77")}, {1: "77"})
    watch.poll([Run()])
    history = {}
    for index in range(2):
        samples = [
            (NOW - 600 + t, {"index": index, "util_percent": 100, "power_w": 300})
            for t in range(0, 570, 5)
        ]
        samples += [
            (NOW - 30 + t, {"index": index, "util_percent": 100, "power_w": 90})
            for t in range(0, 31, 5)
        ]
        history[("n1", index)] = samples
    made[0].history = history
    made[0].readings_ = {"n1": NodeReading("n1", NOW, ())}
    _, events = watch.poll([Run(status="stalled", age_seconds=300.0)])
    assert [e.data["alert"] for e in events] == ["possible_hang"]
    assert "possible collective hang on 2 ranks of Slurm job 77" in events[0].message
    # The same run still live on the same GPUs: no hang (the step advances).
    watch2, made2 = make_watch({"77": allocation("77")}, {1: "77"})
    watch2.poll([Run()])
    made2[0].history = history
    assert [e.data["alert"] for e in watch2.poll([Run()])[1]] == []


def test_a_run_in_a_tuner_job_folder_links_to_that_jobs_slurm_id(tmp_path) -> None:
    from waitwise_tui.core import db
    from waitwise_tui.core.jobs.model import JobSpec
    from waitwise_tui.core.jobs.store import JobStore
    from waitwise_tui.core.jobs.watch import StoreLinks, job_dir_id
    from waitwise_tui.core.workspace import Workspace

    workspace = Workspace(tmp_path)
    conn = db.connect(workspace.db_path)
    store = JobStore(conn)
    slurm_job = store.create(JobSpec(["python", "train.py"], str(tmp_path)), backend="slurm")
    local_job = store.create(JobSpec(["python", "train.py"], str(tmp_path)))
    store.update(local_job, backend_id="999")  # not a Slurm job: never linked
    log = str(workspace.jobs_dir / str(slurm_job) / "stdout.log")
    assert job_dir_id(log, str(workspace.jobs_dir)) == slurm_job
    assert job_dir_id(str(workspace.jobs_dir / "x" / "stdout.log"), str(workspace.jobs_dir)) is None
    assert job_dir_id(str(tmp_path / "runs" / "m.jsonl"), str(workspace.jobs_dir)) is None

    clock = [NOW]
    links = StoreLinks(workspace, clock=lambda: clock[0], refresh_s=30)
    watch, made = make_watch({"4242": allocation("4242")}, {}, job_of_path=links)
    run = Run(name="trial-3", path=log, writer_pid=None)
    other = Run(name="local", path=str(workspace.jobs_dir / str(local_job) / "stdout.log"))
    # Still pending: no Slurm id yet, so no link.
    assert watch.poll([run, other])[0].links == {}
    store.update(slurm_job, backend_id="4242")
    clock[0] += 31  # asked again after refresh_s
    watch.clock = lambda: clock[0]
    snapshot, _ = watch.poll([run, other])
    assert snapshot.links == {"trial-3": "4242"}
    assert [j.job_id for j in snapshot.jobs] == ["4242"] and snapshot.jobs[0].run == "trial-3"
    assert made[0].started
    conn.close()


def test_store_links_never_creates_a_database(tmp_path) -> None:
    from waitwise_tui.core.jobs.watch import StoreLinks
    from waitwise_tui.core.workspace import Workspace

    workspace = Workspace(tmp_path)
    assert StoreLinks(workspace)(str(workspace.jobs_dir / "1" / "stdout.log")) is None
    assert not workspace.db_path.exists()
