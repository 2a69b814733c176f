"""Charts render for awkward data at small sizes, never raise, and pair metrics."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from waitwise_tui.core.runs.chart import ChartLine, ChartOptions, paired_metrics, render_chart
from waitwise_tui.core.runs.series import Series


def _series(values, steps=None, walls=None, name="loss") -> Series:
    series = Series(name)
    steps = list(range(len(values))) if steps is None else steps
    series.append(steps, values, walls)
    return series


ALL_OPTIONS = [
    ChartOptions(colorless=True),
    ChartOptions(smoothing=0.9, colorless=True),
    ChartOptions(log_y=True, colorless=True),
    ChartOptions(robust_y=True, colorless=True),
    ChartOptions(last_n_steps=3, colorless=True),
    ChartOptions(x_axis="relative", colorless=True),
    ChartOptions(x_axis="wall", smoothing=0.5, log_y=True, robust_y=True),
]

CASES = {
    "empty": Series("loss"),
    "nan": _series([math.nan, math.nan]),
    "inf": _series([math.inf, -math.inf, math.nan]),
    "constant": _series([0.5] * 20),
    "single": _series([2.0]),
    "negative": _series([-1.0, -2.0, -3.0]),
    "zero": _series([0.0] * 3),
    "mixed": _series([1.0, math.nan, 3.0, math.inf, 0.5], walls=[10.0, 11, 12, 13, 14]),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("options", ALL_OPTIONS)
@pytest.mark.parametrize("size", [(12, 4), (20, 6), (80, 20)])
def test_awkward_data_never_raises(case, options, size):
    text = render_chart([ChartLine("loss", CASES[case])], *size, options)
    assert isinstance(text, str) and text
    assert not text.startswith("cannot draw"), text


def test_no_data_message():
    assert render_chart([], 40, 10) == "no data"
    assert render_chart([ChartLine("l", CASES["nan"])], 40, 10).startswith("no data")
    assert "wall times" in render_chart(
        [ChartLine("l", CASES["constant"])], 40, 10, ChartOptions(x_axis="wall")
    )
    assert "log" in render_chart(
        [ChartLine("l", CASES["negative"])], 40, 10, ChartOptions(log_y=True)
    )
    assert render_chart([ChartLine("l", CASES["constant"])], 5, 2) == "chart area too small"


def test_plot_shows_the_data_range_and_legend():
    a = _series(list(np.linspace(10, 1, 500)))
    b = _series([8.0, 4.0, 2.0], steps=[100, 300, 499], name="val_loss")
    text = render_chart(
        [ChartLine("loss", a), ChartLine("val_loss", b)], 60, 15, ChartOptions(colorless=True)
    )
    assert "\x1b[" not in text
    assert "loss" in text and "val_loss" in text
    lines = text.splitlines()
    assert len(lines) == 15
    assert max(len(line) for line in lines) <= 60


def test_colours_are_applied():
    text = render_chart([ChartLine("loss", _series([3.0, 2.0, 1.0]))], 40, 10, colors=[(1, 2, 3)])
    assert "38;2;1;2;3" in text


def test_huge_series_renders_at_small_size():
    n = 2_000_000
    series = _series(np.exp(-np.arange(n) / 5e5), steps=np.arange(n, dtype=float))
    for options in ALL_OPTIONS:
        text = render_chart([ChartLine("loss", series)], 30, 8, options)
        assert not text.startswith(("cannot draw", "no data")) or options.x_axis != "step"


def test_robust_y_ignores_a_spike():
    values = np.linspace(2.0, 1.0, 1000)
    values[500] = 1e6
    series = _series(values)
    plain = render_chart([ChartLine("l", series)], 50, 12, ChartOptions(colorless=True))
    robust = render_chart(
        [ChartLine("l", series)], 50, 12, ChartOptions(robust_y=True, colorless=True)
    )
    assert max(_y_labels(plain)) > 1000
    assert max(_y_labels(robust)) < 10


def _y_labels(text: str) -> list[float]:
    scale = {"k": 1e3, "M": 1e6}
    labels = [line.split("┤")[0].strip() for line in text.splitlines() if "┤" in line]
    return [
        float(label[:-1]) * scale[label[-1]] if label[-1] in scale else float(label)
        for label in labels
    ]


def test_charts_drawn_at_once_in_threads_equal_each_drawn_alone():
    """Each chart has a figure of its own: no lock, and another thread drawing a
    subplot grid into plotext's global figure meanwhile changes nothing."""
    import plotext as plt

    series = _series(list(np.linspace(5, 1, 300)))
    sizes = (30, 40, 50, 60)

    def chart(width: int) -> str:
        return render_chart([ChartLine("l", series)], width, 10, ChartOptions(colorless=True))

    alone = {width: chart(width) for width in sizes}
    results: dict[int, list[str]] = {}
    stop = threading.Event()

    def draw(width: int) -> None:
        results[width] = [chart(width) for _ in range(3)]

    def global_churn() -> None:
        while not stop.is_set():
            plt.main()
            plt.clear_figure()
            plt.subplots(2, 2)
            plt.subplot(2, 1)
            plt.plot([1, 2, 3], [3, 1, 2])
            plt.build()

    churn = threading.Thread(target=global_churn, daemon=True)
    churn.start()
    threads = [threading.Thread(target=draw, args=(w,)) for w in sizes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    stop.set()
    churn.join(30)
    plt.main()
    plt.clear_figure()
    assert {w: texts for w, texts in results.items()} == {w: [alone[w]] * 3 for w in sizes}
    for text in alone.values():
        assert len({len(line) for line in text.splitlines()}) == 1


@pytest.mark.parametrize(
    ("metric", "available", "expected"),
    [
        ("loss", ["loss", "val_loss", "acc"], ["loss", "val_loss"]),
        ("val_loss", ["loss", "val_loss"], ["val_loss", "loss"]),
        ("train/loss", ["train/loss", "val/loss", "loss"], ["train/loss", "loss", "val/loss"]),
        ("eval_loss", ["loss", "eval_loss"], ["eval_loss", "loss"]),
        ("acc", ["loss", "val_loss"], ["acc"]),
    ],
)
def test_paired_metrics(metric, available, expected):
    assert paired_metrics(metric, available) == expected


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.one_of(
            st.floats(-1e12, 1e12, allow_nan=False),
            st.sampled_from([math.nan, math.inf, -math.inf, 0.0]),
        ),
        max_size=300,
    ),
    smoothing=st.sampled_from([0.0, 0.6, 0.99]),
    log_y=st.booleans(),
    robust_y=st.booleans(),
    x_axis=st.sampled_from(["step", "relative", "wall"]),
    last_n=st.sampled_from([None, 1, 50]),
    size=st.tuples(st.integers(12, 90), st.integers(4, 30)),
)
def test_any_moderate_data_draws_or_says_why(
    values, smoothing, log_y, robust_y, x_axis, last_n, size
):
    walls = [1000.0 + i for i in range(len(values))]
    series = _series(values, walls=walls)
    options = ChartOptions(smoothing, log_y, x_axis, robust_y, last_n, colorless=True)
    text = render_chart([ChartLine("l", series)], *size, options)
    assert not text.startswith("cannot draw"), text
    if not text.startswith(("no data", "chart area")):
        lines = text.splitlines()
        assert len(lines) <= size[1]
        assert max(len(line) for line in lines) <= size[0]
