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
