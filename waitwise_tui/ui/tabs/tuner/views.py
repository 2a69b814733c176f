"""Tuner plots drawn with plotext: best-so-far curve and parameter-versus-objective scatter.

Each call draws into a figure of its own (``new_figure``), never into plotext's global
one, so it takes no lock and cannot meet another feature's half-built chart (the reason
``core.plotlock`` exists); callers run this in a thread worker. Cost depends on the plot
size (plotext rasterises into ``width x height`` cells), not much on the trial count.

The metric and parameter names and categorical values come from the study file and the
trials: they reach plotext through ``core.text.display``, since the ANSI text built here
is parsed back into styles (``Text.from_ansi``) where an ESC in a name would act.
They are cut to fit too: plotext leaves out a title wider than its plot, and an escaped
name is longer than the raw one.
"""

from __future__ import annotations

import math
from typing import Any

from waitwise_tui.core.figure import (
    canvas_rows,
    data_range,
    new_figure,
    row_axis,
    spans_decades,
    spread_ticks,
)
from waitwise_tui.core.text import display

_TICK_LIMIT = 20  # characters of a categorical value under the x axis
# Cells of a subplot that are not title room: the y tick labels and the frame.
_TITLE_MARGIN = 10


def _cut(text: str, room: int) -> str:
    """``text`` in ``room`` characters (at least 8), ending in an ellipsis when cut."""
    room = max(8, room)
    return text if len(text) <= room else text[: room - 1] + "…"


def _versus(metric: str, param: str, room: int) -> str:
    """``"metric vs param"`` in ``room`` characters: the longer name gives way first."""
    room -= len(" vs ")
    if len(metric) + len(param) > room:
        half = room // 2
        if len(metric) <= half:
            param = _cut(param, room - len(metric))
        elif len(param) <= half:
            metric = _cut(metric, room - len(param))
        else:
            metric, param = _cut(metric, half), _cut(param, room - half)
    return f"{metric} vs {param}"


def _y_axis(plot: Any, values: list[float], rows: int, log: bool) -> None:
    """Y ticks on the rows they name, the range from the data (see core.figure)."""
    lo, hi = data_range(values, pad=0.05)
    axis = row_axis(lo, hi, rows, log=log, max_ticks=max(2, min(5, rows // 2)))
    if axis is not None:
        plot.ylim(axis.lo, axis.hi)
        plot.yticks(list(axis.ticks), list(axis.labels))


def best_so_far(values: list[float], minimize: bool) -> list[float]:
    out: list[float] = []
    for value in values:
        if not out:
            out.append(value)
        else:
            out.append(min(out[-1], value) if minimize else max(out[-1], value))
    return out


def render_plots(
    done: list[tuple[int, dict[str, Any], float]],
    *,
    metric: str,
    minimize: bool,
    param: str | None,
    width: int,
    height: int,
) -> str:
    """ANSI text of both plots side by side (stacked when narrow) for ``done`` trials.

    ``done`` holds (trial number, params, value) of the finished trials in order.
    """

    width, height = max(width, 20), max(height, 6)
    side_by_side = width >= 70
    room = (width // 2 if side_by_side else width) - _TITLE_MARGIN
    metric = display(metric)
    shown_param = None if param is None else display(param)
    fig = new_figure()
    fig.theme("clear")
    fig.plot_size(width, height)
    if side_by_side:
        fig.subplots(1, 2)
    else:
        fig.subplots(2, 1)
    left = fig.subplot(1, 1)
    numbers = [n for n, _, _ in done]
    values = [v for _, _, v in done]
    # Objectives over more than two decades (a loss from 3 to 0.003) get a log y axis:
    # log10 values are drawn and the real ones labelled.
    log_y = spans_decades(values)
    shown_values = [math.log10(v) for v in values] if log_y else values
    # Stacked, the upper plot gets the lower half of the rows.
    rows = canvas_rows(height if side_by_side else height // 2, title=True, xlabel=True)
    lower_rows = canvas_rows(
        height if side_by_side else height - height // 2, title=True, xlabel=True
    )
    left.title(f"best {_cut(metric, room - len('best  so far'))} so far")
    if done:
        left.plot(numbers, best_so_far(shown_values, minimize), marker="braille")
        left.scatter(numbers, shown_values, marker="dot")
        trial_ticks = spread_ticks(min(numbers), max(numbers), 5, integer=True)
        left.xticks(trial_ticks, [f"{t:.0f}" for t in trial_ticks])
        _y_axis(left, shown_values, rows, log_y)
    left.xlabel("trial")
    right = fig.subplot(1, 2) if side_by_side else fig.subplot(2, 1)
    if param is not None and done:
        xs, labels = [], None
        raw = [p.get(param) for _, p, _ in done]
        if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in raw):
            xs = [float(x) for x in raw]
            if all(x > 0 for x in xs) and max(xs) / min(xs) > 100:
                xs = [math.log10(x) for x in xs]
                shown_param = f"log10 {shown_param}"
        else:
            labels = sorted({str(x) for x in raw})
            xs = [float(labels.index(str(x))) for x in raw]
        right.scatter(xs, shown_values, marker="dot")
        _y_axis(right, shown_values, lower_rows, log_y)
        if labels is not None:
            shown = [display(label, limit=_TICK_LIMIT) for label in labels]
            right.xticks(list(range(len(labels))), shown)
    right.title(_versus(metric, shown_param or "-", room))
    right.xlabel(_cut(shown_param or "", room))
    text = fig.build()
    return text
