"""Series memory is bounded: only the latest raw points are kept, the past lives in the pyramid.

Everything is checked against numpy over the full data the series was fed.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from waitwise_tui.core.runs.series import COARSE, RAW_CAP, Segment, Series


def _stored_floats(seg: Segment) -> int:
    """Float64 slots the segment holds (filled parts of every buffer)."""
    total = seg.steps.size + seg.values.size + seg.walls.size
    for level in seg.levels:
        total += sum(b.size for b in (level.mins, level.maxs, level.sums, level.counts))
        total += sum(b.size for b in level.ends)
    return total


def _brute(values: np.ndarray, lo: int, hi: int) -> tuple[float, float, float, int]:
    chunk = values[lo:hi]
    finite = chunk[np.isfinite(chunk)]
    if not len(finite):
        return math.nan, math.nan, 0.0, 0
    return float(finite.min()), float(finite.max()), float(finite.sum()), len(finite)


def _snap(index: int, dropped: int) -> int:
    return index if index >= dropped else (index + COARSE // 2) // COARSE * COARSE


def test_a_million_points_keep_the_cap_and_agree_with_numpy():
    n = 1_000_000
    rng = np.random.default_rng(7)
    steps = np.arange(n, dtype=float)
    values = rng.normal(size=n).cumsum()
    walls = 1.7e9 + steps * 0.5
    series = Series("loss")
    for a, b in itertools.pairwise(range(0, n + 1, 40_000)):
        series.append(steps[a:b], values[a:b], walls[a:b])
    (seg,) = series.segments
    assert len(series) == len(seg) == n
    assert seg.kept <= RAW_CAP
    assert seg.dropped == n - seg.kept
    # The latest points are exact.
    assert np.array_equal(seg.steps.view, steps[-seg.kept :])
    assert np.array_equal(seg.values.view, values[-seg.kept :])
    assert np.array_equal(seg.walls.view, walls[-seg.kept :])
    assert series.step_range() == (0.0, float(n - 1))
    # O(raw cap + n / COARSE): the raw window and its fine levels, then ~2 * 9 per bucket.
    assert _stored_floats(seg) <= 3 * RAW_CAP + 8 * RAW_CAP // 8 + 20 * n // COARSE
    # Aggregates over bucket-aligned ranges in the past, and any range in the kept part.
    rng_idx = np.random.default_rng(1)
    for _ in range(50):
        lo, hi = sorted(rng_idx.integers(0, n, size=2).tolist())
        lo, hi = _snap(lo, seg.dropped), _snap(hi, seg.dropped)
        mn, mx, total, count = seg.aggregate(lo, hi)
        b_mn, b_mx, b_total, b_count = _brute(values, lo, hi)
        assert count == b_count
        if count:
            assert (mn, mx) == (b_mn, b_mx)
            assert math.isclose(total / count, b_total / b_count, rel_tol=1e-9, abs_tol=1e-9)
    # A chart of the full history: every bucket agrees with the data it covers.
    ds = seg.downsample(-math.inf, math.inf, 200)
    assert len(ds) <= 202
    assert ds.i_first[0] == 0 and ds.i_last[-1] == n - 1
    for i in range(len(ds)):
        lo, hi = int(ds.i_first[i]), int(ds.i_last[i]) + 1
        b_mn, b_mx, b_total, b_count = _brute(values, lo, hi)
        assert (ds.y_min[i], ds.y_max[i]) == (b_mn, b_mx)
        assert math.isclose(ds.y_mean[i], b_total / b_count, rel_tol=1e-9, abs_tol=1e-9)
    assert np.array_equal(ds.x_first, steps[ds.i_first])
    assert np.array_equal(ds.x_last, steps[ds.i_last])
    assert np.array_equal(ds.wall_last, walls[ds.i_last])
    assert np.array_equal(ds.y_last, values[ds.i_last])


def test_one_bulk_block_is_not_kept_whole():
    n = 600_000
    values = np.linspace(1.0, 0.0, n)
    series = Series("loss")
    series.append(np.arange(n, dtype=float), values)
    seg = series.segments[-1]
    assert seg.kept <= RAW_CAP
    # The caller's array was let go of: the window is a copy of its own.
    assert seg.values.data.base is None and len(seg.values.data) < n
    assert seg.values.view[-1] == values[-1]
    assert (series.min, series.max, series.first, series.last) == (0.0, 1.0, 1.0, 0.0)


values_st = st.lists(
    st.one_of(
        st.floats(-1e6, 1e6, allow_nan=False),
        st.sampled_from([math.nan, math.inf, -math.inf]),
    ),
    min_size=1,
    max_size=3000,
)


@settings(max_examples=120, deadline=None)
@given(
    values=values_st,
    cap_buckets=st.integers(1, 4),
    chunks=st.integers(1, 12),
    bounds=st.tuples(st.floats(-10, 3100), st.floats(-10, 3100)),
    n_buckets=st.integers(1, 40),
    repeat=st.integers(1, 3),
)
def test_bounded_segment_matches_numpy_over_the_full_data(
    values, cap_buckets, chunks, bounds, n_buckets, repeat
):
    cap = cap_buckets * COARSE
    vals = np.asarray(values, dtype=float)
    # Repeated steps (several points per step) as well as one per step.
    steps = np.arange(len(vals), dtype=float) // repeat
    series = Series("loss", raw_cap=cap)
    cuts = np.linspace(0, len(vals), chunks + 1).astype(int)
    for a, b in itertools.pairwise(cuts):
        series.append(steps[a:b], vals[a:b])
    seg = series.segments[-1]
    n = len(vals)
    assert len(seg) == n and seg.kept <= cap
    assert seg.dropped % COARSE == 0
    assert np.array_equal(seg.values.view, vals[seg.dropped :], equal_nan=True)

    lo, hi = sorted(int(b) for b in bounds)
    lo, hi = min(lo, n), min(hi, n)
    s_lo, s_hi = _snap(lo, seg.dropped), _snap(hi, seg.dropped)
    mn, mx, total, count = seg.aggregate(lo, hi)
    b_mn, b_mx, b_total, b_count = _brute(vals, s_lo, s_hi)
    assert count == b_count
    if count:
        assert (mn, mx) == (b_mn, b_mx)
        assert math.isclose(total, b_total, rel_tol=1e-9, abs_tol=1e-6)

    x_lo, x_hi = min(bounds), max(bounds)
    ds = seg.downsample(x_lo, x_hi, n_buckets)
    inside = np.flatnonzero((steps >= x_lo) & (steps <= x_hi))
    if not len(inside):
        assert len(ds) == 0
        return
    assert len(ds) <= n_buckets + 2
    assert (ds.i_first[1:] == ds.i_last[:-1] + 1).all()
    # Exact where the points are kept; widened to whole buckets in the dropped part.
    first, last = int(inside[0]), int(inside[-1])
    if first >= seg.dropped:
        assert ds.i_first[0] == first
    else:
        assert first - COARSE < ds.i_first[0] <= first and ds.i_first[0] % COARSE == 0
    if last >= seg.dropped:
        assert ds.i_last[-1] == last
    else:
        assert last <= ds.i_last[-1] < last + COARSE and (ds.i_last[-1] + 1) % COARSE == 0
    for i in range(len(ds)):
        a, b = int(ds.i_first[i]), int(ds.i_last[i]) + 1
        b_mn, b_mx, _, b_count = _brute(vals, a, b)
        assert ds.finite[i] == b_count
        if b_count:
            assert (ds.y_min[i], ds.y_max[i]) == (b_mn, b_mx)
    assert np.array_equal(ds.x_first, steps[ds.i_first])
    assert np.array_equal(ds.x_last, steps[ds.i_last])
    assert np.array_equal(ds.y_last, vals[ds.i_last], equal_nan=True)
