"""Data-quality tests written from a saved data profile.

From a profile (the JSON the data tab saves) this builds an expectations file and a
pytest module that checks a dataset against it: expected columns, nulls within a
tolerance, values that parse as the column's dtype family (integer, float, boolean,
datetime, string), numeric ranges, allowed categories, no duplicate rows, unique keys. The
module is parametrised per column and is self-contained (pandas + pytest only), so
it runs in the user's environment without waitwise. Regenerating computes a unified
diff first; nothing is overwritten unless the caller decides to.
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from waitwise_tui.core.atomic import atomic_write_text

DEFAULT_OUT = Path("tests") / "test_data_quality.py"
DATA_PATH_ENV = "WAITWISE_DATA_PATH"
DEFAULT_NULL_TOLERANCE = 0.01


class ProfileError(Exception):
    """The profile cannot be read or lacks what the tests need; the message says what."""


def load_profile(path: Path) -> dict[str, Any]:
    try:
        profile = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ProfileError(f"profile {path} not found") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProfileError(f"profile {path} is not readable JSON: {exc}") from exc
    if not isinstance(profile, dict) or not isinstance(profile.get("columns"), list):
        raise ProfileError(f"profile {path} has no 'columns' list")
    if not isinstance(profile.get("path"), str) or not profile["path"]:
        raise ProfileError(f"profile {path} does not name its dataset ('path')")
    for column in profile["columns"]:
        if not isinstance(column, dict) or not isinstance(column.get("name"), str):
            raise ProfileError(f"profile {path} has a column without a name")
    return profile


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


FAMILIES = ("integer", "float", "boolean", "datetime", "string")
_KIND_FAMILY = {"numeric": "float", "bool": "boolean", "datetime": "datetime", "text": "string"}


def dtype_family(column: dict[str, Any]) -> str:
    """The column's dtype family, from the profile's pandas dtype (else its kind)."""
    dtype = str(column.get("dtype") or "").lower()
    if dtype.startswith(("int", "uint")):
        return "integer"
    if dtype.startswith("float"):
        return "float"
    if dtype in ("bool", "boolean"):
        return "boolean"
    if dtype.startswith("datetime"):
        return "datetime"
    return _KIND_FAMILY.get(str(column.get("kind") or ""), "string")


def _plain(value: Any) -> str:
    """A category value as text, the way the generated test compares them (1.0 == 1)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _relative(path: Path, start: Path) -> str:
    """``path`` relative to ``start`` with forward slashes, or absolute when unrelated."""
    try:
        return Path(os.path.relpath(path, start)).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()


def build_expectations(
    profile: dict[str, Any],
    project_root: Path,
    out_dir: Path,
    *,
    null_tolerance: float = DEFAULT_NULL_TOLERANCE,
) -> dict[str, Any]:
    """What the generated tests check, derived from ``profile``."""
    dataset = Path(profile["path"])
    if not dataset.is_absolute():
        dataset = project_root / dataset
    dataset = dataset.resolve()
    root = project_root.resolve()
    inside = dataset.is_relative_to(root)
    columns = profile["columns"]
    max_nulls = {}
    ranges = {}
    categories = {}
    dtypes = {}
    for column in columns:
        name = column["name"]
        dtypes[name] = dtype_family(column)
        fraction = _number(column.get("null_fraction")) or 0.0
        max_nulls[name] = round(min(1.0, fraction + null_tolerance), 6)
        low, high = _number(column.get("min")), _number(column.get("max"))
        if low is not None and high is not None:
            ranges[name] = [low, high]
        elif isinstance(column.get("categories"), list) and dtypes[name] in ("string", "boolean"):
            # Numeric columns are checked by range, datetimes by parsing; listing their
            # few observed values would reject every new value (and a datetime's text
            # differs from the file's: "2024-01-05 00:00:00" against "2024-01-05").
            values = [v.get("value") if isinstance(v, dict) else v for v in column["categories"]]
            categories[name] = sorted({_plain(v) for v in values if v is not None})
    keys = [k for k in profile.get("key_candidates") or [] if k in max_nulls]
    return {
        "version": 2,
        "dataset": _relative(dataset, root) if inside else dataset.as_posix(),
        # Where the project root is, seen from the expectations file.
        "project_root": _relative(root, out_dir.resolve()) if inside else None,
        "format": profile.get("format"),
        "columns": [c["name"] for c in columns],
        "dtypes": dtypes,
        "max_null_fraction": max_nulls,
        "ranges": ranges,
        "categories": categories,
        "no_duplicate_rows": profile.get("duplicate_rows") == 0,
        "unique_keys": keys,
    }


TEST_MODULE = '''"""Data-quality tests generated by waitwise-tui from a data profile.

Expectations live in {expectations_name} beside this file; regenerate with
`waitwise-tui test generate PROFILE.json`. Set ${env} to check another copy.
"""

import json
import os
from pathlib import Path

import pandas as pd
import pytest

EXPECT = json.loads(Path(__file__).with_name({expectations_name!r}).read_text(encoding="utf-8"))


def dataset_path():
    override = os.environ.get({env!r})
    if override:
        return Path(override)
    path = Path(EXPECT["dataset"])
    if EXPECT["project_root"] is not None:
        path = Path(__file__).parent / EXPECT["project_root"] / path
    return path


def read_dataset(path):
    name = path.name.lower()
    if name.endswith((".tsv", ".tsv.gz")):
        return pd.read_csv(path, sep="\\t")
    if name.endswith((".parquet", ".pq")):
        return pd.read_parquet(path)
    if name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        return pd.read_json(path, lines=True)
    if name.endswith(".feather"):
        return pd.read_feather(path)
    return pd.read_csv(path)


@pytest.fixture(scope="module")
def frame():
    return read_dataset(dataset_path())


def plain(value):
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


@pytest.mark.parametrize("column", EXPECT["columns"])
def test_column_present(frame, column):
    assert column in frame.columns


def test_no_unexpected_columns(frame):
    assert sorted(set(map(str, frame.columns)) - set(EXPECT["columns"])) == []


@pytest.mark.parametrize("column", sorted(EXPECT["max_null_fraction"]))
def test_nulls_within_tolerance(frame, column):
    if column not in frame.columns:
        pytest.skip("column missing")
    fraction = float(frame[column].isna().mean()) if len(frame) else 0.0
    assert fraction <= EXPECT["max_null_fraction"][column]


# Values of these families must parse as such; text columns take anything.
TYPED = sorted(c for c, family in EXPECT.get("dtypes", {{}}).items() if family != "string")
BOOLEAN_WORDS = {{"true", "false", "1", "0", "yes", "no"}}


def unparsed(series, family):
    """The values of ``series`` that are not of ``family`` (nulls are the null test's)."""
    values = series.dropna()
    if family in ("integer", "float"):
        numbers = pd.to_numeric(values, errors="coerce")
        bad = numbers.isna()
        if family == "integer":
            bad = bad | (numbers.notna() & (numbers % 1 != 0))
    elif family == "datetime":
        if pd.api.types.is_datetime64_any_dtype(values):
            return values.iloc[:0]
        # ISO 8601, as the data profiler judged the column a datetime.
        parsed = pd.to_datetime(values.astype(str), format="ISO8601", errors="coerce")
        bad = parsed.isna()
    elif family == "boolean":
        bad = ~values.map(lambda v: plain(v).lower() in BOOLEAN_WORDS).astype(bool)
    else:
        return values.iloc[:0]
    return values[bad.to_numpy()]


@pytest.mark.parametrize("column", TYPED)
def test_values_parse_as_dtype(frame, column):
    if column not in frame.columns:
        pytest.skip("column missing")
    family = EXPECT["dtypes"][column]
    bad = unparsed(frame[column], family)
    examples = [plain(v) for v in list(dict.fromkeys(bad.tolist()))[:5]]
    assert len(bad) == 0, f"column {{column}}: {{len(bad)}} values are not {{family}}: {{examples}}"


@pytest.mark.parametrize("column", sorted(EXPECT["ranges"]))
def test_numeric_range(frame, column):
    if column not in frame.columns:
        pytest.skip("column missing")
    low, high = EXPECT["ranges"][column]
    values = pd.to_numeric(frame[column], errors="coerce").dropna()
    assert values.between(low, high).all(), (values.min(), values.max())


@pytest.mark.parametrize("column", sorted(EXPECT["categories"]))
def test_allowed_categories(frame, column):
    if column not in frame.columns:
        pytest.skip("column missing")
    allowed = set(EXPECT["categories"][column])
    seen = {{plain(v) for v in frame[column].dropna().unique()}}
    assert sorted(seen - allowed) == []


@pytest.mark.skipif(not EXPECT["no_duplicate_rows"], reason="the profile had duplicate rows")
def test_no_duplicate_rows(frame):
    assert int(frame.duplicated().sum()) == 0


@pytest.mark.parametrize("column", EXPECT["unique_keys"])
def test_unique_key(frame, column):
    if column not in frame.columns:
        pytest.skip("column missing")
    assert frame[column].notna().all()
    assert frame[column].is_unique
'''


def render_test_module(expectations_name: str) -> str:
    return TEST_MODULE.format(expectations_name=expectations_name, env=DATA_PATH_ENV)


@dataclass(frozen=True)
class GenerationPlan:
    test_path: Path
    test_text: str
    expectations_path: Path
    expectations_text: str
    diff: str  # unified diff against the files already there ("" when none differ)
    overwrites: bool  # True when an existing file would change


def _diff(path: Path, new: str, label: str) -> tuple[str, bool]:
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return "", False
    if old == new:
        return "", False
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"{label} (current)",
        tofile=f"{label} (new)",
    )
    return "".join(lines), True


def plan_generation(
    profile_path: Path,
    project_root: Path,
    out: Path = DEFAULT_OUT,
    *,
    null_tolerance: float = DEFAULT_NULL_TOLERANCE,
) -> GenerationPlan:
    """Build both files' text and their diff against what is on disk; writes nothing."""
    profile = load_profile(profile_path)
    test_path = out if out.is_absolute() else project_root / out
    expectations_path = test_path.with_name(test_path.stem + "_expectations.json")
    expectations = build_expectations(
        profile, project_root, test_path.parent, null_tolerance=null_tolerance
    )
    expectations_text = json.dumps(expectations, indent=2, sort_keys=True) + "\n"
    test_text = render_test_module(expectations_path.name)
    diffs = [
        _diff(expectations_path, expectations_text, _relative(expectations_path, project_root)),
        _diff(test_path, test_text, _relative(test_path, project_root)),
    ]
    return GenerationPlan(
        test_path,
        test_text,
        expectations_path,
        expectations_text,
        "".join(text for text, _ in diffs),
        any(changed for _, changed in diffs),
    )


def write_plan(plan: GenerationPlan) -> None:
    atomic_write_text(plan.expectations_path, plan.expectations_text)
    atomic_write_text(plan.test_path, plan.test_text)
