"""Data charts draw into a plotext figure of their own: no lock, no shared state.

Charts built at the same moment in different threads (the data tab's worker, the runs
chart, the tuner plots, anything using plotext's module-level figure) come out exactly
as each one drawn alone.
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import plotext as plt
import pytest

from waitwise_tui.core.data.views import Histogram
from waitwise_tui.ui.tabs.data import views

ROUNDS = 12


def histogram() -> str:
    hist = Histogram(edges=[float(e) for e in range(11)], counts=[3, 9, 4, 12, 7, 1, 0, 5, 8, 2])
    return views.histogram_chart(hist, 3, 60, 15, "loss").plain


def scatter() -> str:
    xs = np.linspace(0.0, 1.0, 200)
    return views.scatter_chart(xs, xs**2, 50, 12, "x vs y", "x", "y").plain


def bars() -> str:
    items = [("cat", 40), ("dog", 25), ("[bold]bird[/]", 3)]
    return views.bars_chart(items, 1, 40, 10, "pets").plain


def global_figure_grid() -> str:
    """What a careless plotext user does: a subplot grid on the module-level figure."""
    plt.clear_figure()
    plt.subplots(1, 2)
    plt.subplot(1, 2)
    plt.plot([1, 2, 3], [3, 1, 2])
    return plt.build()


def test_each_chart_is_drawn_into_a_new_figure():
    assert views.new_figure() is not views.new_figure()
    assert views.new_figure() is not plt._core._figure  # never the module-level one


def test_charts_drawn_concurrently_in_threads_equal_each_drawn_alone():
    drawers = (histogram, scatter, bars)
    alone = {draw: draw() for draw in drawers}
    assert all(alone.values())
    results: dict[object, list[str]] = {draw: [] for draw in drawers}
    errors: list[BaseException] = []
    start = threading.Barrier(len(drawers) + 1)

    def keep_drawing(draw) -> None:
        try:
            start.wait()
            for _ in range(ROUNDS):
                results[draw].append(draw())
        except BaseException as exc:  # reported below, with the thread's name
            errors.append(exc)

    def meddle() -> None:
        start.wait()
        for _ in range(ROUNDS):
            global_figure_grid()

    threads = [threading.Thread(target=keep_drawing, args=(d,)) for d in drawers]
    threads.append(threading.Thread(target=meddle))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    plt.clear_figure()
    assert not errors
    for draw in drawers:
        assert results[draw] == [alone[draw]] * ROUNDS, draw.__name__


@pytest.mark.parametrize("rows", [0, 1, 2, 3])
def test_series_chart_draws_tiny_and_duplicated_series(rows):
    from waitwise_tui.core.data import views as core_views
    from waitwise_tui.ui.tabs.data.views import series_chart

    stamps = list(pd.date_range("2024-01-01", periods=rows, freq="h")) * 2
    frame = pd.DataFrame({"d": stamps, "v": np.arange(len(stamps), dtype=float)})
    series = core_views.time_series(frame, "d", "v")
    assert series.duplicated == rows
    text = series_chart(series, 40, 10, "v over d").plain
    assert ("no rows" in text) if rows == 0 else ("v over d" in text)
