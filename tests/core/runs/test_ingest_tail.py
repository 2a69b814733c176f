"""Tailing scenarios shared by every reader: append, truncate, rotate, delete, huge lines."""

from __future__ import annotations

import os

from ingest_fixtures import candidate, collect

from waitwise_tui.core.runs.readers import open_tail
from waitwise_tui.core.runs.tail import CHUNK, MAX_LINE


def _lines(path, text: str, mode: str = "a") -> None:
    with open(path, mode) as fh:
        fh.write(text)


def test_append_then_truncate_starts_over(tmp_path) -> None:
    path = tmp_path / "m.jsonl"
    _lines(path, '{"step": 1, "loss": 1.0}\n{"step": 2, "loss": 0.9}\n', "w")
    tail = open_tail(candidate(path, "jsonl"))
    assert len(tail.poll().points) == 2
    _lines(path, '{"step": 3, "loss": 0.8}\n')
    up = tail.poll()
    assert [p.step for p in up.points] == [3] and not up.reset
    _lines(path, '{"step": 1, "loss": 5.0}\n', "w")
    up = tail.poll()
    assert up.reset and [(p.step, p.value) for p in up.points] == [(1, 5.0)]


def test_rotation_to_a_new_inode_starts_over(tmp_path) -> None:
    path = tmp_path / "train.log"
    _lines(path, "step=1 loss=1.0\nstep=2 loss=0.9\n", "w")
    tail = open_tail(candidate(path, "text"))
    points: list = []
    collect(tail, points)
    assert len(points) == 2
    new = tmp_path / "train.log.new"
    _lines(new, "step=1 loss=2.0\nstep=2 loss=1.9\nstep=3 loss=1.8\n", "w")
    os.replace(new, path)
    up = tail.poll()
    assert up.reset
    assert [p.value for p in up.points if p.metric == "loss"] == [2.0, 1.9, 1.8]


def test_delete_sets_gone_once_and_a_new_file_resets(tmp_path) -> None:
    path = tmp_path / "metrics.csv"
    _lines(path, "step,loss\n1,0.5\n", "w")
    tail = open_tail(candidate(path, "csv"))
    assert tail.poll().points
    path.unlink()
    assert tail.poll().gone
    later = tail.poll()
    assert not later.gone and not later.points and not later.reset
    _lines(path, "step,loss\n7,0.1\n", "w")
    up = tail.poll()
    assert up.reset and [p.step for p in up.points] == [7.0]


def test_missing_file_is_not_gone_before_it_existed(tmp_path) -> None:
    tail = open_tail(candidate(tmp_path / "later.log", "text"))
    assert tail.poll() == tail.poll()
    assert not tail.poll().gone


def test_huge_line_without_newline_stays_bounded(tmp_path) -> None:
    path = tmp_path / "train.log"
    _lines(path, "step=1 loss=1.0 acc=0.5\n", "w")
    tail = open_tail(candidate(path, "text"))
    assert len(tail.poll().points) == 2
    with open(path, "ab") as fh:
        fh.write(b"x" * (10 * 1024 * 1024))
    assert tail.poll().points == []
    assert len(tail._rem) <= MAX_LINE + CHUNK
    with open(path, "ab") as fh:
        fh.write(b" step=2 loss=9\nstep=3 loss=0.8 acc=0.6\n")
    up = tail.poll()
    assert [(p.metric, p.step) for p in up.points] == [("loss", 3), ("acc", 3)]


def test_close_stops_reading(tmp_path) -> None:
    path = tmp_path / "m.jsonl"
    _lines(path, '{"step": 1, "loss": 1.0}\n', "w")
    tail = open_tail(candidate(path, "jsonl"))
    tail.close()
    assert tail.poll().points == []
