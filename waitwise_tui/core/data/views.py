"""The numbers behind the data tab's plots and drill-downs, computed with numpy/pandas.

Every function here bounds its output by the plot's size (bins, top-k, a point budget),
never by the number of rows, and never raises on odd columns (all-null, inf, mixed):
an empty result means "nothing to draw".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

DRILL_ROWS = 200


@dataclass(frozen=True)
class Histogram:
    edges: list[float]  # len(counts) + 1
    counts: list[int]

    def bin_range(self, index: int) -> tuple[float, float, bool]:
        """(low, high, high_inclusive) of bin ``index``; the last bin includes its edge."""
        return self.edges[index], self.edges[index + 1], index == len(self.counts) - 1


@dataclass(frozen=True)
class Drill:
    """The first rows behind a number, and how many rows there are in all."""

    title: str
    count: int
    rows: pd.DataFrame


@dataclass(frozen=True)
class Projection:
    x: np.ndarray
    y: np.ndarray
    labels: list[str] | None  # target value per point, None without a target
    explained: tuple[float, float]  # share of variance of the two components
    columns: list[str]


@dataclass(frozen=True)
class ColumnDrift:
    name: str
    status: str  # "both", "only_a", "only_b"
    null_a: float | None
    null_b: float | None
    range_a: tuple[Any, Any] | None
    range_b: tuple[Any, Any] | None
    new_categories: list[Any]  # in b, not in a
    missing_categories: list[Any]  # in a, not in b
    score_kind: str | None  # "ks" (numeric) or "psi" (categorical)
    score: float | None


def finite_values(series: pd.Series) -> np.ndarray:
    import numpy as np

    values = series.to_numpy(dtype="float64", na_value=np.nan)
    return values[np.isfinite(values)]


def histogram(series: pd.Series, bins: int = 20) -> Histogram:
    """Counts of the finite values in ``bins`` equal-width bins (numpy, one pass)."""
    import numpy as np

    values = finite_values(series)
    if values.size == 0:
        return Histogram(edges=[], counts=[])
    low, high = float(values.min()), float(values.max())
    if low == high:
        low, high = low - 0.5, high + 0.5
    try:
        with np.errstate(all="ignore"):
            counts, edges = np.histogram(values, bins=max(1, bins), range=(low, high))
    except ValueError:
        # A range too narrow (or too wide) to split into finite bins: one bin holds all.
        return Histogram(edges=[low, high], counts=[int(values.size)])
    return Histogram(edges=[float(e) for e in edges], counts=[int(c) for c in counts])


def top_values(series: pd.Series, k: int = 10) -> tuple[list[tuple[str, int]], int]:
    """The ``k`` most frequent values (as text) with counts, and the count of all others."""
    try:
        counts = series.value_counts(dropna=True)
    except TypeError:
        counts = series.dropna().astype(str).value_counts()
    head = counts.head(k)
    other = int(counts.iloc[k:].sum()) if len(counts) > k else 0
    return [(str(value), int(count)) for value, count in head.items()], other


def time_counts(series: pd.Series, buckets: int = 20) -> tuple[list[str], list[int]]:
    """Counts over time in ``buckets`` equal spans; labels are each span's start."""
    import numpy as np
    import pandas as pd

    values = series.dropna()
    if values.empty:
        return [], []
    stamps = values.to_numpy(dtype="datetime64[ns]").astype("int64")
    low, high = int(stamps.min()), int(stamps.max())
    if low == high:
        return [str(pd.Timestamp(low))], [int(stamps.size)]
    counts, edges = np.histogram(stamps, bins=buckets, range=(low, high))
    span_days = (high - low) / 86_400e9
    fmt = "%Y-%m-%d %H:%M" if span_days < 2 else "%Y-%m-%d"
    labels = [pd.Timestamp(int(e)).strftime(fmt) for e in edges[:-1]]
    return labels, [int(c) for c in counts]


@dataclass(frozen=True)
class TimeSeries:
    """A value column over time, bucketed to the plot's width (min, mean, max per bucket)."""

    time_column: str
    value_column: str
    times: np.ndarray  # bucket start (or each distinct time), datetime64[ns]
    low: np.ndarray
    mean: np.ndarray
    high: np.ndarray
    rolling: np.ndarray | None  # rolling mean over ``window`` points, at each bucket
    window: int
    points: int  # rows with a time and a finite value
    frequency: str | None  # "monthly", "daily", "7 days"... when the spacing is regular
    step: Any  # the regular spacing (pd.Timedelta or months as an int), None when irregular
    gaps: int  # missing steps in a regular series
    duplicated: int  # rows whose timestamp an earlier row has too
    bucketed: bool  # True when several rows share a point (a bucket or a timestamp)


_SEASON = {"hourly": 24, "daily": 7, "weekly": 52, "monthly": 12, "quarterly": 4}


def datetime_columns(frame: pd.DataFrame) -> list[str]:
    import pandas as pd

    return [str(n) for n in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[n])]


def time_series(
    frame: pd.DataFrame, time_column: str, value_column: str, buckets: int = 60
) -> TimeSeries:
    """``value_column`` in time order, at most ``buckets`` points (min/max survive).

    Rows that share a timestamp are one point (their mean; min/max keep the spread), so
    the rolling mean runs over time steps, not over rows.
    """
    import numpy as np
    import pandas as pd

    stamps = frame[time_column].to_numpy(dtype="datetime64[ns]")
    values = frame[value_column].to_numpy(dtype="float64", na_value=np.nan)
    keep = ~np.isnat(stamps) & np.isfinite(values)
    stamps, values = stamps[keep], values[keep]
    distinct, inverse = np.unique(stamps, return_inverse=True)
    per_count = np.bincount(inverse, minlength=distinct.size)
    per_sum = np.bincount(inverse, weights=values, minlength=distinct.size)
    per_low = np.full(distinct.size, np.inf)
    per_high = np.full(distinct.size, -np.inf)
    np.minimum.at(per_low, inverse, values)
    np.maximum.at(per_high, inverse, values)
    per_mean = per_sum / np.maximum(per_count, 1)
    duplicated = int(stamps.size - distinct.size)
    frequency, step, gaps = _regularity(distinct)
    season = _SEASON.get(frequency or "", 0)
    window = season if season and distinct.size >= 2 * season else max(1, distinct.size // 10)
    rolling_all = (
        pd.Series(per_mean).rolling(window, min_periods=window).mean().to_numpy()
        if window > 1
        else None
    )
    buckets = max(2, buckets)
    if distinct.size <= buckets:
        return TimeSeries(
            time_column, value_column, distinct, per_low, per_mean, per_high, rolling_all,
            window, int(stamps.size), frequency, step, gaps, duplicated, duplicated > 0,
        )  # fmt: skip
    ints = distinct.astype("int64")
    edges = np.linspace(ints[0], ints[-1], buckets + 1)
    index = np.clip(np.searchsorted(edges, ints, side="right") - 1, 0, buckets - 1)
    counts = np.bincount(index, weights=per_count, minlength=buckets)
    present = counts > 0
    low = np.full(buckets, np.inf)
    high = np.full(buckets, -np.inf)
    np.minimum.at(low, index, per_low)
    np.maximum.at(high, index, per_high)
    sums = np.bincount(index, weights=per_sum, minlength=buckets)
    mean = np.where(present, sums / np.maximum(counts, 1), np.nan)
    rolling = None
    if rolling_all is not None:
        finite = np.isfinite(rolling_all)
        rsum = np.bincount(index[finite], weights=rolling_all[finite], minlength=buckets)
        rcount = np.bincount(index[finite], minlength=buckets)
        rolling = np.where(rcount > 0, rsum / np.maximum(rcount, 1), np.nan)[present]
    starts = edges[:-1].astype("int64").astype("datetime64[ns]")
    return TimeSeries(
        time_column, value_column, starts[present], low[present], mean[present], high[present],
        rolling, window, int(stamps.size), frequency, step, gaps, duplicated, True,
    )  # fmt: skip


def _regularity(distinct: np.ndarray) -> tuple[str | None, Any, int]:
    """(frequency name, step, missing steps) of sorted distinct timestamps."""
    import numpy as np
    import pandas as pd

    if distinct.size < 3:
        return None, None, 0
    index = pd.DatetimeIndex(distinct)
    months = index.year * 12 + index.month
    if (index.day == 1).all() and (index.normalize() == index).all():
        diffs = np.diff(np.asarray(months))
        if diffs.size and diffs.min() > 0:
            unit = int(np.median(diffs))
            if unit in (1, 3, 12) and (diffs % unit == 0).all():
                name = {1: "monthly", 3: "quarterly", 12: "yearly"}[unit]
                gaps = int((diffs // unit - 1).sum())
                return name, unit, gaps
    deltas = np.diff(distinct.astype("int64"))
    step = int(np.median(deltas))
    if step <= 0 or (deltas % step != 0).any():
        return None, None, 0
    gaps = int((deltas // step - 1).sum())
    delta = pd.Timedelta(step, unit="ns")
    names = {
        pd.Timedelta(hours=1): "hourly",
        pd.Timedelta(days=1): "daily",
        pd.Timedelta(weeks=1): "weekly",
    }
    return names.get(delta, f"every {delta}"), delta, gaps


def scatter_sample(
    frame: pd.DataFrame, x: str, y: str, max_points: int = 2000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Finite (x, y) pairs, downsampled to at most ``max_points`` (seeded)."""
    import numpy as np

    xs = frame[x].to_numpy(dtype="float64", na_value=np.nan)
    ys = frame[y].to_numpy(dtype="float64", na_value=np.nan)
    keep = np.isfinite(xs) & np.isfinite(ys)
    xs, ys = xs[keep], ys[keep]
    if xs.size > max_points:
        pick = np.random.default_rng(seed).choice(xs.size, size=max_points, replace=False)
        pick.sort()
        xs, ys = xs[pick], ys[pick]
    return xs, ys


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    import pandas as pd

    return [
        str(name)
        for name in frame.columns
        if pd.api.types.is_numeric_dtype(frame[name])
        and not pd.api.types.is_bool_dtype(frame[name])
    ]


def correlation(
    frame: pd.DataFrame, max_rows: int = 100_000, seed: int = 0, max_columns: int = 12
) -> tuple[list[str], np.ndarray]:
    """Pearson correlation of the first ``max_columns`` numeric columns (on a row sample)."""
    import numpy as np
    import pandas as pd

    names = numeric_columns(frame)[:max_columns]
    if not names:
        return [], np.zeros((0, 0))
    data = frame[names]
    if len(data) > max_rows:
        data = data.sample(n=max_rows, random_state=seed)
    values = data.to_numpy(dtype="float64", na_value=np.nan)
    values = np.where(np.isfinite(values), values, np.nan)  # never write into a view
    return names, pd.DataFrame(values, columns=names).corr().to_numpy()


def class_balance(series: pd.Series, k: int = 20) -> tuple[list[tuple[str, int]], int]:
    """Class counts of a target column (top ``k`` classes, and the rest together)."""
    return top_values(series, k)


def projection(
    frame: pd.DataFrame,
    target: str | None = None,
    max_rows: int = 5000,
    seed: int = 0,
) -> Projection | None:
    """Standardised PCA of the numeric columns to 2-D (numpy SVD on a sample of rows).

    Rows with a missing or infinite numeric value are left out. Returns None when fewer
    than two usable numeric columns or rows exist.
    """
    import numpy as np

    names = [n for n in numeric_columns(frame) if n != target]
    if len(names) < 2:
        return None
    values = frame[names].to_numpy(dtype="float64", na_value=np.nan)
    keep = np.isfinite(values).all(axis=1)
    rows = np.flatnonzero(keep)
    if rows.size > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=max_rows, replace=False))
    if rows.size < 3:
        return None
    sample = values[rows]
    with np.errstate(all="ignore"):  # values near the float limit overflow: skip them
        std = sample.std(axis=0)
        usable = np.isfinite(std) & (std > 0)
        if usable.sum() < 2:
            return None
        sample = (sample[:, usable] - sample[:, usable].mean(axis=0)) / std[usable]
    if not np.isfinite(sample).all():
        return None
    try:
        _, singular, vt = np.linalg.svd(sample, full_matrices=False)
    except np.linalg.LinAlgError:
        return None
    variance = singular**2
    total = float(variance.sum())
    coords = sample @ vt[:2].T
    explained = (float(variance[0] / total), float(variance[1] / total)) if total else (0.0, 0.0)
    labels = None
    if target is not None and target in frame.columns:
        labels = [str(v) for v in frame[target].iloc[rows].tolist()]
    return Projection(
        x=coords[:, 0],
        y=coords[:, 1],
        labels=labels,
        explained=explained,
        columns=[n for n, ok in zip(names, usable, strict=True) if ok],
    )


# --------------------------------------------------------------------------- drill-down


def null_rows(frame: pd.DataFrame, column: str, limit: int = DRILL_ROWS) -> Drill:
    mask = frame[column].isna()
    return Drill(f"rows where {column} is null", int(mask.sum()), frame[mask].head(limit))


def duplicate_rows(frame: pd.DataFrame, limit: int = DRILL_ROWS) -> Drill:
    """Every row that has an identical twin (all copies, grouped together)."""
    import pandas as pd

    try:
        hashes = pd.util.hash_pandas_object(frame, index=False)
    except TypeError:
        hashes = pd.util.hash_pandas_object(frame.astype(str), index=False)
    mask = hashes.duplicated(keep=False).to_numpy()
    repeats = int(hashes.duplicated(keep="first").sum())
    rows = frame[mask]
    order = hashes[mask].argsort(kind="stable").to_numpy()
    return Drill("duplicated rows (all copies)", repeats, rows.iloc[order].head(limit))


def failure_rows(
    frame: pd.DataFrame,
    column: str,
    rows: tuple[int, ...],
    written: tuple[str, ...],
    limit: int = DRILL_ROWS,
) -> Drill:
    """The rows whose ``column`` held a value the loader could not read (``infer``),
    with that value as written in a column of its own next to the data."""
    shown = frame.iloc[list(rows[:limit])].copy()
    shown.insert(0, f"{column} as written", list(written[:limit]))
    return Drill(f"rows where {column} could not be read", len(rows), shown)


def bin_rows(
    frame: pd.DataFrame, column: str, hist: Histogram, index: int, limit: int = DRILL_ROWS
) -> Drill:
    import numpy as np

    low, high, inclusive = hist.bin_range(index)
    values = frame[column].to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        mask = (values >= low) & ((values <= high) if inclusive else (values < high))
    close = "]" if inclusive else ")"
    title = f"rows where {column} in [{_short(low)}, {_short(high)}{close}"
    return Drill(title, int(mask.sum()), frame[mask].head(limit))


def value_rows(frame: pd.DataFrame, column: str, value: str, limit: int = DRILL_ROWS) -> Drill:
    """Rows whose ``column`` shows as ``value`` (text match, as the bars label it)."""
    mask = frame[column].astype(str) == value
    return Drill(f"rows where {column} = {value}", int(mask.sum()), frame[mask].head(limit))


def _short(value: float) -> str:
    return f"{value:.4g}"


# --------------------------------------------------------------------------- compare


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float | None:
    """Two-sample Kolmogorov-Smirnov statistic (max distance between the two ECDFs)."""
    import numpy as np

    if a.size == 0 or b.size == 0:
        return None
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / a.size
    cdf_b = np.searchsorted(b, grid, side="right") / b.size
    return float(np.abs(cdf_a - cdf_b).max())


def psi(counts_a: dict[str, int], counts_b: dict[str, int]) -> float | None:
    """Population stability index over categories (0.1 / 0.25: moderate / large shift)."""
    total_a, total_b = sum(counts_a.values()), sum(counts_b.values())
    if not total_a or not total_b:
        return None
    eps = 1e-4  # keeps a category seen on one side only from giving log(0)
    score = 0.0
    for key in set(counts_a) | set(counts_b):
        pa = max(counts_a.get(key, 0) / total_a, eps)
        pb = max(counts_b.get(key, 0) / total_b, eps)
        score += (pb - pa) * math.log(pb / pa)
    return score


def compare_frames(
    a: pd.DataFrame, b: pd.DataFrame, max_categories: int = 1000
) -> list[ColumnDrift]:
    """Per-column drift from ``a`` (say train) to ``b`` (say validation)."""
    from waitwise_tui.core.data.profile import column_kind, plain_value

    drifts: list[ColumnDrift] = []
    names = [str(c) for c in a.columns] + [str(c) for c in b.columns if c not in a.columns]
    for name in names:
        in_a, in_b = name in a.columns, name in b.columns
        if not (in_a and in_b):
            drifts.append(
                ColumnDrift(
                    name, "only_a" if in_a else "only_b", None, None, None, None, [], [], None, None
                )
            )
            continue
        sa, sb = a[name], b[name]
        kind = column_kind(sa)
        null_a = float(sa.isna().mean()) if len(sa) else None
        null_b = float(sb.isna().mean()) if len(sb) else None
        range_a = range_b = None
        new: list[Any] = []
        missing: list[Any] = []
        score_kind = score = None
        if kind == "numeric" and column_kind(sb) == "numeric":
            fa, fb = finite_values(sa), finite_values(sb)
            range_a = (float(fa.min()), float(fa.max())) if fa.size else None
            range_b = (float(fb.min()), float(fb.max())) if fb.size else None
            score_kind, score = "ks", ks_statistic(fa, fb)
        elif kind == "datetime":
            range_a = (plain_value(sa.min()), plain_value(sa.max()))
            range_b = (plain_value(sb.min()), plain_value(sb.max()))
        else:
            ca = _text_counts(sa)
            cb = _text_counts(sb)
            if len(ca) <= max_categories and len(cb) <= max_categories:
                new = sorted(set(cb) - set(ca))
                missing = sorted(set(ca) - set(cb))
                score_kind, score = "psi", psi(ca, cb)
        drifts.append(
            ColumnDrift(
                name, "both", null_a, null_b, range_a, range_b, new, missing, score_kind, score
            )
        )
    return drifts


def _text_counts(series: pd.Series) -> dict[str, int]:
    counts = series.dropna().astype(str).value_counts()
    return {str(k): int(v) for k, v in counts.items()}
