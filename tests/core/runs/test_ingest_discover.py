"""Finding runs in a workspace and detecting formats by content."""

from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_fixtures import scalar_event, write_events

from waitwise_tui.core.runs.discover import detect_format, discover_runs


def _w(path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _workspace(root) -> None:
    _w(root / "lightning_logs/version_3/metrics.csv", "epoch,step,loss\n0,1,0.5\n")
    _w(root / "lightning_logs/version_4/metrics.csv", "epoch,step,loss\n0,1,0.5\n")
    write_events(root / "runs/exp1", [scalar_event("loss", 1.0, 1)], suffix=".a")
    write_events(root / "runs/exp1", [scalar_event("loss", 1.0, 2)], suffix=".b")
    state = json.dumps({"global_step": 5, "max_steps": 9, "log_history": [{"loss": 1, "step": 5}]})
    _w(root / "out/checkpoint-5/trainer_state.json", state)
    _w(root / "out/checkpoint-10/trainer_state.json", state)
    _w(root / "logs/metrics.jsonl", '{"step": 1, "loss": 0.5}\n')
    _w(root / "nohup.out", "starting up\n")
    _w(root / "slurm-1234.out", "iter 1: loss 2.0\n")
    _w(root / "train.log", "epoch=1 loss=0.4\n")
    _w(root / "server.log", "GET / 200\nGET /x 404\n")
    _w(root / "notes.jsonl", '{"title": "x"}\n')
    _w(root / "data.csv", "a,b\n1,2\n")
    _w(root / ".venv/lib/train.log", "epoch=1 loss=0.4\n")
    _w(root / "node_modules/x/train.log", "epoch=1 loss=0.4\n")
    _w(root / ".git/train.log", "epoch=1 loss=0.4\n")
    _w(root / ".waitwise/other/train.log", "epoch=1 loss=0.4\n")
    _w(root / ".waitwise/jobs/7/stdout.log", "booting\n")
    _w(root / ".waitwise/jobs/7/other.log", "epoch=1 loss=0.4\n")
    _w(root / ".waitwise/demo/run-a/metrics.csv", "step,loss\n1,0.5\n")
    _w(root / "empty.log", "")


def test_scan_finds_runs_by_pattern_and_content(tmp_path) -> None:
    _workspace(tmp_path)
    runs = discover_runs(tmp_path)
    got = {(c.name, c.format) for c in runs}
    assert got == {
        ("lightning_logs/version_3", "csv"),
        ("lightning_logs/version_4", "csv"),
        ("runs/exp1", "tfevents"),
        ("out", "trainer_state"),
        ("logs/metrics", "jsonl"),
        ("nohup", "text"),
        ("slurm-1234", "text"),
        ("train", "text"),
        (".waitwise/jobs/7/stdout", "text"),
        (".waitwise/demo/run-a", "csv"),
    }
    by_name = {c.name: c for c in runs}
    assert by_name["out"].path == str(tmp_path / "out")
    assert by_name["runs/exp1"].path == str(tmp_path / "runs/exp1")
    assert len({c.name for c in runs}) == len(runs)


def test_explicit_paths(tmp_path) -> None:
    _workspace(tmp_path)
    runs = discover_runs(
        tmp_path, [tmp_path / "server.log", tmp_path / "runs", tmp_path / "missing.log"]
    )
    assert {(c.name, c.format) for c in runs} == {("server", "text"), ("runs/exp1", "tfevents")}


def test_paths_outside_root_are_named_from_their_parent(tmp_path) -> None:
    _w(tmp_path / "elsewhere/exp1/train.log", "step=1 loss=2\n")
    _w(tmp_path / "elsewhere/solo.jsonl", '{"step": 1, "loss": 2}\n')
    runs = discover_runs(
        tmp_path / "ws", [tmp_path / "elsewhere/exp1", tmp_path / "elsewhere/solo.jsonl"]
    )
    assert sorted(c.name for c in runs) == ["exp1/train", "solo"]


def test_names_stay_unique(tmp_path) -> None:
    _w(tmp_path / "a/train.log", "step=1 loss=2\n")
    _w(tmp_path / "a/train.jsonl", '{"step": 1, "loss": 2}\n')
    names = [c.name for c in discover_runs(tmp_path)]
    assert len(set(names)) == 2


def test_scan_is_bounded(tmp_path) -> None:
    deep = tmp_path
    for i in range(10):
        deep = deep / f"d{i}"
    _w(deep / "train.log", "step=1 loss=2\n")
    assert discover_runs(tmp_path) == []


def test_detect_by_content_not_extension(tmp_path) -> None:
    ev = write_events(tmp_path / "ev", [scalar_event("loss", 1.0, 1)])
    renamed = tmp_path / "thing.log"
    renamed.write_bytes(ev.read_bytes())
    assert detect_format(renamed) == "tfevents"
    assert detect_format(tmp_path / "ev") == "tfevents"
    _w(tmp_path / "x.txt", '{"step": 1, "loss": 0.5}\n')
    assert detect_format(tmp_path / "x.txt") == "jsonl"
    _w(tmp_path / "y.log", "step,loss\n1,0.5\n")
    assert detect_format(tmp_path / "y.log") == "csv"
    _w(tmp_path / "z.json", json.dumps({"log_history": [], "global_step": 0}))
    assert detect_format(tmp_path / "z.json") == "trainer_state"
    _w(tmp_path / "w.log", "hello\nworld\n")
    assert detect_format(tmp_path / "w.log") is None
    assert detect_format(tmp_path / "w.log", lenient=True) == "text"
    (tmp_path / "bin.log").write_bytes(b"\x00\x01\x02" * 100)
    assert detect_format(tmp_path / "bin.log") is None
    assert detect_format(tmp_path / "nope") is None


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=3000))
def test_detect_format_random_bytes_never_raise(tmp_path_factory, data) -> None:
    path = tmp_path_factory.mktemp("d") / "x.log"
    path.write_bytes(data)
    assert detect_format(path) in {None, "tfevents", "csv", "trainer_state", "jsonl", "text"}
    assert detect_format(path, lenient=True) in {
        None,
        "tfevents",
        "csv",
        "trainer_state",
        "jsonl",
        "text",
    }


def test_rescan_picks_up_a_log_once_it_shows_metrics(tmp_path) -> None:
    log = tmp_path / "train.log"
    _w(log, "loading model\n")
    assert discover_runs(tmp_path) == []
    with open(log, "a") as fh:
        fh.write("step=1 loss=2.0\n")
    (run,) = discover_runs(tmp_path)
    assert (run.name, run.format) == ("train", "text")
    with open(log, "a") as fh:
        fh.write("more output\n")
    assert discover_runs(tmp_path) == [run]


def test_fifo_is_not_opened(tmp_path) -> None:
    fifo = tmp_path / "pipe.log"
    os.mkfifo(fifo)
    assert detect_format(fifo) is None
    assert detect_format(fifo, lenient=True) is None
    assert discover_runs(tmp_path) == []
