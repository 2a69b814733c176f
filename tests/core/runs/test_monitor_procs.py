"""Finding the process that writes a run file, and its exit, with rate limiting."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from waitwise_tui.core.runs.procs import Writer, WriterFinder

HOLD_OPEN = """
import sys, time
f = open(sys.argv[1], "a")
f.write("x\\n"); f.flush()
print("ready", flush=True)
sys.stdin.read()
"""


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def writer(tmp_path):
    path = tmp_path / "log.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "ready"
    yield str(path), proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_finds_the_writer_and_notices_its_exit(writer, tmp_path):
    path, proc = writer
    other = str(tmp_path / "nobody.jsonl")
    clock = Clock()
    finder = WriterFinder(scan_seconds=10.0, clock=clock)
    found = finder.poll([path, other])
    assert found[path] == Writer(proc.pid, True)
    assert found[other] == Writer(None, None)
    assert finder.scans == 1
    # Within scan_seconds nothing is searched again.
    clock.now = 5.0
    assert finder.poll([path, other])[path] == Writer(proc.pid, True)
    assert finder.scans == 1
    proc.stdin.close()
    proc.wait(timeout=10)
    time.sleep(0.05)
    assert finder.poll([path])[path] == Writer(proc.pid, False)
    clock.now = 20.0
    assert finder.poll([path, other]) == {
        path: Writer(proc.pid, False),
        other: Writer(None, None),
    }
    assert finder.scans == 2


def test_finds_a_writer_by_its_directory(writer):
    path, proc = writer
    finder = WriterFinder()
    assert finder.poll([os.path.dirname(path)])[os.path.dirname(path)].pid == proc.pid
