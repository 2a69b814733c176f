"""The runner's verdicts against pytest's own, on one small fixture project per case.

Each case runs plain ``pytest`` and the runner with the same arguments on a copy of a
project under ``tests/fixtures/verdicts/`` and compares the runner's counts and exit
code with pytest's terminal summary line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from waitwise_tui.core.testing.runner import (
    Collected,
    Finished,
    RunRequest,
    TestResult,
    TestRun,
    pytest_problem,
    pytest_targets,
)

VERDICTS = Path(__file__).parents[2] / "fixtures" / "verdicts"
FAST_ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
# Words of pytest's summary that are not results.
NOT_RESULTS = {"deselected", "warning", "warnings"}


def copy_case(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(VERDICTS / name, target)
    return target


def pytest_verdict(project: Path, *args: str) -> tuple[dict[str, int], int]:
    """Counts from the summary line of a plain ``pytest`` run, and its exit code."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **FAST_ENV},
        timeout=120,
    )
    last = proc.stdout.strip().splitlines()[-1].strip("= ")
    last = re.sub(r" in [\d.]+s.*$", "", last)
    counts = {}
    for part in last.split(", "):
        number, _, word = part.partition(" ")
        word = {"errors": "error"}.get(word, word)
        if number.isdigit() and word not in NOT_RESULTS:
            counts[word] = int(number)
    return counts, proc.returncode


def run(project: Path, *args: str, select: tuple[str, ...] = ()) -> tuple[Finished, list]:
    events: list = []
    request = RunRequest(project, sys.executable, args, extra_env=FAST_ENV, select=select)
    finished = TestRun(request, events.append).run()
    return finished, events


def assert_same_verdict(project: Path, *args: str) -> tuple[Finished, list]:
    expected, code = pytest_verdict(project, *args)
    finished, events = run(project, *args)
    assert {k: v for k, v in finished.counts.items() if v} == expected
    assert finished.exit_code == code
    return finished, events


def results(events: list) -> list[TestResult]:
    return [e for e in events if isinstance(e, TestResult)]


@pytest.mark.slow
def test_subtests_are_counted_as_pytest_counts_them(tmp_path: Path) -> None:
    project = copy_case(tmp_path, "subtests")
    _finished, events = assert_same_verdict(project, "-p", "no:cacheprovider", "-v")
    subs = [r for r in results(events) if r.subtest]
    failing = [r for r in subs if r.outcome == "failed"]
    assert [r.subtest for r in failing] == ["[check] (i=1)"]
    assert failing[0].nodeid == "test_subtests.py::test_one_fails"
    assert failing[0].location == "test_subtests.py:13"
    assert "assert 1 != 1" in failing[0].longrepr
    # Progress counts tests, not subtests: one own report per collected test.
    collected = [e.nodeid for e in events if isinstance(e, Collected)]
    own = [r.nodeid for r in results(events) if not r.subtest and r.when == "call"]
    assert sorted(own) == sorted(collected)


@pytest.mark.skipif(pytest.version_tuple < (9,), reason="pytest 9's built-in subtests")
def test_pytest9_subtests_at_default_verbosity(tmp_path: Path) -> None:
    project = copy_case(tmp_path, "subtests")
    # Without -v pytest 9 leaves passing subtests out of its counts; so must we.
    assert_same_verdict(project, "-p", "no:cacheprovider")


@pytest.mark.slow
def test_ids_with_double_colons_stay_whole_and_run_alone(tmp_path: Path) -> None:
    project = copy_case(tmp_path, "ids")
    assert_same_verdict(project, "-p", "no:cacheprovider")
    # pytest splits arguments on "::", so these ids go through the plugin's selection.
    wanted = ["test_ids.py::test_url[a[b]::c]", "test_ids.py::TestNested::test_x[one::two]"]
    args, select = pytest_targets(wanted)
    assert args == ("test_ids.py::test_url", "test_ids.py::TestNested::test_x")
    finished, events = run(project, "-p", "no:cacheprovider", *args, select=select)
    assert finished.exit_code == 0
    assert sorted(r.nodeid for r in results(events)) == sorted(wanted)


@pytest.mark.slow
def test_every_failing_phase_is_reported(tmp_path: Path) -> None:
    project = copy_case(tmp_path, "teardown")
    _finished, events = assert_same_verdict(project, "-p", "no:cacheprovider")
    phases = {(r.nodeid.split("::")[1], r.when): r for r in results(events)}
    call = phases["test_fails_then_teardown_fails", "call"]
    teardown = phases["test_fails_then_teardown_fails", "teardown"]
    assert (call.outcome, call.message) == ("failed", "AssertionError: the call failed")
    assert (teardown.outcome, teardown.message) == ("error", "RuntimeError: teardown broke")
    assert teardown.location == "test_teardown.py:7"


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("--continue-on-collection-errors",),
        ("--continue-on-collection-errors", "-k", "fast or fails"),
        ("--continue-on-collection-errors", "-m", "slow"),
        ("test_ok.py", "--lf"),
    ],
    ids=["stop", "continue", "-k", "-m", "--lf"],
)
@pytest.mark.slow
def test_collection_errors_and_selections(tmp_path: Path, args: tuple[str, ...]) -> None:
    project = copy_case(tmp_path, "collect_error")
    if "--lf" in args:
        # A first run records the failure --lf reruns.
        pytest_verdict(project, "test_ok.py")
    assert_same_verdict(project, *args)


@pytest.mark.slow
def test_xdist_reports_collection_and_same_counts(tmp_path: Path) -> None:
    project = copy_case(tmp_path, "teardown")
    args = ("-p", "no:cacheprovider", "-p", "xdist.plugin", "-n", "2")
    _finished, events = assert_same_verdict(project, *args)
    collected = [e.nodeid for e in events if isinstance(e, Collected)]
    assert len(collected) == 3


def test_usage_error_reason_is_pytests(tmp_path: Path) -> None:
    project = copy_case(tmp_path, "ids")
    finished, _events = run(project, "--no-such-option")
    assert finished.exit_code == 4
    assert finished.problem == "unrecognized arguments: --no-such-option"
    missing, _events = run(project, "no_such_file.py")
    assert missing.exit_code == 4
    assert missing.problem == "file or directory not found: no_such_file.py"


def test_pytest_problem_reads_internal_errors() -> None:
    log = "INTERNALERROR> Traceback\nINTERNALERROR>   File x\nINTERNALERROR> E   ValueError: bad\n"
    assert pytest_problem(log) == "ValueError: bad"
    assert pytest_problem("1 passed in 0.1s\n") == ""


# Node ids as pytest builds them: path, classes, function, then parameters in brackets
# that may hold anything, "::" and "[" included.
_NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
_PARAMS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@st.composite
def nodeids(draw) -> str:
    path = draw(st.from_regex(r"[a-z_]{1,6}(/[a-z_]{1,6}){0,2}\.py", fullmatch=True))
    names = draw(st.lists(_NAME, min_size=1, max_size=3))
    nodeid = "::".join([path, *names])
    if draw(st.booleans()):
        nodeid += f"[{draw(_PARAMS)}]"
    return nodeid


@pytest.mark.slow
@given(st.lists(nodeids(), min_size=1, max_size=5))
def test_targets_never_pass_a_split_id(ids: list[str]) -> None:
    args, select = pytest_targets(ids)
    for arg in args:
        assert "[" not in arg or "::" not in arg.partition("[")[2]
    # Every id is either an argument itself or selected under its function's argument.
    for nodeid in ids:
        assert nodeid in args or (nodeid in select and nodeid.partition("[")[0] in args)
