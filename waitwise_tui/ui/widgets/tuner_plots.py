"""Tuner plots drawn with plotext: best-so-far curve and parameter-versus-objective scatter.

plotext keeps one global figure, so drawing holds a lock and starts from
``clear_figure``; callers run this in a thread worker. Cost depends on the plot size
(plotext rasterises into ``width x height`` cells), not much on the trial count.
"""

from __future__ import annotations

import math
from typing import Any

from waitwise_tui.core.plotlock import PLOTEXT_LOCK, reset_figure


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
    import plotext as plt

    width, height = max(width, 20), max(height, 6)
    side_by_side = width >= 70
    with PLOTEXT_LOCK:
        reset_figure(plt)
        plt.theme("clear")
        plt.plotsize(width, height)
        if side_by_side:
            plt.subplots(1, 2)
        else:
            plt.subplots(2, 1)
        plt.subplot(1, 1)
        numbers = [n for n, _, _ in done]
        values = [v for _, _, v in done]
        plt.title(f"best {metric} so far")
        if done:
            plt.plot(numbers, best_so_far(values, minimize), marker="braille")
            plt.scatter(numbers, values, marker="dot")
        plt.xlabel("trial")
        plt.subplot(1, 2) if side_by_side else plt.subplot(2, 1)
        if param is not None and done:
            xs, ys, labels = [], [], None
            raw = [p.get(param) for _, p, _ in done]
            if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in raw):
                xs = [float(x) for x in raw]
                if all(x > 0 for x in xs) and max(xs) / min(xs) > 100:
                    xs = [math.log10(x) for x in xs]
                    param = f"log10 {param}"
            else:
                labels = sorted({str(x) for x in raw})
                xs = [float(labels.index(str(x))) for x in raw]
            ys = values
            plt.scatter(xs, ys, marker="dot")
            if labels is not None:
                plt.xticks(list(range(len(labels))), labels)
        plt.title(f"{metric} vs {param or '-'}")
        plt.xlabel(param or "")
        text = plt.build()
        reset_figure(plt)
    return text
