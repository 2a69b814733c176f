"""core/fmt.py: one style for durations, steps and sizes."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from waitwise_tui.core import fmt


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (44.6, "45s"), (187, "3m07s"), (7500, "2h05m"), (273600, "3d04h"), (-5, "0s")],
)
def test_duration(seconds, text):
    assert fmt.duration(seconds) == text


def test_duration_to_the_minute_and_missing():
    assert fmt.duration(59, minutes=True) == "0m"
    assert fmt.duration(187, minutes=True) == "3m"
    assert fmt.duration(7500, minutes=True) == "2h05m"
    assert fmt.duration(None) == "–"
    assert fmt.duration(math.nan, missing="") == ""


def test_step_and_size():
    assert fmt.step(12000) == "12,000"
    assert fmt.step(2.5) == "2.5"
    assert fmt.step(None, missing="?") == "?"
    assert fmt.size(512) == "512 B"
    assert fmt.size(1536) == "1.5 KiB"
    assert fmt.size(250 * 1024**3, compact=True) == "250G"


@given(st.floats(min_value=0, max_value=1e7))
def test_duration_is_short_and_never_negative(seconds):
    text = fmt.duration(seconds)
    assert len(text) <= 8 and "-" not in text
