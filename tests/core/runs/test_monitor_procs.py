"""Finding the process that writes a run file on evidence, and its exit, with real processes.

Each writer here is a real Python subprocess: one holding the log open, a pipeline
through ``tee``, one that reopens the file for every flush (as some event writers do),
and an unrelated Python sleeping in the run's directory, which is never the writer.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from waits import wait_until

from waitwise_tui.core.runs.procs import Writer, WriterFinder

HOLD_OPEN = """
import sys, time
f = open(sys.argv[1], "a")
f.write("x\\n"); f.flush()
print("ready", flush=True)
sys.stdin.read()
"""

# Prints progress lines on stdout until stdin closes (the pipeline's first process).
PRINTER = """
import sys, threading, time
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
i = 0
while not done.is_set():
    print(f"train {i}/100000 loss=0.5", flush=True)
    i += 1
    time.sleep(0.02)
"""

# Opens, appends and closes the file at every flush: never holds it open.
REOPENER = """
import sys, threading, time
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
while not done.is_set():
    with open(sys.argv[1], "ab") as f:
        f.write(b"r" * 64)
    time.sleep(0.01)
"""

SLEEPER = "import sys; sys.stdin.read()"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _start(code: str, *args: str, cwd=None, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], stdin=subprocess.PIPE, cwd=cwd, **kwargs
    )


def _stop(*procs: subprocess.Popen) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


@pytest.fixture
def writer(tmp_path):
    path = tmp_path / "log.jsonl"
    proc = _start(HOLD_OPEN, str(path), stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    yield str(path), proc
    _stop(proc)


def test_finds_the_writer_and_notices_its_exit(writer, tmp_path):
    path, proc = writer
    other = str(tmp_path / "nobody.jsonl")
    clock = Clock()
    finder = WriterFinder(scan_seconds=10.0, clock=clock)
    found = finder.poll([path, other])
    assert found[path] == Writer(proc.pid, True, "has the log open for writing")
    assert found[other] == Writer(None, None)
    assert finder.scans == 1
    # Within scan_seconds nothing is searched again.
    clock.now = 5.0
    assert finder.poll([path, other])[path].pid == proc.pid
    assert finder.scans == 1
    proc.stdin.close()
    proc.wait(timeout=10)
    assert finder.poll([path])[path] == Writer(proc.pid, False, "has the log open for writing")
    # A later search finding nobody keeps the exit as the answer.
    clock.now = 20.0
    found = finder.poll([path, other])
    assert found[path].pid == proc.pid and found[path].alive is False
    assert found[other] == Writer(None, None)
    assert finder.scans == 2


def test_finds_a_writer_of_a_file_in_a_run_directory(writer):
    path, proc = writer
    run_dir = path.rsplit("/", 1)[0]
    assert WriterFinder().poll([run_dir])[run_dir].pid == proc.pid


def test_an_unrelated_python_in_the_run_directory_is_not_the_writer(tmp_path):
    path = tmp_path / "train.log"
    path.write_text("train 1/10 loss=1\n")
    sleeper = _start(SLEEPER, cwd=tmp_path)
    try:
        clock = Clock()
        finder = WriterFinder(scan_seconds=1.0, clock=clock)
        for tick in range(4):
            clock.now = float(tick)
            assert finder.poll([str(path)])[str(path)] == Writer(None, None)
    finally:
        _stop(sleeper)


def test_a_tee_pipeline_is_one_writer_the_training_process(tmp_path):
    path = tmp_path / "train.log"
    printer = _start(PRINTER, stdout=subprocess.PIPE)
    tee = subprocess.Popen(["tee", str(path)], stdin=printer.stdout, stdout=subprocess.DEVNULL)
    printer.stdout.close()
    try:
        wait_until(lambda: path.exists() and path.stat().st_size > 0, "tee to write")
        found = WriterFinder().poll([str(path)])[str(path)]
        assert found.pid == printer.pid and found.alive
        assert found.evidence == f"its stdout is piped into tee (pid {tee.pid})"
    finally:
        _stop(printer, tee)


def test_a_writer_that_reopens_the_file_is_found_by_its_writes(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    path = run_dir / "events.out.tfevents.1.host"
    reopener = _start(REOPENER, str(path), cwd=tmp_path)
    sleeper = _start(SLEEPER, cwd=run_dir)  # related by directory, writes nothing
    try:
        wait_until(path.exists, "the first write")
        clock = Clock()
        finder = WriterFinder(scan_seconds=0.0, clock=clock)

        def found() -> Writer | None:
            clock.now += 1.0
            writer = finder.poll([str(run_dir)])[str(run_dir)]
            return writer if writer.pid is not None else None

        writer = wait_until(found, "the writes to match the growth")
        assert writer.pid == reopener.pid and writer.alive
        assert writer.evidence.startswith("its writes matched the log's growth")
        reopener.kill()
        reopener.wait(timeout=10)
        assert finder.poll([str(run_dir)])[str(run_dir)] == Writer(
            reopener.pid, False, writer.evidence
        )
    finally:
        _stop(reopener, sleeper)
