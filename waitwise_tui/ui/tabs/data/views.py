"""plotext chart builders for the data tab; each returns a rich ``Text`` ready to show.

Each build draws into a plotext figure of its own (``new_figure``), never into plotext's
module-level figure, so charts built at the same time in different threads (this tab's
worker, the runs chart, the tuner plots) cannot mix: no lock is needed. Builders are
called from thread workers; their cost depends on the chart size (bins, bars, a point
budget), not on the number of rows.

Titles, axis labels, bar and tick labels and legend entries are column names and cell
values: they reach plotext through ``display`` (``_start`` and ``_label``), because
plotext copies them into its ANSI output and ``Text.from_ansi`` would then act on any
escape sequence in them (colours, an OSC 8 link, a cleared screen).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text

from waitwise_tui.core.figure import canvas_rows, new_figure, row_axis
from waitwise_tui.core.text import display
from waitwise_tui.ui.plain import plain

if TYPE_CHECKING:
    import numpy as np

    from waitwise_tui.core.data.views import Histogram, Projection, TimeSeries

LABEL_WIDTH = 12
_SERIES_COLORS = ("cyan", "orange", "green", "magenta", "yellow", "red", "blue", "white")


def _start(width: int, height: int, title: str) -> Any:
    fig = new_figure()
    fig.plotsize(max(width, 20), max(height, 5))
    fig.theme("clear")
    fig.title(display(title))
    return fig


def _label(text: str) -> str:
    text = display(" ".join(str(text).split()))
    return text if len(text) <= LABEL_WIDTH else text[: LABEL_WIDTH - 1] + "…"


def _count_axis(fig: Any, counts: list[int], height: int) -> None:
    """Whole-number count ticks from zero, each on the row it names (core.figure)."""

    axis = row_axis(0.0, float(max(counts)), canvas_rows(max(height, 5), title=True), integer=True)
    if axis is not None:
        fig.ylim(axis.lo, axis.hi)
        fig.yticks(list(axis.ticks), list(axis.labels))


def _tick(value: float) -> str:
    return f"{value:.3g}"


def histogram_chart(
    hist: Histogram, selected: int | None, width: int, height: int, title: str
) -> Text:
    """Bars for precomputed bins; the selected bin is drawn in another colour."""
    if not hist.counts:
        return Text("no finite values to plot")
    centres = list(range(len(hist.counts)))
    fig = _start(width, height, title)
    fig.bar(centres, hist.counts, color="cyan", width=0.9)
    if selected is not None:
        fig.bar([selected], [hist.counts[selected]], color="orange", width=0.9)
    _count_axis(fig, hist.counts, height)
    last = len(hist.counts) - 1
    fig.xticks([0, last], [_tick(hist.edges[0]), _tick(hist.edges[-1])])
    return Text.from_ansi(fig.build())


def bars_chart(
    items: list[tuple[str, int]], selected: int | None, width: int, height: int, title: str
) -> Text:
    """Horizontal frequency bars, most frequent on top."""
    if not items:
        return Text("no values to plot")
    labels = [_label(name) for name, _ in items]
    counts = [count for _, count in items]
    fig = _start(width, height, title)
    fig.bar(labels[::-1], counts[::-1], orientation="horizontal", color="cyan", width=0.6)
    if selected is not None:
        # Draw over the selected bar; its position counts from the bottom.
        highlight = [0] * len(counts)
        highlight[len(counts) - 1 - selected] = counts[selected]
        fig.bar(labels[::-1], highlight, orientation="horizontal", color="orange", width=0.6)
    return Text.from_ansi(fig.build())


def time_chart(labels: list[str], counts: list[int], width: int, height: int, title: str) -> Text:
    if not counts:
        return Text("no dates to plot")
    fig = _start(width, height, title)
    positions = list(range(len(counts)))
    fig.bar(positions, counts, color="cyan", width=0.9)
    _count_axis(fig, counts, height)
    fig.xticks([0, len(counts) - 1], [display(labels[0]), display(labels[-1])])
    return Text.from_ansi(fig.build())


def series_chart(series: TimeSeries, width: int, height: int, title: str) -> Text:
    """A value over time: the mean per bucket, its min..max band, and the rolling mean.

    The x axis is days since the epoch, labelled with dates at a few positions.
    """
    import numpy as np

    if series.points == 0:
        return Text("no rows with both a time and a finite value")
    days = (series.times.astype("int64") / 86_400e9).tolist()
    fig = _start(width, height, title)
    if series.bucketed:
        fig.plot(days, series.high.tolist(), color="gray", marker="braille")
        fig.plot(days, series.low.tolist(), color="gray", marker="braille")
    fig.plot(days, series.mean.tolist(), color="cyan", marker="braille", label=None)
    if series.rolling is not None:
        keep = np.isfinite(series.rolling)
        if keep.any():
            xs = [d for d, k in zip(days, keep.tolist(), strict=True) if k]
            fig.plot(xs, series.rolling[keep].tolist(), color="orange", marker="braille")
    ticks = max(2, min(5, width // 16))
    positions = np.linspace(days[0], days[-1], ticks) if len(days) > 1 else np.array(days)
    span = days[-1] - days[0]
    fmt = "%Y-%m-%d %H:%M" if span < 2 else "%Y-%m-%d" if span < 400 else "%Y-%m"
    labels = [np.datetime64(int(p * 86_400), "s").astype(object).strftime(fmt) for p in positions]
    fig.xticks(positions.tolist(), labels)
    return Text.from_ansi(fig.build())


def scatter_chart(
    xs: np.ndarray, ys: np.ndarray, width: int, height: int, title: str, x_name: str, y_name: str
) -> Text:
    if xs.size == 0:
        return Text("no rows with both values finite")
    fig = _start(width, height, title)
    fig.scatter(xs.tolist(), ys.tolist(), marker="dot", color="cyan")
    fig.xlabel(_label(x_name))
    fig.ylabel(_label(y_name))
    return Text.from_ansi(fig.build())


def projection_chart(proj: Projection, width: int, height: int, title: str) -> Text:
    """PCA scatter, one colour per target class (the 7 largest; the rest together)."""
    fig = _start(width, height, title)
    if proj.labels is None:
        fig.scatter(proj.x.tolist(), proj.y.tolist(), marker="dot", color="cyan")
    else:
        from collections import Counter

        common = [name for name, _ in Counter(proj.labels).most_common(7)]
        groups: dict[str, tuple[list[float], list[float]]] = {}
        for x, y, label in zip(proj.x.tolist(), proj.y.tolist(), proj.labels, strict=True):
            key = label if label in common else "other"
            xs, ys = groups.setdefault(key, ([], []))
            xs.append(x)
            ys.append(y)
        for index, (label, (xs, ys)) in enumerate(sorted(groups.items())):
            color = _SERIES_COLORS[index % len(_SERIES_COLORS)]
            fig.scatter(xs, ys, marker="dot", color=color, label=_label(label))
    fig.xlabel(f"PC1 {proj.explained[0]:.0%}")
    fig.ylabel(f"PC2 {proj.explained[1]:.0%}")
    return Text.from_ansi(fig.build())


def correlation_table(names: list[str], matrix: np.ndarray) -> Table | Text:
    """The correlation matrix as a table; cells coloured by sign and strength."""
    import math

    if not names:
        return Text("no numeric columns to correlate")
    table = Table(box=None, padding=(0, 1), show_header=True, header_style="bold")
    table.add_column("")
    for name in names:
        table.add_column(plain(_label(name)[:6]), justify="right")
    for i, name in enumerate(names):
        cells: list[Text] = [plain(_label(name))]
        for j in range(len(names)):
            value = float(matrix[i, j])
            if math.isnan(value):
                cells.append(Text("·", style="dim"))
                continue
            strength = abs(value)
            colour = "red" if value < 0 else "green"
            style = f"bold {colour}" if strength > 0.9 else colour if strength > 0.5 else "dim"
            cells.append(Text(f"{value:+.2f}", style=style))
        table.add_row(*cells)
    return table
