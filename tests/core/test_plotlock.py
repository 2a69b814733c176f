"""Charts drawn by one feature do not leak plotext state into the next chart."""

from __future__ import annotations

import plotext as plt

from waitwise_tui.core.plotlock import PLOTEXT_LOCK, reset_figure


def _chart() -> str:
    with PLOTEXT_LOCK:
        reset_figure(plt)
        plt.plotsize(60, 15)
        plt.theme("clear")
        plt.plot([1, 2, 3], [3, 1, 2])
        text = plt.build()
        reset_figure(plt)
    return text


def test_a_subplot_grid_drawn_before_does_not_change_the_next_chart():
    before = _chart()
    with PLOTEXT_LOCK:
        reset_figure(plt)
        plt.subplots(1, 2)
        plt.subplot(1, 2)
        plt.plot([1, 2], [1, 2])
        plt.build()
        plt.clear_figure()  # what a careless drawer leaves behind: the subplot active
    assert _chart() == before
