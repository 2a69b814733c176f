"""TensorBoard's debiased EMA: hand-computed values and a closed-form reference."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from waitwise_tui.core.runs.smoothing import debiased_ema


def _closed_form(values: list[float], w: float) -> list[float]:
    # EMA with zero init, debiased: sum_j (1-w) w^(n-j) v_j / (1 - w^n), finite values only.
    out, seen = [], []
    for v in values:
        if not math.isfinite(v):
            out.append(v)
            continue
        seen.append(v)
        n = len(seen)
        num = sum((1 - w) * w ** (n - 1 - j) * x for j, x in enumerate(seen))
        out.append(num / (1 - w**n) if w else num)
    return out


def test_hand_computed():
    # w=0.5: last=1 -> 1/(1-0.5)... first output is exactly the first value.
    result = debiased_ema([1.0, 3.0], 0.5)
    assert result[0] == pytest.approx(1.0)
    # last = 0.5*0.5 + 0.5*3 = 1.75; debias 1 - 0.25 = 0.75 -> 2.3333
    assert result[1] == pytest.approx(1.75 / 0.75)


@given(
    st.lists(
        st.one_of(st.floats(-1e3, 1e3), st.sampled_from([math.nan, math.inf])),
        max_size=60,
    ),
    st.floats(0.0, 0.99),
)
def test_matches_closed_form(values, weight):
    got = debiased_ema(values, weight)
    ref = values if len(set(map(repr, values))) <= 1 and values else _closed_form(values, weight)
    assert len(got) == len(values)
    for g, r in zip(got, ref, strict=True):
        if math.isfinite(r):
            assert g == pytest.approx(r, rel=1e-7, abs=1e-7)
        else:
            assert repr(g) == repr(r)


def test_nan_passes_through_without_poisoning():
    result = debiased_ema([1.0, math.nan, 1.0, 2.0], 0.6)
    assert math.isnan(result[1])
    assert all(math.isfinite(v) for v in (result[0], result[2], result[3]))
    assert result[2] == pytest.approx(1.0)


def test_constant_series_is_left_alone():
    assert debiased_ema([0.1] * 5, 0.9) == [0.1] * 5


def test_zero_weight_is_identity_and_bad_weight_raises():
    assert debiased_ema([3.0, 1.0, 2.0], 0.0) == [3.0, 1.0, 2.0]
    assert debiased_ema([], 0.5) == []
    with pytest.raises(ValueError):
        debiased_ema([1.0], 1.0)
