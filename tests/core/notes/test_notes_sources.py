"""Snapshot sources: git, best trial from the db, GPU lines, duck-typed runs snapshot."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest

from waitwise_tui.core import db
from waitwise_tui.core.gpu.fake import FakeConfig, FakeNvml
from waitwise_tui.core.gpu.sampler import GpuSampler
from waitwise_tui.core.notes.sources import (
    best_trial,
    gather_snapshot,
    git_state,
    gpu_lines,
    run_parts,
)
from waitwise_tui.core.notes.store import SnapshotParts

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")


@needs_git
def test_git_state_commit_and_dirty(tmp_path) -> None:
    assert git_state(tmp_path) is None

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "--allow-empty", "-m", "x")
    commit, dirty = git_state(tmp_path)
    assert len(commit) >= 7 and dirty is False
    (tmp_path / "new.txt").write_text("x")
    assert git_state(tmp_path)[1] is True


def _study(conn, name: str, spec: dict, created: float) -> int:
    cur = conn.execute(
        "INSERT INTO studies (name, path, space_hash, spec, created) VALUES (?, '', '', ?, ?)",
        (name, json.dumps(spec), created),
    )
    return cur.lastrowid


def _trial(conn, study: int, number: int, state: str, value, params: dict) -> None:
    conn.execute(
        "INSERT INTO trials (study_id, number, state, params, hyperopt_vals, value, created)"
        " VALUES (?, ?, ?, ?, '{}', ?, 0)",
        (study, number, state, json.dumps(params), value),
    )


def test_best_trial_of_latest_study(tmp_path) -> None:
    path = tmp_path / "w.db"
    assert best_trial(path) is None
    conn = db.connect(path)
    old = _study(conn, "old", {"direction": "minimize"}, 1.0)
    _trial(conn, old, 0, "done", -100.0, {})
    new = _study(conn, "new", {"direction": "maximize"}, 2.0)
    _trial(conn, new, 0, "done", 0.5, {"lr": 0.1})
    _trial(conn, new, 1, "done", 0.9, {"lr": 0.01})
    _trial(conn, new, 2, "running", None, {"lr": 1.0})
    _trial(conn, new, 3, "failed", 5.0, {"lr": 2.0})
    conn.close()
    best = best_trial(path)
    assert (best.study, best.number, best.value, best.direction) == ("new", 1, 0.9, "maximize")
    assert best.params == {"lr": 0.01}


def test_best_trial_without_direction_is_left_out(tmp_path) -> None:
    conn = db.connect(tmp_path / "w.db")
    study = _study(conn, "s", {"space": {}}, 1.0)
    _trial(conn, study, 0, "done", 0.5, {})
    conn.close()
    assert best_trial(tmp_path / "w.db") is None


def test_gpu_lines_from_a_reading_and_a_failing_reader(tmp_path) -> None:
    _status, gpus = GpuSampler(FakeNvml(FakeConfig(gpus=2))).sample()
    lines = gpu_lines(gpus)
    assert [line.index for line in lines] == [0, 1]
    assert all(line.mem_total_mib and line.util_percent is not None for line in lines)
    assert gpu_lines(()) == []
    assert gpu_lines([replace(gpus[0], error="lost")]) == []

    def broken() -> list:
        raise RuntimeError("driver gone")

    base = SnapshotParts(time=datetime(2026, 3, 14, 9, 0))
    parts = gather_snapshot(base, root=tmp_path, db_path=tmp_path / "no.db", gpus=broken)
    assert parts.gpus == ()
    parts = gather_snapshot(base, root=tmp_path, db_path=tmp_path / "no.db", gpus=lambda: gpus)
    assert [line.index for line in parts.gpus] == [0, 1]


def test_run_parts_duck_typed() -> None:
    assert run_parts(None) == {}
    run = SimpleNamespace(
        name="resnet",
        step=10,
        epoch=None,
        metrics={"loss": SimpleNamespace(value=0.5), "acc": "n/a", "gn": float("nan")},
        eta=timedelta(minutes=2),
        finished=False,
    )
    done = SimpleNamespace(name="old", finished=True)
    parts = run_parts(SimpleNamespace(runs=[done, run]))
    assert parts["run"] == "resnet" and parts["step"] == 10.0 and parts["eta_seconds"] == 120.0
    assert parts["metrics"]["loss"] == 0.5 and "acc" not in parts["metrics"]
    assert "epoch" not in parts
    assert run_parts(SimpleNamespace(runs=[])) == {}
    assert run_parts({"name": "dict-run", "step": "x"}) == {"run": "dict-run"}
