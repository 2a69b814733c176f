"""Series storage: segments, pyramid levels and downsampling against brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from waitwise_tui.core.runs.model import Point
from waitwise_tui.core.runs.series import BASE, Series

values_st = st.lists(
    st.one_of(
        st.floats(-1e6, 1e6, allow_nan=False),
        st.sampled_from([math.nan, math.inf, -math.inf]),
    ),
    min_size=1,
    max_size=700,
)


def _brute(values: np.ndarray, lo: int, hi: int) -> tuple[float, float, int]:
    chunk = values[lo : hi + 1]
    finite = chunk[np.isfinite(chunk)]
    if not len(finite):
        return math.nan, math.nan, 0
    return float(finite.min()), float(finite.max()), len(finite)


@settings(max_examples=150, deadline=None)
@given(
    values=values_st,
    chunks=st.integers(1, 5),
    bounds=st.tuples(st.floats(-10, 800), st.floats(-10, 800)),
    n_buckets=st.integers(1, 40),
)
def test_downsample_matches_brute_force(values, chunks, bounds, n_buckets):
    series = Series("loss")
    steps = np.arange(len(values), dtype=float)
    vals = np.asarray(values, dtype=float)
    # Appending in several pieces must build the same pyramid as one append.
    cuts = np.linspace(0, len(values), chunks + 1).astype(int)
    for a, b in itertools.pairwise(cuts):
        series.append(steps[a:b], vals[a:b])
    x_lo, x_hi = min(bounds), max(bounds)
    seg = series.segments[-1]
    ds = seg.downsample(x_lo, x_hi, n_buckets)
    inside = np.flatnonzero((steps >= x_lo) & (steps <= x_hi))
    if not len(inside):
        assert len(ds) == 0
        return
    assert len(ds) <= n_buckets + 2
    # Buckets tile the range exactly, in order.
    assert ds.i_first[0] == inside[0] and ds.i_last[-1] == inside[-1]
    assert (ds.i_first[1:] == ds.i_last[:-1] + 1).all()
    for i in range(len(ds)):
        lo, hi = int(ds.i_first[i]), int(ds.i_last[i])
        mn, mx, count = _brute(vals, lo, hi)
        assert ds.finite[i] == count
        if count:
            assert ds.y_min[i] == mn and ds.y_max[i] == mx
            finite = vals[lo : hi + 1][np.isfinite(vals[lo : hi + 1])]
            assert ds.y_mean[i] == pytest.approx(finite.mean(), rel=1e-9, abs=1e-6)
        else:
            assert math.isnan(ds.y_min[i]) and math.isnan(ds.y_max[i])
        assert ds.y_last[i] == vals[hi] or (math.isnan(vals[hi]) and math.isnan(ds.y_last[i]))
        assert ds.x_first[i] == steps[lo] and ds.x_last[i] == steps[hi]


@settings(max_examples=100, deadline=None)
@given(values=values_st, lo=st.integers(0, 700), span=st.integers(0, 700))
def test_aggregate_exact(values, lo, span):
    series = Series("x")
    vals = np.asarray(values, dtype=float)
    series.append(np.arange(len(vals), dtype=float), vals)
    hi = min(lo + span, len(vals))
    mn, mx, total, count = series.segments[0].aggregate(lo, hi)
    finite = vals[lo:hi][np.isfinite(vals[lo:hi])]
    assert count == len(finite)
    if len(finite):
        assert (mn, mx) == (finite.min(), finite.max())
        assert total == pytest.approx(finite.sum(), rel=1e-9, abs=1e-6)


def test_levels_cover_the_data_and_cost_stays_small():
    series = Series("loss")
    n = 200_000
    series.append(np.arange(n, dtype=float), np.sin(np.arange(n) / 1000.0))
    seg = series.segments[0]
    assert seg.levels[0].size == BASE
    sizes = [level.size for level in seg.levels]
    assert sizes == [BASE << i for i in range(len(sizes))]
    assert seg.levels[-1].buckets <= 2
    ds = seg.downsample(0, n, 100)
    assert 50 <= len(ds) <= 102
    assert float(ds.y_min.min()) == pytest.approx(-1.0, abs=1e-6)
    xs, _ys = ds.envelope()
    assert len(xs) <= 2 * len(ds)
    assert (np.diff(xs) >= 0).all()


def test_backwards_step_starts_a_segment():
    series = Series("loss")
    series.append([0, 1, 2, 3], [4.0, 3.0, 2.0, 1.0])
    series.append([2, 3, 4], [1.5, 1.2, 1.1])
    series.append([5, 1, 2], [1.0, 9.0, 8.0])
    assert len(series.segments) == 3
    assert [len(s) for s in series.segments] == [4, 4, 2]
    assert series.step_range(0) == (0.0, 3.0)
    assert series.step_range() == (1.0, 2.0)
    assert series.count == 10
    assert (series.first, series.last, series.min, series.max) == (4.0, 8.0, 1.0, 9.0)
    assert series.last_step == 2.0


def test_equal_steps_stay_in_one_segment():
    series = Series("loss")
    series.append([1, 1, 2, 2], [1.0, 2.0, 3.0, 4.0])
    assert len(series.segments) == 1


def test_summaries_with_non_finite_values():
    series = Series("loss")
    series.extend(
        [
            Point("loss", 1, math.nan, 100.0),
            Point("loss", 2, 2.0),
            Point("loss", 3, math.inf),
            Point("loss", math.nan, 5.0),
        ]
    )
    assert series.count == 3  # the point without a finite step cannot be placed
    assert series.nonfinite == 2
    assert series.first_nonfinite_step == 1.0
    assert math.isnan(series.first) and math.isinf(series.last)
    assert series.min == series.max == 2.0
    assert series.first_wall == 100.0


def test_only_non_finite_values_keep_min_max_nan():
    series = Series("loss")
    series.append([1, 2], [math.nan, math.nan])
    assert math.isnan(series.min) and math.isnan(series.max)
    ds = series.segments[0].downsample(0, 10, 5)
    xs, _ys = ds.envelope()
    assert len(xs) == 0


def test_envelope_by_wall_time():
    series = Series("loss")
    series.append(np.arange(100.0), np.arange(100.0), 1000.0 + np.arange(100.0) * 2)
    xs, ys = series.segments[0].downsample(0, 99, 10).envelope("wall")
    assert xs[0] == 1000.0 and xs[-1] == 1198.0
    assert ys.min() == 0.0 and ys.max() == 99.0
