"""RunMonitor with fake tails (logic) and with real files and readers (end to end)."""

from __future__ import annotations

import json
import math
import os

import pytest

from waitwise_tui.core.runs.chart import ChartOptions
from waitwise_tui.core.runs.model import Point, ReadUpdate, RunCandidate
from waitwise_tui.core.runs.monitor import RunMonitor


class FakeTail:
    def __init__(self, candidate: RunCandidate, updates: list[ReadUpdate]) -> None:
        self.candidate = candidate
        self.updates = updates
        self.closed = False

    def poll(self) -> ReadUpdate:
        return self.updates.pop(0) if self.updates else ReadUpdate()

    def close(self) -> None:
        self.closed = True


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def pts(metric: str, steps, values) -> list[Point]:
    return [Point(metric, float(s), float(v)) for s, v in zip(steps, values, strict=True)]


@pytest.fixture
def world(tmp_path):
    """Candidates, scripted updates per path, and a monitor wired to them."""
    candidates: list[RunCandidate] = []
    scripts: dict[str, list[ReadUpdate]] = {}
    tails: dict[str, FakeTail] = {}
    clock = Clock()

    def open_tail(candidate: RunCandidate) -> FakeTail:
        tails[candidate.path] = FakeTail(candidate, scripts.setdefault(candidate.path, []))
        return tails[candidate.path]

    def add(name: str, *updates: ReadUpdate) -> str:
        path = str(tmp_path / f"{name}.jsonl")
        candidates.append(RunCandidate(path, "jsonl", name))
        scripts[path] = list(updates)
        return path

    monitor = RunMonitor(
        tmp_path,
        rescan_seconds=5.0,
        clock=clock,
        discover=lambda root, paths: list(candidates),
        open_tail=open_tail,
        writers=False,
    )
    return monitor, add, scripts, tails, clock


def test_snapshot_lists_runs_with_metric_summaries(world):
    monitor, add, *_ = world
    add("a", ReadUpdate(points=pts("loss", [1, 2, 3], [3.0, 2.0, 1.0]) + pts("acc", [3], [0.5])))
    snap = monitor.poll()
    (run,) = snap.runs
    assert (run.name, run.format, run.status) == ("a", "jsonl", "live")
    assert run.last_step == 3.0 and run.age_seconds == 0.0
    loss = run.metric("loss")
    assert (loss.count, loss.first, loss.last, loss.min, loss.max) == (3, 3.0, 1.0, 1.0, 3.0)
    assert run.metric("acc").last_step == 3.0
    assert snap.run("a") is run and snap.run("zzz") is None
    assert snap.new_alerts == ()


def test_new_alerts_are_reported_once(world):
    monitor, add, scripts, _, clock = world
    path = add("a", ReadUpdate(points=pts("loss", [1, 2], [1.0, math.nan])))
    snap = monitor.poll()
    assert [a.kind for a in snap.new_alerts] == ["nan"]
    assert snap.new_alerts[0].run == "a"
    assert [a.kind for a in snap.runs[0].alerts] == ["nan"]
    scripts[path].append(ReadUpdate(points=pts("loss", [3], [math.nan])))
    clock.now += 1
    snap = monitor.poll()
    assert snap.new_alerts == ()
    assert [a.kind for a in snap.runs[0].alerts] == ["nan"]


def test_rescan_adds_runs_only_every_rescan_seconds(world):
    monitor, add, _, _, clock = world
    add("a", ReadUpdate(points=pts("loss", [1], [1.0])))
    assert len(monitor.poll().runs) == 1
    add("b", ReadUpdate(points=pts("loss", [1], [1.0])))
    clock.now += 1
    assert len(monitor.poll().runs) == 1
    clock.now += 5
    assert [r.name for r in monitor.poll().runs] == ["a", "b"]


def test_reset_drops_old_points(world):
    monitor, add, scripts, _, clock = world
    path = add("a", ReadUpdate(points=pts("loss", [1, 2, 3], [3.0, 2.0, 1.0])))
    monitor.poll()
    scripts[path].append(ReadUpdate(points=pts("loss", [1], [9.0]), reset=True))
    clock.now += 1
    run = monitor.poll().runs[0]
    assert run.metric("loss").count == 1 and run.metric("loss").last == 9.0


def test_total_metric_gives_progress_and_eta(world):
    monitor, add, scripts, _, clock = world
    path = add("a", ReadUpdate(points=pts("max_steps", [0], [100]) + pts("loss", [10], [1.0])))
    run = monitor.poll().runs[0]
    assert run.metric("max_steps") is None
    assert run.progress == pytest.approx(0.1)
    scripts[path].append(ReadUpdate(points=pts("loss", [20], [0.9])))
    clock.now += 2
    run = monitor.poll().runs[0]
    assert run.step_rate == pytest.approx(5.0)
    assert run.eta_seconds is None  # not on one rate sample
    for step in (30, 40):
        scripts[path].append(ReadUpdate(points=pts("loss", [step], [0.9])))
        clock.now += 2
        run = monitor.poll().runs[0]
    assert run.step_rate == pytest.approx(5.0)
    assert run.eta_seconds == pytest.approx(12.0)


def test_set_total_and_progress_update(world):
    monitor, add, scripts, _, clock = world
    path = add("a", ReadUpdate(points=pts("loss", [50], [1.0]), progress=(5, 10)))
    assert monitor.poll().runs[0].progress == pytest.approx(0.5)
    monitor.set_total("a", 200)
    assert monitor.poll().runs[0].progress == pytest.approx(0.25)
    monitor.set_total("a", None)
    scripts[path].append(ReadUpdate(finished=True))
    clock.now += 1
    run = monitor.poll().runs[0]
    assert run.progress == pytest.approx(0.5)
    assert run.status == "finished" and run.eta_seconds is None


def test_reader_failure_is_reported_not_raised(world):
    monitor, add, _, tails, _ = world
    add("a", ReadUpdate(points=pts("loss", [1], [1.0])))
    add("b", ReadUpdate(points=pts("loss", [1], [1.0])))
    monitor.poll()

    def boom() -> ReadUpdate:
        raise RuntimeError("bad bytes")

    next(iter(tails.values())).poll = boom
    snap = monitor.poll()
    assert snap.runs[0].error == "read failed: bad bytes"
    assert snap.runs[1].error is None


def test_gone_and_duplicate_names(world):
    monitor, add, scripts, _, clock = world
    path = add("a", ReadUpdate(points=pts("loss", [1], [1.0])))
    add("a", ReadUpdate(points=pts("loss", [1], [2.0])))
    # The second candidate shares the name but not the path.
    monitor._discover = lambda root, paths: [
        RunCandidate(path, "jsonl", "a"),
        RunCandidate(path + "2", "jsonl", "a"),
    ]
    snap = monitor.poll()
    assert [r.name for r in snap.runs] == ["a", "a (2)"]
    scripts[path].append(ReadUpdate(gone=True))
    clock.now += 1
    assert monitor.poll().run("a").status == "gone"


def test_chart_overlays_runs_and_metrics(world):
    monitor, add, *_ = world
    add("a", ReadUpdate(points=pts("loss", range(50), [1 / (i + 1) for i in range(50)])))
    add("b", ReadUpdate(points=pts("loss", range(50), [2 / (i + 1) for i in range(50)])))
    monitor.poll()
    text = monitor.chart(["a", "b"], ["loss"], 60, 14, ChartOptions(colorless=True))
    assert "a:loss" in text and "b:loss" in text
    assert monitor.chart(["nope"], ["loss"], 60, 14) == "no data"
    assert monitor.metric_names("a") == ["loss"]


def test_close_closes_tails(world):
    monitor, add, _, tails, _ = world
    add("a", ReadUpdate())
    monitor.poll()
    monitor.close()
    assert all(t.closed for t in tails.values())


# -- end to end: real files, real discovery and readers ------------------------------


def _append(path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)


def test_end_to_end_jsonl_and_csv(tmp_path):
    run_dir = tmp_path / "runs" / "exp1"
    run_dir.mkdir(parents=True)
    jsonl = run_dir / "metrics.jsonl"
    _append(jsonl, json.dumps({"step": 1, "loss": 2.0, "max_steps": 4}) + "\n")
    _append(jsonl, json.dumps({"step": 2, "loss": 1.5, "val_loss": 1.7}) + "\n")
    csv_dir = tmp_path / "runs" / "exp2"
    csv_dir.mkdir()
    csv_path = csv_dir / "metrics.csv"
    _append(csv_path, "step, loss ,acc\n1,2.0,0.1\n2,nan,0.2\n")
    clock = Clock()
    clock.now = os.stat(jsonl).st_mtime + 1
    monitor = RunMonitor(tmp_path, clock=clock, writers=False)
    snap = monitor.poll()
    by_format = {r.format: r for r in snap.runs}
    assert set(by_format) == {"jsonl", "csv"}
    js = by_format["jsonl"]
    assert js.metric("loss").count == 2 and js.metric("val_loss").last == 1.7
    assert js.progress == pytest.approx(0.5)
    cs = by_format["csv"]
    assert {m.name for m in cs.metrics} == {"loss", "acc"}
    assert cs.metric("loss").count == 2 and cs.metric("loss").min == 2.0
    assert any(a.kind == "nan" and a.metric == "loss" for a in snap.new_alerts)

    _append(jsonl, json.dumps({"step": 3, "loss": 1.2}) + "\n")
    clock.now += 1
    snap = monitor.poll()
    js = next(r for r in snap.runs if r.format == "jsonl")
    assert js.metric("loss").count == 3 and js.last_step == 3.0
    assert js.status == "live"
    text = monitor.chart([js.name], ["loss", "val_loss"], 50, 12, ChartOptions(colorless=True))
    assert "┤" in text
    monitor.close()


def test_end_to_end_explicit_path(tmp_path):
    path = tmp_path / "train.jsonl"
    _append(path, "".join(json.dumps({"step": i, "loss": 1 / i}) + "\n" for i in range(1, 6)))
    monitor = RunMonitor(tmp_path, [str(path)], writers=False)
    (run,) = monitor.poll().runs
    assert run.path == str(path) and run.metric("loss").count == 5
    monitor.close()


def test_add_path_watches_a_file_that_appears_later(tmp_path):
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "a.jsonl").write_text('{"step": 1, "loss": 1.0}\n')
    late = tmp_path / "elsewhere" / "late.jsonl"
    late.parent.mkdir()
    clock = Clock()
    monitor = RunMonitor(tmp_path / "proj", clock=clock, writers=False)
    assert len(monitor.poll().runs) == 1
    monitor.add_path(str(late))
    assert len(monitor.poll().runs) == 1  # not written yet
    late.write_text('{"step": 1, "loss": 2.0}\n')
    clock.now += 5
    snap = monitor.poll()
    assert len(snap.runs) == 2
    assert any(r.path == str(late) and r.metric("loss").last == 2.0 for r in snap.runs)
    monitor.close()
