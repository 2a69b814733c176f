"""``waitwise-tui test`` and ``waitwise-tui test generate`` from the command line."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from waitwise_tui.cli import main

FIXTURE = Path(__file__).parents[2] / "fixtures" / "sample_project"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "sample"
    shutil.copytree(FIXTURE, target)
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    return target


def test_json_events(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["test", "--project", str(project), "--json", "--", "tests/test_basic.py"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1
    assert lines[0] == {"event": "collected", "nodeid": "tests/test_basic.py::test_passes"}
    results = {e["nodeid"]: e for e in lines if e["event"] == "result"}
    assert results["tests/test_basic.py::test_xpass"]["outcome"] == "xpassed"
    failed = results["tests/test_basic.py::test_fails"]
    assert failed["location"] == "tests/test_basic.py:13"
    assert failed["category"] == "failed"
    assert failed["subtest"] == ""
    # pytest's --tb=short traceback: the test's line and the assertion.
    assert "tests/test_basic.py:13: in test_fails" in failed["longrepr"]
    assert "E   assert [1, 2] == [1, 3]" in failed["longrepr"]
    last = lines[-1]
    assert last["event"] == "finished"
    assert last["exit_code"] == 1
    assert last["counts"] == {
        "passed": 3,
        "failed": 2,
        "skipped": 1,
        "error": 1,
        "xfailed": 1,
        "xpassed": 1,
    }
    assert last["python"] == sys.executable
    assert last["python_source"] == "waitwise's own Python"


def test_readable_output(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["test", "--project", str(project), "--", "tests/test_basic.py::test_fails"])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAILED: tests/test_basic.py::test_fails: assert [1, 2] == [1, 3]" in out
    assert "  at tests/test_basic.py:13\n" in out
    assert "  E   assert [1, 2] == [1, 3]" in out
    assert "  -- captured stdout (last 1 lines) --\n  some output before failing" in out
    assert "  and on stderr" in out
    assert "exit code 1 (some tests failed)" in out


def test_usage_error_carries_pytests_reason(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["test", "--project", str(project), "--json", "--", "--bogus-option"])
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert code == 4
    assert last["problem"] == "unrecognized arguments: --bogus-option"
    assert last["message"] == "usage error: unrecognized arguments: --bogus-option"


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", "--project", str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err.strip().endswith("does not exist")
    assert main(["test", "generate", str(tmp_path / "p.json"), "--project", str(tmp_path)]) == 2
    assert "not found" in capsys.readouterr().err


def test_generate_requires_force_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "d.csv").write_text("a\n1\n")
    profile = {"path": "d.csv", "duplicate_rows": 0, "columns": [{"name": "a", "min": 1, "max": 1}]}
    (tmp_path / "p.json").write_text(json.dumps(profile))
    argv = ["test", "-w", str(tmp_path), "generate", str(tmp_path / "p.json")]
    assert main(argv) == 0
    assert "wrote" in capsys.readouterr().out
    profile["columns"][0]["max"] = 5
    (tmp_path / "p.json").write_text(json.dumps(profile))
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "+      5" in captured.out
    assert "--force" in captured.err
    expectations = tmp_path / "tests" / "test_data_quality_expectations.json"
    assert json.loads(expectations.read_text())["ranges"]["a"] == [1, 1]
    assert main([*argv, "--force"]) == 0
    assert json.loads(expectations.read_text())["ranges"]["a"] == [1, 5]
