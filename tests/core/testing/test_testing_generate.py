"""Generated data-quality tests pass on a clean dataset and fail on the right columns."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from waitwise_tui.core.testing.generate import (
    ProfileError,
    build_expectations,
    load_profile,
    plan_generation,
    write_plan,
)
from waitwise_tui.core.testing.runner import RunRequest, TestRun

CLEAN = "id,age,city,score\n1,25,paris,0.5\n2,40,lyon,\n3,61,paris,0.9\n4,33,nice,0.1\n"
CORRUPT = "id,age,city,score\n1,25,paris,0.5\n1,25,paris,0.5\n3,140,rome,\n4,33,nice,\n"


def column(name, dtype, *, nulls=0, unique=4, lo=None, hi=None, categories=None):
    entry = {
        "name": name,
        "dtype": dtype,
        "nulls": nulls,
        "null_fraction": nulls / 4,
        "unique": unique,
        "min": lo,
        "max": hi,
        "mean": None,
        "std": None,
        "top": None,
    }
    if categories is not None:
        entry["categories"] = categories
    return entry


PROFILE = {
    "path": "data/people.csv",
    "format": "csv",
    "n_rows": 4,
    "n_columns": 4,
    "sampled": False,
    "duplicate_rows": 0,
    "memory_bytes": 512,
    "columns": [
        column("id", "int64", lo=1, hi=4, categories=[1, 2, 3, 4]),
        column("age", "int64", lo=25, hi=61, categories=[25, 40, 61, 33]),
        column("city", "object", unique=3, categories=["paris", "lyon", "nice"]),
        column("score", "float64", nulls=1, unique=3, lo=0.1, hi=0.9, categories=[0.5, 0.9, 0.1]),
    ],
    "alerts": [],
    "key_candidates": ["id"],
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "data").mkdir(parents=True)
    (root / "data" / "people.csv").write_text(CLEAN)
    (root / "profile.json").write_text(json.dumps(PROFILE))
    return root


def run_generated(root: Path, **env: str) -> dict[str, str]:
    request = RunRequest(
        root,
        sys.executable,
        ("-p", "no:cacheprovider", "tests/test_data_quality.py"),
        extra_env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **env},
    )
    test_run = TestRun(request)
    test_run.run()
    return {r.nodeid.split("::")[1]: r.outcome for r in test_run.results if r.when == "call"}


def test_expectations_from_profile(project: Path) -> None:
    expect = build_expectations(PROFILE, project, project / "tests")
    assert expect["dataset"] == "data/people.csv"
    assert expect["project_root"] == ".."
    assert expect["ranges"] == {"id": [1, 4], "age": [25, 61], "score": [0.1, 0.9]}
    assert expect["categories"] == {"city": ["lyon", "nice", "paris"]}
    assert expect["max_null_fraction"]["score"] == pytest.approx(0.26)
    assert expect["max_null_fraction"]["id"] == pytest.approx(0.01)
    assert expect["unique_keys"] == ["id"]
    assert expect["no_duplicate_rows"] is True


@pytest.mark.slow
def test_generated_tests_pass_clean_and_fail_corrupt(project: Path, tmp_path: Path) -> None:
    plan = plan_generation(project / "profile.json", project)
    assert plan.diff == ""
    assert not plan.overwrites
    write_plan(plan)
    assert (project / "tests" / "test_data_quality_expectations.json").exists()

    clean = run_generated(project)
    assert clean["test_column_present[city]"] == "passed"
    assert set(clean.values()) == {"passed"}

    corrupt_path = tmp_path / "corrupt.csv"
    corrupt_path.write_text(CORRUPT)
    corrupt = run_generated(project, WAITWISE_DATA_PATH=str(corrupt_path))
    failed = sorted(name for name, outcome in corrupt.items() if outcome == "failed")
    assert failed == [
        "test_allowed_categories[city]",
        "test_no_duplicate_rows",
        "test_nulls_within_tolerance[score]",
        "test_numeric_range[age]",
        "test_unique_key[id]",
    ]


def test_regeneration_shows_a_diff(project: Path) -> None:
    write_plan(plan_generation(project / "profile.json", project))
    changed = dict(PROFILE, duplicate_rows=3)
    (project / "profile.json").write_text(json.dumps(changed))
    plan = plan_generation(project / "profile.json", project)
    assert plan.overwrites
    assert '-  "no_duplicate_rows": true,' in plan.diff
    assert '+  "no_duplicate_rows": false,' in plan.diff
    assert plan.diff.startswith("--- tests/test_data_quality_expectations.json (current)")


def test_bad_profiles(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="not found"):
        load_profile(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ProfileError, match="not readable JSON"):
        load_profile(bad)
    bad.write_text(json.dumps({"path": "x.csv"}))
    with pytest.raises(ProfileError, match="no 'columns'"):
        load_profile(bad)


@pytest.mark.slow
def test_end_to_end_with_the_data_profiler(project: Path, tmp_path: Path) -> None:
    data = pytest.importorskip("waitwise_tui.core.data.profile")
    load = pytest.importorskip("waitwise_tui.core.data.load")
    dataset = project / "data" / "people.csv"
    loaded = load.load_dataset(dataset)
    profile = data.profile_frame(loaded.frame, path=str(dataset), format=loaded.format)
    (project / "profile.json").write_text(data.dumps(data.saved_profile_dict(profile)))
    write_plan(plan_generation(project / "profile.json", project))
    assert set(run_generated(project).values()) == {"passed"}
    corrupt_path = tmp_path / "corrupt.csv"
    corrupt_path.write_text(CORRUPT)
    corrupt = run_generated(project, WAITWISE_DATA_PATH=str(corrupt_path))
    failed = {name for name, outcome in corrupt.items() if outcome == "failed"}
    assert {"test_numeric_range[age]", "test_allowed_categories[city]"} <= failed
    assert corrupt["test_column_present[id]"] == "passed"


def people_csv(rows: int = 12) -> str:
    lines = ["id,age,joined,city,score"]
    for i in range(1, rows + 1):
        lines.append(f"{i},{20 + i},2024-01-{i:02d},{['paris', 'lyon'][i % 2]},{i / 10}")
    return "\n".join(lines) + "\n"


def corrupt(text: str, column: str, change) -> str:
    """``text`` (a CSV) with ``change(row_index, value)`` applied to ``column``."""
    header, *rows = text.splitlines()
    names = header.split(",")
    at = names.index(column)
    out = [header]
    for index, row in enumerate(rows):
        cells = row.split(",")
        cells[at] = change(index, cells[at])
        out.append(",".join(cells))
    return "\n".join(out) + "\n"


def failures(root: Path, data: Path) -> dict[str, str]:
    """Failing generated tests of a run on ``data``, with their messages."""
    request = RunRequest(
        root,
        sys.executable,
        ("-p", "no:cacheprovider", "tests/test_data_quality.py"),
        extra_env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "WAITWISE_DATA_PATH": str(data)},
    )
    test_run = TestRun(request)
    test_run.run()
    return {
        r.nodeid.split("::")[1]: r.message
        for r in test_run.results
        if r.when == "call" and r.outcome == "failed"
    }


@pytest.mark.slow
def test_values_must_parse_as_the_profiled_dtype(tmp_path: Path) -> None:
    profile_mod = pytest.importorskip("waitwise_tui.core.data.profile")
    load = pytest.importorskip("waitwise_tui.core.data.load")
    root = tmp_path / "proj"
    (root / "data").mkdir(parents=True)
    clean = people_csv()
    dataset = root / "data" / "people.csv"
    dataset.write_text(clean)
    loaded = load.load_dataset(dataset)
    profile = profile_mod.profile_frame(loaded.frame, path=str(dataset), format=loaded.format)
    (root / "profile.json").write_text(profile_mod.dumps(profile_mod.saved_profile_dict(profile)))
    write_plan(plan_generation(root / "profile.json", root))
    expect = json.loads((root / "tests" / "test_data_quality_expectations.json").read_text())
    assert expect["dtypes"] == {
        "id": "integer",
        "age": "integer",
        "joined": "datetime",
        "city": "string",
        "score": "float",
    }
    assert failures(root, dataset) == {}

    cases = {
        # Text in 10 of the Age rows, then the whole column replaced by text.
        "some": corrupt(clean, "age", lambda i, v: "unknown" if i < 10 else v),
        "all": corrupt(clean, "age", lambda i, v: f"age {v}"),
        # Dates in another format (day/month/year) in two rows.
        "dates": corrupt(clean, "joined", lambda i, v: "05/01/2024" if i in (3, 4) else v),
        "renamed": clean.replace("score", "points", 1),
    }
    found = {}
    for name, text in cases.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(text)
        found[name] = failures(root, path)
    # (age was unique in the profile, so its key test fails too when text repeats.)
    assert set(found["some"]) - {"test_unique_key[age]"} == {"test_values_parse_as_dtype[age]"}
    assert (
        "column age: 10 values are not integer: ['unknown']"
        in found["some"]["test_values_parse_as_dtype[age]"]
    )
    assert (
        "column age: 12 values are not integer: ['age 21', 'age 22', 'age 23'"
        in (found["all"]["test_values_parse_as_dtype[age]"])
    )
    assert set(found["dates"]) - {"test_unique_key[joined]"} == {
        "test_values_parse_as_dtype[joined]"
    }
    assert (
        "2 values are not datetime: ['05/01/2024']"
        in found["dates"]["test_values_parse_as_dtype[joined]"]
    )
    assert set(found["renamed"]) == {"test_column_present[score]", "test_no_unexpected_columns"}
