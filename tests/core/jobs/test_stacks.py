"""Python stacks of a job's ranks with a real ``py-spy dump`` of real processes, into a
real note file; through an overlapping ``srun`` step on the local Slurm cluster too."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from waitwise_tui.core.jobs.gpus import NodeReading
from waitwise_tui.core.jobs.stacks import Dump, Rank, collect_into_note, note_text, ranks_of

needs_pyspy = pytest.mark.skipif(
    shutil.which("py-spy") is None, reason="py-spy not installed (waitwise-tui[stacks])"
)

RANK_SCRIPT = """
import pathlib, sys, time
def all_reduce_waiting_here():
    pathlib.Path(sys.argv[1]).write_text("ready")
    time.sleep(120)
all_reduce_waiting_here()
"""


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def reading(node: str, procs: list[dict]) -> NodeReading:
    return NodeReading(node, 0.0, ({"index": 0, "processes": procs},))


def test_ranks_are_one_per_pid_ordered_by_rank_bad_entries_skipped() -> None:
    readings = {
        "n2": reading("n2", [{"pid": 20, "rank": 1}, {"pid": 20, "rank": 1}, "junk"]),
        "n1": reading("n1", [{"pid": 10, "rank": 0}, {"pid": "x"}, {"pid": 11}]),
    }
    assert [(r.node, r.pid, r.rank) for r in ranks_of(readings)] == [
        ("n1", 10, 0),
        ("n2", 20, 1),
        ("n1", 11, None),
    ]


@given(st.text(), st.text())
def test_outside_text_never_breaks_out_of_its_fence_or_reaches_the_terminal(out, node) -> None:
    rank = Rank(node, 5, 0, 0, "python \x1b[2J train.py")
    text = note_text("7", [Dump(rank, True, out)], datetime(2025, 1, 2, 3, 4, 5))
    assert "\x1b" not in text and "\r" not in text
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("```"))
    fence = lines[start]
    assert lines[-1] == fence and fence not in lines[start + 1 : -1]


@needs_pyspy
def test_a_real_py_spy_dump_of_two_local_ranks_lands_in_a_note(tmp_path: Path) -> None:
    procs = []
    try:
        for rank in range(2):
            ready = tmp_path / f"ready{rank}"
            procs.append(subprocess.Popen([sys.executable, "-c", RANK_SCRIPT, str(ready)]))
            wait_until(ready.exists, 30, f"rank {rank} to start")
        readings = {
            "node[1]": reading("node[1]", [{"pid": p.pid, "rank": i} for i, p in enumerate(procs)])
        }
        readings["node[1]"].gpus[0]["processes"].append({"pid": 2**22 + 7, "rank": 2})  # gone
        notes = tmp_path / "notes"
        path, dumps = collect_into_note(
            notes,
            "4242",
            readings,
            why="possible collective hang on 2 ranks",
            wrap=lambda node, argv: argv,  # this host: no srun
            now=datetime(2025, 1, 2, 3, 4, 5),
        )
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    assert path == notes / "stacks-4242-20250102-030405.md"
    assert [d.ok for d in dumps] == [True, True, False]
    text = path.read_text()
    assert "# Python stacks of Slurm job 4242" in text
    assert f"## rank 0 on node[1] (pid {procs[0].pid}, gpu0)" in text
    assert text.count("all_reduce_waiting_here (<string>:") == 2  # a frame per rank
    assert "## rank 2 on node[1]" in text and "py-spy failed:" in text
    assert "lang_start" not in text  # py-spy's Rust backtrace is cut to its first lines
    # A second collection in the same second never overwrites the first.
    again, _ = collect_into_note(
        notes, "4242", {}, wrap=lambda n, a: a, now=datetime(2025, 1, 2, 3, 4, 5)
    )
    assert again.name == "stacks-4242-20250102-030405-2.md" and path.read_text() == text


def test_a_missing_py_spy_is_one_line_per_rank(tmp_path: Path) -> None:
    readings = {"n1": reading("n1", [{"pid": 1, "rank": 0}])}
    path, dumps = collect_into_note(
        tmp_path, "9", readings, pyspy=[str(tmp_path / "no-py-spy")], wrap=lambda n, a: a
    )
    assert not dumps[0].ok and "no-py-spy not found" in dumps[0].text
    assert "py-spy failed:" in path.read_text()


BATCH = """#!/bin/sh
RANK=0 LOCAL_RANK=0 {python} -c '{script}' ready &
child=$!
echo $child > pid.tmp && mv pid.tmp pid
wait $child
"""


@needs_pyspy
@pytest.mark.slow
@pytest.mark.xdist_group("slurm")
@pytest.mark.usefixtures("slurm")
def test_py_spy_runs_through_an_overlapping_srun_step_of_the_job(tmp_path: Path) -> None:
    from waitwise_tui.core.jobs.gpus import read_allocation

    (tmp_path / "batch.sh").write_text(
        BATCH.format(python=sys.executable, script=RANK_SCRIPT.replace("'", '"'))
    )
    out = subprocess.run(
        ["sbatch", "--parsable", "--time=2", f"--chdir={tmp_path}", str(tmp_path / "batch.sh")],
        capture_output=True,
        text=True,
        check=True,
    )
    job = out.stdout.strip().split(";")[0]
    try:
        wait_until(lambda: (tmp_path / "ready").exists(), 60, "the job's rank to start")
        pid = int((tmp_path / "pid").read_text())
        node = read_allocation(job).nodes[0]
        path, dumps = collect_into_note(
            tmp_path / "notes",
            job,
            {node: reading(node, [{"pid": pid, "rank": 0}])},
            pyspy=[shutil.which("py-spy")],
        )
    finally:
        subprocess.run(["scancel", job], check=False)
    assert dumps[0].ok, dumps[0].text
    assert "all_reduce_waiting_here (<string>:" in path.read_text()
