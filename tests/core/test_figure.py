"""Chart axes: y ticks on the rows they name, round and whole-number steps, ranges that
start at the data, log y for values over decades. Checked on the axis maths and on the
text the charts render."""

from __future__ import annotations

import math

from hypothesis import example, given
from hypothesis import strategies as st

from waitwise_tui.core.figure import row_axis, spans_decades, spread_ticks
from waitwise_tui.core.runs.chart import ChartLine, ChartOptions, render_chart
from waitwise_tui.core.runs.series import Series
from waitwise_tui.ui.tabs.tuner.views import render_plots

finite = st.floats(-1e6, 1e6, allow_nan=False)


@given(finite, st.floats(1e-3, 1e6), st.integers(2, 40), st.booleans())
@example(lo=65536.171875, span=0.00390625, rows=2, integer=False)  # a tick an ulp over hi
def test_row_axis_ticks_sit_on_rows_and_cover_the_data(lo, span, rows, integer):
    hi = lo + span
    axis = row_axis(lo, hi, rows, integer=integer)
    if axis is None:
        return
    # Float slack: a billionth of the span, or a few ulps of values far from zero.
    slack = 1e-9 * span + 4 * math.ulp(max(abs(lo), abs(hi)))
    assert axis.lo <= lo + slack and axis.hi >= hi - slack
    per_row = (axis.hi - axis.lo) / (rows - 1)
    assert 2 <= len(axis.ticks) <= 5
    for tick in axis.ticks:
        assert axis.lo <= tick <= axis.hi
        position = (tick - axis.lo) / per_row
        assert abs(position - round(position)) < 1e-3  # within a thousandth of a row
        if integer:
            assert tick == int(tick)
    if lo >= 0:
        assert axis.lo >= 0


@given(finite, st.floats(1, 1e6), st.integers(2, 8))
def test_spread_ticks_are_whole_numbers_for_steps(lo, span, count):
    ticks = spread_ticks(lo, lo + span, count, integer=True)
    assert all(t == int(t) for t in ticks)
    assert len(ticks) <= count


def test_spans_decades():
    assert spans_decades([0.001, 0.5, 2.0])
    assert not spans_decades([0.5, 2.0])
    assert not spans_decades([-1.0, 1000.0])


def _plot_rows(text: str, which: int = 0) -> tuple[list[tuple[int, float]], list[str]]:
    """(canvas row, value) of every y label, and the x tick labels, of the ``which``-th
    plot from the top."""
    lines = text.splitlines()
    top = [i for i, line in enumerate(lines) if "┌" in line][which]
    bottom = [i for i, line in enumerate(lines) if "└" in line][which]
    labelled = [
        (i - top - 1, float(line.split("┤")[0]))
        for i, line in enumerate(lines[top + 1 : bottom], top + 1)
        if "┤" in line
    ]
    return labelled, lines[bottom + 1].split()


def _assert_labels_name_their_rows(labelled: list[tuple[int, float]]) -> None:
    assert len(labelled) >= 2
    (row0, value0), (row1, value1) = labelled[0], labelled[-1]
    per_row = (value0 - value1) / (row1 - row0)
    for row, value in labelled:
        assert math.isclose(value, value0 - (row - row0) * per_row, abs_tol=1e-9 * abs(value0))


def _loss(steps: int) -> Series:
    series = Series("loss")
    xs = list(range(0, steps + 1, 5))
    series.append(xs, [0.9 + 0.96 * math.exp(-x / 150) for x in xs], None)
    return series


def test_loss_chart_labels_name_their_rows_and_steps_are_whole():
    text = render_chart([ChartLine("loss", _loss(632))], 60, 14, ChartOptions(colorless=True))
    labelled, x_labels = _plot_rows(text)
    _assert_labels_name_their_rows(labelled)
    assert min(value for _, value in labelled) >= 0
    assert all(float(label) == int(float(label)) for label in x_labels)


def test_positive_loss_near_zero_gets_no_negative_axis():
    series = Series("loss")
    xs = list(range(200))
    series.append(xs, [0.02 + 2.0 * math.exp(-x / 10) for x in xs], None)
    for robust in (False, True):
        options = ChartOptions(colorless=True, robust_y=robust)
        labelled, _ = _plot_rows(render_chart([ChartLine("loss", series)], 60, 14, options))
        assert min(value for _, value in labelled) >= 0
        _assert_labels_name_their_rows(labelled)


def test_log_chart_labels_decades():
    series = Series("loss")
    xs = list(range(100))
    series.append(xs, [10.0 ** (-x / 33) for x in xs], None)
    text = render_chart(
        [ChartLine("loss", series)], 60, 14, ChartOptions(log_y=True, colorless=True)
    )
    labelled, _ = _plot_rows(text)
    values = [value for _, value in labelled]
    assert {1.0, 0.1, 0.01, 0.001} <= set(values)
    assert all(math.log10(value) == round(math.log10(value)) for value in values)
    logs = [(row, math.log10(value)) for row, value in labelled]
    _assert_labels_name_their_rows(logs)


def test_tuner_plots_use_log_y_over_three_decades_and_whole_trial_numbers():
    import plotext as plt

    done = [(n, {"lr": 10.0 ** -(n % 4)}, 10.0 ** -(n % 4) * 3) for n in range(1, 13)]
    for height in (20, 23):  # stacked: the two plots get different heights
        text = plt.uncolorize(
            render_plots(done, metric="loss", minimize=True, param="lr", width=60, height=height)
        )
        best, trials = _plot_rows(text, 0)
        scatter, _ = _plot_rows(text, 1)
        for labelled in (best, scatter):
            values = [value for _, value in labelled]
            assert all(math.log10(v) == round(math.log10(v)) for v in values), values
            _assert_labels_name_their_rows([(row, math.log10(v)) for row, v in labelled])
        assert all(label.isdigit() for label in trials), trials


def test_tuner_plots_start_at_the_data():
    import plotext as plt

    done = [(n, {"x": n}, 0.5 + n / 10) for n in range(1, 9)]
    text = plt.uncolorize(
        render_plots(done, metric="loss", minimize=True, param="x", width=60, height=23)
    )
    for which in (0, 1):
        labelled, _ = _plot_rows(text, which)
        assert min(value for _, value in labelled) >= 0
        _assert_labels_name_their_rows(labelled)


def test_histogram_counts_get_whole_number_ticks_on_their_rows():
    from waitwise_tui.core.data.views import Histogram
    from waitwise_tui.ui.tabs.data.views import histogram_chart

    hist = Histogram(
        edges=[float(i) for i in range(11)], counts=[3, 80, 506, 1520, 900, 40, 7, 2, 1, 0]
    )
    text = histogram_chart(hist, None, 60, 16, "x").plain
    labelled, _ = _plot_rows(text)
    assert all(value == int(value) for _, value in labelled)
    assert min(value for _, value in labelled) == 0
    _assert_labels_name_their_rows(labelled)
