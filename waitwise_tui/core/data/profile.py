"""Dataset profiling (pandas), the profile's JSON form and saved profiles.

Profiling avoids Python loops over rows:
each column is hashed once (``value_counts``) and duplicate rows are found by hashing rows.

Alert thresholds, chosen in the spirit of ydata-profiling's defaults:

- ``missing``: more than 1 % nulls; ``all_missing``: every value is null.
- ``constant``: one distinct non-null value; ``unique``: every value distinct (id-like).
- ``high_cardinality``: a non-numeric column with more than 50 distinct values that is not
  all-unique (ydata's ``cardinality_threshold`` is 50 too).
- ``skewed``: |skew| > 20 (ydata's ``skewness_threshold``).
- ``high_correlation``: |Pearson r| > 0.9 between two numeric columns (on a sample of
  100k rows and the first 100 numeric columns, to bound the cost).
- ``imbalance``: a column with 2..50 classes whose normalised entropy is below 0.5
  (ydata's ``imbalance_threshold`` of 0.5 on 1 - entropy / log(k)).
- ``infinite``: any +/-inf; ``zeros``: more than 10 % zeros in a numeric column.
- ``duplicates``: any duplicate rows (dataset level, column ``None``).
- ``missing_tokens``: cells such as ``?`` or ``NA`` read as missing (see ``infer``);
  ``parse_failures``: cells of a mostly numeric column that are no number (now null);
  ``ambiguous_dates``: dates that read as both dd/mm and mm/dd.
- A datetime column is never ``unique`` (id-like): distinct timestamps are what a time
  series has.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from waitwise_tui.core.atomic import atomic_write_text

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from waitwise_tui.core.data.infer import ColumnInference
    from waitwise_tui.core.workspace import Workspace


CATEGORY_LIMIT = 50
# Numeric columns with at most this many distinct values are offered as classes (balance).
CATEGORY_SMALL = 20
MISSING_THRESHOLD = 0.01
SKEW_THRESHOLD = 20.0
CORRELATION_THRESHOLD = 0.9
IMBALANCE_THRESHOLD = 0.5
ZEROS_THRESHOLD = 0.10
CORRELATION_SAMPLE = 100_000
CORRELATION_MAX_COLUMNS = 100


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    dtype: str
    kind: str  # "numeric", "bool", "datetime", "text"
    non_null: int
    nulls: int
    null_fraction: float | None
    unique: int
    min: Any
    max: Any
    mean: float | None
    std: float | None
    top: Any
    top_count: int
    skew: float | None
    zeros: int
    infinite: int
    categories: tuple[Any, ...] | None  # every distinct value when unique <= CATEGORY_LIMIT
    # 1 - normalised entropy of the classes (0 = balanced) for non-numeric columns with
    # 2..CATEGORY_LIMIT classes; None elsewhere.
    imbalance: float | None
    # What the loader read into this column (``infer``): tokens read as missing (token ->
    # cells), cells that were no value of the type (now null), and how values were written.
    missing_tokens: dict[str, int] = field(default_factory=dict)
    parse_failures: int = 0
    failure_examples: tuple[str, ...] = ()
    note: str | None = None
    ambiguous: str | None = None

    @property
    def inferred_type(self) -> str:
        return self.kind

    @property
    def categorical(self) -> bool:
        """Text/bool columns, and numbers with few distinct values (labels, counts)."""
        if self.kind in ("text", "bool"):
            return True
        return self.kind == "numeric" and 2 <= self.unique <= CATEGORY_SMALL

    def reading(self) -> str | None:
        """One line on how the loader read this column, e.g. "6 values '?' read as missing"."""
        parts = []
        if self.missing_tokens:
            shown = ", ".join(
                f"{count} × {token!r}" for token, count in list(self.missing_tokens.items())[:4]
            )
            parts.append(f"read as missing: {shown}")
        if self.parse_failures:
            examples = ", ".join(repr(e) for e in self.failure_examples[:3])
            parts.append(f"{self.parse_failures} values not {self.kind} ({examples})")
        if self.note:
            parts.append(self.note)
        if self.ambiguous:
            parts.append(f"ambiguous: {self.ambiguous} fits too")
        return "; ".join(parts) or None


@dataclass(frozen=True)
class Alert:
    kind: str
    column: str | None
    message: str


@dataclass(frozen=True)
class Profile:
    path: str
    format: str
    n_rows: int  # rows in the dataset (not in the sample)
    n_columns: int
    sampled: bool
    sample_rows: int  # rows the statistics were computed from
    duplicate_rows: int
    memory_bytes: int
    columns: tuple[ColumnProfile, ...]
    alerts: tuple[Alert, ...]
    file_bytes: int | None = None  # the file on disk (memory_bytes: the frame in memory)

    @property
    def key_candidates(self) -> list[str]:
        """Columns whose values are all present and all distinct."""
        return [
            c.name
            for c in self.columns
            if c.nulls == 0 and self.sample_rows > 0 and c.unique == self.sample_rows
        ]

    def column(self, name: str) -> ColumnProfile:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


# --------------------------------------------------------------------------- profiling


def column_kind(series: pd.Series) -> str:
    import pandas as pd

    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_numeric_dtype(series):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    return "text"


def profile_frame(
    frame: pd.DataFrame,
    *,
    path: str = "",
    format: str = "",
    sample_rows: int | None = None,
    seed: int = 0,
    inference: Mapping[str, ColumnInference] | None = None,
    file_bytes: int | None = None,
) -> Profile:
    """Profile ``frame``; with ``sample_rows`` and more rows than that, from a random sample.

    ``inference`` (``Loaded.inference``) adds what the loader read into each column; its
    counts are over every row, also when the statistics come from a sample.
    """
    import numpy as np
    import pandas as pd

    total = len(frame)
    sampled = sample_rows is not None and total > sample_rows
    data = frame.sample(n=sample_rows, random_state=seed) if sampled else frame
    n = len(data)
    # Columns are profiled in parallel threads: the heavy numpy calls (sorting in
    # np.unique, reductions) release the GIL, so cores add up.
    workers = max(1, min(data.shape[1], os.cpu_count() or 1, 8))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        duplicates_future = pool.submit(_duplicate_count, data)
        columns = tuple(
            pool.map(
                lambda i: _profile_column(str(data.columns[i]), data.iloc[:, i], n),
                range(data.shape[1]),
            )
        )
        duplicates = duplicates_future.result()
    if inference:
        columns = tuple(_with_inference(c, inference.get(c.name)) for c in columns)
    try:
        memory = int(frame.memory_usage(deep=True).sum())
    except (TypeError, ValueError):
        memory = int(frame.memory_usage(deep=False).sum())
    # Pairwise correlation costs rows x columns²: wide frames are checked on their first
    # CORRELATION_MAX_COLUMNS numeric columns.
    numeric = [c.name for c in columns if c.kind == "numeric" and c.unique > 1]
    numeric = numeric[:CORRELATION_MAX_COLUMNS]
    correlations: list[tuple[str, str, float]] = []
    if len(numeric) >= 2 and n >= 3:
        corr_data = data[numeric]
        if n > CORRELATION_SAMPLE:
            corr_data = corr_data.sample(n=CORRELATION_SAMPLE, random_state=seed)
        values = corr_data.to_numpy(dtype="float64", na_value=np.nan)
        values = np.where(np.isfinite(values), values, np.nan)  # never write into a view
        matrix = pd.DataFrame(values, columns=numeric).corr().to_numpy()
        for i in range(len(numeric)):
            for j in range(i + 1, len(numeric)):
                r = matrix[i, j]
                if np.isfinite(r) and abs(r) > CORRELATION_THRESHOLD:
                    correlations.append((numeric[i], numeric[j], float(r)))
    alerts = _alerts(columns, n, duplicates, correlations)
    return Profile(
        path=path,
        format=format,
        n_rows=total,
        n_columns=frame.shape[1],
        sampled=sampled,
        sample_rows=n,
        duplicate_rows=duplicates,
        memory_bytes=memory,
        columns=columns,
        alerts=tuple(alerts),
        file_bytes=file_bytes,
    )


def _with_inference(col: ColumnProfile, found: ColumnInference | None) -> ColumnProfile:
    if found is None:
        return col
    return replace(
        col,
        missing_tokens=dict(found.missing_tokens),
        parse_failures=found.parse_failures,
        failure_examples=found.failure_examples,
        note=found.note,
        ambiguous=found.ambiguous,
    )


def _duplicate_count(data: pd.DataFrame) -> int:
    """Rows equal to an earlier row, found by hashing rows (far cheaper than duplicated())."""
    import pandas as pd

    if not len(data) or not data.shape[1]:
        return 0
    try:
        hashes = pd.util.hash_pandas_object(data, index=False)
    except TypeError:
        # Unhashable cells (lists/dicts from JSON lines): compare their text form.
        return int(data.astype(str).duplicated().sum())
    return int(len(data) - hashes.nunique())


def _profile_column(name: str, series: pd.Series, n: int) -> ColumnProfile:
    import numpy as np
    import pandas as pd

    kind = column_kind(series)
    values, counts = _distinct_counts(series, kind)
    non_null = int(counts.sum())
    nulls = n - non_null
    unique = len(counts)
    top_at = int(counts.argmax()) if unique else 0
    top = values[top_at] if unique else None
    top_count = int(counts[top_at]) if unique else 0
    categories = None
    if unique <= CATEGORY_LIMIT:
        plain = [plain_value(v) for v in values]
        try:
            categories = tuple(sorted(plain))
        except TypeError:
            categories = tuple(plain)  # mixed types: keep the counting order
    minimum = maximum = mean = std = skew = None
    zeros = infinite = 0
    if kind == "numeric" and non_null:
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        finite_mask = np.isfinite(values)
        finite_count = int(finite_mask.sum())
        # NaN are the nulls; whatever else is not finite is +/-inf.
        infinite = values.size - finite_count - nulls
        finite = values if finite_count == values.size else values[finite_mask]
        if finite.size:
            zeros = int(np.count_nonzero(finite == 0))
            minimum, maximum = float(finite.min()), float(finite.max())
            if pd.api.types.is_integer_dtype(series):
                minimum, maximum = int(minimum), int(maximum)
            with np.errstate(all="ignore"):  # huge values overflow to inf: no moments then
                mean = float(finite.mean())
                centred = finite - mean
                squared = centred * centred  # products, not **: pow is far slower
                sum_squares = float(squared.sum())
                std = math.sqrt(sum_squares / (finite.size - 1)) if finite.size > 1 else None
                m3 = float((squared * centred).mean()) if finite.size > 2 else math.nan
            m2 = sum_squares / finite.size
            if std is not None and not math.isfinite(std):
                std = None
            if finite.size > 2 and std:
                try:
                    denominator = m2**1.5
                except OverflowError:
                    denominator = math.inf
                # A constant column has no skew (its m2 is rounding noise); tiny m2 underflows,
                # huge values overflow: no skew either way.
                if unique > 1 and 0 < denominator < math.inf and math.isfinite(m3):
                    count = finite.size
                    # Sample skewness with pandas' bias correction, so it matches Series.skew().
                    g1 = m3 / denominator
                    skew = g1 * math.sqrt(count * (count - 1)) / (count - 2)
    elif kind == "datetime" and non_null:
        minimum, maximum = series.min(), series.max()
    balance = None
    if kind in ("text", "bool") and 2 <= unique <= CATEGORY_LIMIT:
        shares = counts.astype("float64") / non_null
        entropy = float(-(shares * np.log(shares)).sum())
        balance = 1.0 - entropy / math.log(unique)
    return ColumnProfile(
        name=name,
        dtype=str(series.dtype),
        kind=kind,
        non_null=non_null,
        nulls=nulls,
        null_fraction=(nulls / n) if n else None,
        unique=unique,
        min=minimum,
        max=maximum,
        mean=mean,
        std=std,
        top=top,
        top_count=top_count,
        skew=skew,
        zeros=zeros,
        infinite=infinite,
        categories=categories,
        imbalance=balance,
    )


def _distinct_counts(series: pd.Series, kind: str) -> tuple[Any, np.ndarray]:
    """Distinct non-null values and how often each occurs.

    Numeric columns are counted with numpy (a bincount for small integer ranges, else the
    sort in ``np.unique``), which releases the GIL: columns profile in parallel threads and
    a UI thread keeps drawing meanwhile. pandas' hashing would hold the GIL throughout.
    """
    import numpy as np

    if kind == "numeric":
        raw = series.to_numpy()
        if raw.dtype.kind in "iu" and raw.size:
            low, high = int(raw.min()), int(raw.max())
            if high - low <= 4 * raw.size:
                # Small integer ranges (labels, counts, ids): one counting pass, no sort.
                tally = np.bincount((raw - low).astype(np.intp, copy=False))
                present = np.flatnonzero(tally)
                return present + low, tally[present]
        if raw.dtype.kind in "iuf":
            if raw.dtype.kind == "f":
                raw = raw[~np.isnan(raw)]
            return np.unique(raw, return_counts=True)
    try:
        counted = series.value_counts(dropna=True, sort=False)
    except TypeError:
        # Unhashable cells (lists, dicts): count their text form instead.
        counted = series.dropna().astype(str).value_counts(sort=False)
    return counted.index, counted.to_numpy()


def _alerts(
    columns: tuple[ColumnProfile, ...],
    n: int,
    duplicates: int,
    correlations: list[tuple[str, str, float]],
) -> list[Alert]:
    alerts: list[Alert] = []
    if duplicates:
        alerts.append(Alert("duplicates", None, f"{duplicates} duplicate rows"))
    for col in columns:
        if n and col.non_null == 0:
            alerts.append(Alert("all_missing", col.name, f"{col.name} is entirely null"))
            continue
        if col.null_fraction is not None and col.null_fraction > MISSING_THRESHOLD:
            alerts.append(
                Alert("missing", col.name, f"{col.name} has {col.null_fraction:.1%} missing")
            )
        if col.unique == 1:
            alerts.append(Alert("constant", col.name, f"{col.name} has one value only"))
        elif n > 1 and col.nulls == 0 and col.unique == n and col.kind != "datetime":
            alerts.append(Alert("unique", col.name, f"{col.name} is all-unique (id-like)"))
        elif col.kind == "text" and col.unique > CATEGORY_LIMIT:
            alerts.append(
                Alert("high_cardinality", col.name, f"{col.name} has {col.unique} distinct values")
            )
        if col.skew is not None and abs(col.skew) > SKEW_THRESHOLD:
            alerts.append(Alert("skewed", col.name, f"{col.name} is skewed ({col.skew:.1f})"))
        if col.infinite:
            alerts.append(
                Alert("infinite", col.name, f"{col.name} has {col.infinite} infinite values")
            )
        if col.kind == "numeric" and col.non_null and col.zeros / col.non_null > ZEROS_THRESHOLD:
            alerts.append(
                Alert("zeros", col.name, f"{col.name} is {col.zeros / col.non_null:.0%} zeros")
            )
        if col.imbalance is not None and col.imbalance > IMBALANCE_THRESHOLD:
            alerts.append(
                Alert("imbalance", col.name, f"{col.name} is imbalanced ({col.imbalance:.2f})")
            )
        if col.missing_tokens:
            total = sum(col.missing_tokens.values())
            tokens = ", ".join(f"{t!r}" for t in list(col.missing_tokens)[:4])
            alerts.append(
                Alert(
                    "missing_tokens",
                    col.name,
                    f"{col.name}: {col.kind}, {total} values {tokens} treated as missing",
                )
            )
        if col.parse_failures:
            examples = ", ".join(repr(e) for e in col.failure_examples[:3])
            alerts.append(
                Alert(
                    "parse_failures",
                    col.name,
                    f"{col.name}: {col.parse_failures} values are not {col.kind}"
                    f" ({examples}); read as missing",
                )
            )
        if col.ambiguous:
            alerts.append(
                Alert(
                    "ambiguous_dates",
                    col.name,
                    f"{col.name}: {col.note}, but {col.ambiguous} fits too",
                )
            )
    for left, right, r in correlations:
        alerts.append(
            Alert("high_correlation", left, f"{left} and {right} are correlated (r={r:.2f})")
        )
    return alerts


# --------------------------------------------------------------------------- JSON


def plain_value(value: Any) -> Any:
    """A JSON-safe plain Python value: no NaN/inf, no numpy types, datetimes as ISO text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    try:
        import numpy as np
        import pandas as pd
    except ImportError:  # pragma: no cover - both are dependencies
        return str(value)
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return str(value)
    if isinstance(value, np.generic):
        return plain_value(value.item())
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def profile_to_dict(profile: Profile) -> dict[str, Any]:
    """The ``data --json`` schema (see the module docstring of ``commands/data``)."""
    return {
        "path": profile.path,
        "format": profile.format,
        "n_rows": profile.n_rows,
        "n_columns": profile.n_columns,
        "sampled": profile.sampled,
        "duplicate_rows": profile.duplicate_rows,
        "memory_bytes": profile.memory_bytes,
        "file_bytes": profile.file_bytes,
        "columns": [
            {
                "name": c.name,
                "dtype": c.dtype,
                "inferred_type": c.inferred_type,
                "missing_tokens": dict(c.missing_tokens),
                "parse_failures": {
                    "count": c.parse_failures,
                    "examples": list(c.failure_examples),
                },
                "reading": c.reading(),
                "nulls": c.nulls,
                "null_fraction": plain_value(c.null_fraction),
                "unique": c.unique,
                "min": plain_value(c.min),
                "max": plain_value(c.max),
                "mean": plain_value(c.mean),
                "std": plain_value(c.std),
                "top": plain_value(c.top),
            }
            for c in profile.columns
        ],
        "alerts": [
            {"kind": a.kind, "column": a.column, "message": a.message} for a in profile.alerts
        ],
    }


def saved_profile_dict(profile: Profile, *, created: _dt.datetime | None = None) -> dict[str, Any]:
    """The saved form: the JSON schema plus "created", per-column "categories", "key_candidates"."""
    data = profile_to_dict(profile)
    stamp = created or _dt.datetime.now(_dt.timezone.utc)
    data["created"] = stamp.isoformat(timespec="seconds")
    for entry, col in zip(data["columns"], profile.columns, strict=True):
        entry["categories"] = list(col.categories) if col.categories is not None else None
    data["key_candidates"] = profile.key_candidates
    return data


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def profile_stem(path: str) -> str:
    """``train.csv.gz`` -> ``train``; unsafe characters become ``_``."""
    name = Path(path).name
    for suffix in (".gz",):
        name = name.removesuffix(suffix)
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return re.sub(r"[^A-Za-z0-9._-]", "_", stem) or "data"


def save_profile(workspace: Workspace, profile: Profile) -> Path:
    """Write ``.waitwise/profiles/<stem>.json`` atomically; returns the path."""
    target = workspace.profiles_dir / f"{profile_stem(profile.path)}.json"
    workspace.ensure()
    atomic_write_text(target, dumps(saved_profile_dict(profile)))
    return target
