"""The pytest runner against the fixture project, checked against pytest's own summary."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from waitwise_tui.core.testing.python_env import SetupError
from waitwise_tui.core.testing.runner import (
    Collected,
    CollectionFinished,
    Finished,
    RunRequest,
    TestResult,
    TestRun,
    build_env,
    explain_exit_code,
    parse_event,
    summary_text,
)

FIXTURE = Path(__file__).parents[2] / "fixtures" / "sample_project"
# The fixture project needs none of the plugins installed here; skipping them makes
# each pytest start several times faster.
FAST_ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    target = tmp_path / "sample"
    shutil.copytree(FIXTURE, target)
    return target


def pytest_summary_counts(project: Path, *args: str) -> dict[str, int]:
    """Counts from the summary line of a plain ``pytest -q`` run."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **FAST_ENV},
    )
    last = proc.stdout.strip().splitlines()[-1]
    counts = {}
    for number, word in re.findall(r"(\d+) (\w+)", last):
        counts[{"errors": "error"}.get(word, word)] = int(number)
    return counts


def run(project: Path, *args: str, **kw) -> tuple[Finished, list]:
    events: list = []
    request = RunRequest(
        project, sys.executable, ("-p", "no:cacheprovider", *args), extra_env=FAST_ENV, **kw
    )
    finished = TestRun(request, events.append).run()
    return finished, events


def test_counts_match_pytest_summary(project: Path) -> None:
    expected = pytest_summary_counts(project)
    finished, events = run(project)
    counted = {k: v for k, v in finished.counts.items() if v}
    expected.pop("deselected", None)
    assert counted == expected
    assert finished.exit_code == 1
    assert finished.explanation == "some tests failed"
    assert events[-1] is finished
    collected = [e.nodeid for e in events if isinstance(e, Collected)]
    assert "tests/test_basic.py::TestGroup::test_small[2]" in collected
    assert CollectionFinished(len(collected)) in events


def test_outcomes_and_details(project: Path) -> None:
    _, events = run(project, "tests/test_basic.py")
    by_id = {e.nodeid.split("::", 1)[1]: e for e in events if isinstance(e, TestResult)}
    assert by_id["test_passes"].outcome == "passed"
    assert by_id["test_fails"].outcome == "failed"
    assert "assert [1, 2] == [1, 3]" in by_id["test_fails"].longrepr
    assert by_id["test_fails"].stdout.strip() == "some output before failing"
    assert by_id["test_fails"].stderr.strip() == "and on stderr"
    assert by_id["test_errors"].outcome == "error"
    assert by_id["test_errors"].when == "setup"
    assert "fixture setup broke" in by_id["test_errors"].message
    assert by_id["test_skipped"].outcome == "skipped"
    assert by_id["test_skipped"].message.endswith("not today")
    assert by_id["test_xfail"].outcome == "xfailed"
    assert by_id["test_xpass"].outcome == "xpassed"
    assert by_id["TestGroup::test_small[3]"].outcome == "failed"
    assert by_id["TestGroup::test_small[1]"].outcome == "passed"


def test_selected_nodeids_only(project: Path) -> None:
    finished, _ = run(project, "tests/test_basic.py::test_passes")
    assert finished.exit_code == 0
    assert summary_text(finished.counts, 3.21) == "1 passed in 3.2s"


def test_captured_output_and_log_are_capped(project: Path) -> None:
    _, events = run(project, "tests/test_noisy.py", capture_cap=1000)
    (result,) = [e for e in events if isinstance(e, TestResult)]
    # Passing tests carry no capture; a failing one with the same print is capped.
    assert len(result.stdout) <= 1100
    finished, _ = run(project, "-s", "tests/test_noisy.py")
    assert 60_000 < len(finished.log_tail) < 70_000
    assert "bytes of output cut" in finished.log_tail


@pytest.mark.slow
def test_run_timeout_interrupts_a_hanging_test(project: Path) -> None:
    finished, _ = run(project, "-m", "hang", "tests/test_hang.py", run_timeout=2.0)
    assert finished.reason == "timed out after 2 s"
    assert finished.explanation == "timed out after 2 s"
    assert finished.exit_code != 0


def test_kill_after_grace_when_sigint_is_ignored(project: Path) -> None:
    # SIGINT is ignored from collection on, so only the SIGKILL after the grace ends it.
    (project / "tests" / "test_stubborn.py").write_text(
        "import signal, time\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "def test_stubborn():\n"
        "    while True:\n"
        "        time.sleep(0.05)\n"
    )
    request = RunRequest(project, sys.executable, ("tests/test_stubborn.py",), extra_env=FAST_ENV)
    test_run = TestRun(
        request,
        lambda e: test_run.cancel() if isinstance(e, CollectionFinished) else None,
        grace_s=0.5,
    )
    finished = test_run.run()
    assert finished.exit_code == -9
    assert explain_exit_code(finished.exit_code) == "killed by signal 9"
    assert finished.reason == "cancelled"


def test_cancel_from_another_thread(project: Path) -> None:
    started = threading.Event()
    request = RunRequest(
        project, sys.executable, ("-m", "hang", "tests/test_hang.py"), extra_env=FAST_ENV
    )
    test_run = TestRun(
        request, lambda e: started.set() if isinstance(e, CollectionFinished) else None
    )
    box: list[Finished] = []
    worker = threading.Thread(target=lambda: box.append(test_run.run()))
    worker.start()
    assert started.wait(30)
    test_run.cancel()
    worker.join(30)
    assert box[0].reason == "cancelled"
    assert box[0].explanation == "cancelled"
    assert box[0].exit_code == 2


def test_collection_error_is_reported(project: Path) -> None:
    (project / "tests" / "test_broken.py").write_text("def oops(:\n")
    finished, events = run(project, "tests/test_broken.py")
    (error,) = [e for e in events if isinstance(e, TestResult)]
    assert error.when == "collect"
    assert error.outcome == "error"
    assert "SyntaxError" in error.longrepr
    assert finished.exit_code == 2
    assert finished.counts["error"] == 1


def test_collect_only_lists_tests(project: Path) -> None:
    finished, events = run(project, collect_only=True)
    assert finished.exit_code == 0
    assert not any(isinstance(e, TestResult) for e in events)
    assert len([e for e in events if isinstance(e, Collected)]) == 10


def test_missing_project_and_missing_pytest(tmp_path: Path) -> None:
    with pytest.raises(SetupError, match="does not exist"):
        TestRun(RunRequest(tmp_path / "nope", sys.executable)).run()
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True
    )
    bare = tmp_path / "bare" / "bin" / "python"
    with pytest.raises(SetupError, match=f"pytest is not installed for {re.escape(str(bare))}"):
        TestRun(RunRequest(tmp_path, str(bare))).run()
    with pytest.raises(SetupError, match="not found"):
        TestRun(RunRequest(tmp_path, str(tmp_path / "no-python"))).run()


def test_environment_is_courteous_and_keeps_pythonpath(tmp_path: Path) -> None:
    request = RunRequest(tmp_path, sys.executable)
    env = build_env(request, tmp_path / "ev", {"PYTHONPATH": "/user/lib", "HOME": "/h"})
    assert env["CUDA_VISIBLE_DEVICES"] == ""
    assert env["PYTHONPATH"].endswith(":/user/lib")
    assert env["HOME"] == "/h"
    polite = build_env(RunRequest(tmp_path, sys.executable, courteous=False), tmp_path, {})
    assert "CUDA_VISIBLE_DEVICES" not in polite


def test_parse_event_rejects_malformed() -> None:
    assert parse_event({"event": "result", "nodeid": "a", "outcome": "weird"}) is None
    assert parse_event({"event": "finished"}) is None
    assert parse_event({"event": "nope"}) is None
    counts = {"failed": 2, "subtests passed": 3}
    done = parse_event({"event": "finished", "exit_code": 1, "counts": counts})
    assert isinstance(done, Finished)
    # Categories are pytest's own summary words, a plugin's included.
    assert done.counts["failed"] == 2
    assert done.counts["subtests passed"] == 3
    bad = {"event": "finished", "exit_code": 1, "counts": {"failed": "many"}}
    assert parse_event(bad) is None
