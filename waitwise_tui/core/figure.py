"""A plotext figure of its own for every chart.

plotext's module functions (``plt.plot``, ``plt.build``) draw into one global figure,
which is why charts built in worker threads used to share a lock. Each chart here
draws into a figure object of its own instead, sharing no state with any other: the
run curves, the tuner plots and the data plots may be built at the same time in any
threads, and nothing another drawer leaves in the global figure (a subplot grid) can
reach them.

plotext 5.3's ``_figure_class`` is what ``plotext.clear_figure()`` resets the global
figure to, and the module functions are its methods called on that global instance;
it is created, never patched. ``pyproject.toml`` pins ``plotext>=5.3,<6``. By default
a figure draws no larger than the terminal the process sees (``shutil``'s size: the
real terminal, ``$COLUMNS``, or 80x24 when there is none, as in a test worker), so the
same chart came out at different sizes in different processes; a figure here is drawn
at exactly the size asked for (``_limit_size(False, False)``).

It also chooses the axes every chart shares: y ticks on the rows they name, round
steps (whole numbers for steps, epochs, trials and counts), ranges that start at the
data and not below zero for data that is not, and log y for values over decades.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


def new_figure() -> Any:
    """An empty single-plot plotext figure, for one chart, drawn at the size it is
    given whatever the terminal's size."""
    from plotext._figure import _figure_class

    fig = _figure_class()
    fig._limit_size(False, False)
    return fig


# -- axes ---------------------------------------------------------------------
#
# plotext puts a y tick on the canvas row nearest its value, so ticks chosen without
# regard to the rows land on rows that stand for other values, and labels read unevenly
# (1.86 1.70 1.38 1.23 0.91). An axis from ``row_axis`` is built the other way round:
# the range is stretched so that the rows step by an exact fraction of a round tick
# step, and every labelled tick sits on the row whose value it names.

_NICE = (1.0, 2.0, 2.5, 5.0)


@dataclass(frozen=True)
class Axis:
    """Limits and labelled ticks for one plot axis."""

    lo: float
    hi: float
    ticks: tuple[float, ...]
    labels: tuple[str, ...]


def canvas_rows(height: int, *, title: bool = False, xlabel: bool = False) -> int:
    """Rows plotext draws data into for a single plot ``height`` cells tall (the frame,
    the x tick labels, a title and an x label take the others)."""
    return max(0, height - 3 - int(title) - int(xlabel))


def _steps(raw: float, integer: bool) -> list[float]:
    """Round steps (1, 2, 2.5, 5 x 10^k) from about ``raw`` upwards."""
    raw = max(raw, 1e-300)
    exponent = math.floor(math.log10(raw)) - 1
    steps = []
    for power in range(exponent, exponent + 4):
        for base in _NICE:
            step = base * 10.0**power
            if integer and (step < 1 or step != int(step)):
                continue
            steps.append(step)
    return sorted(set(steps))


def tick_label(value: float, step: float) -> str:
    """``value`` with as many decimals as ``step`` needs (k and M for large numbers)."""
    if abs(value) < step * 1e-9:
        value = 0.0
    magnitude = max(abs(value), step)
    if magnitude >= 1e6 and step >= 1e4:
        return f"{value / 1e6:g}M"
    if magnitude >= 1e4 and step >= 100:
        return f"{value / 1e3:g}k"
    decimals = 0
    while decimals < 12 and abs(step * 10**decimals - round(step * 10**decimals)) > 1e-9:
        decimals += 1
    return f"{value:.{decimals}f}"


def data_range(values: Sequence[float], *, pad: float = 0.02) -> tuple[float, float]:
    """The finite values' range, padded by ``pad`` of the span on each side; never
    below zero when no value is."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    span = hi - lo
    padded_lo, padded_hi = lo - pad * span, hi + pad * span
    if lo >= 0:
        padded_lo = max(padded_lo, 0.0)
    return padded_lo, padded_hi


def spans_decades(values: Sequence[float], decades: float = 2.0) -> bool:
    """True when the values are all positive and span more than ``decades`` decades:
    a log scale shows them better than a linear one."""
    finite = [v for v in values if math.isfinite(v)]
    return bool(finite) and min(finite) > 0 and max(finite) / min(finite) > 10.0**decades


def row_axis(
    lo: float,
    hi: float,
    rows: int,
    *,
    integer: bool = False,
    max_ticks: int = 5,
    log: bool = False,
) -> Axis | None:
    """A y axis over at least ``lo``..``hi`` whose ticks fall on canvas rows.

    ``rows`` is the canvas height (``canvas_rows``); ``integer`` keeps ticks on whole
    numbers (steps, epochs, trials, counts); ``log``: ``lo``/``hi`` are log10 values,
    ticks go on whole decades when the range spans one, and the labels are the values
    themselves. A range that starts at or above zero never gets an axis below zero.
    None: too few rows for two ticks (leave the axis to plotext).
    """
    if rows < 2 or not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    if hi <= lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = (max(lo - pad, 0.0) if lo >= 0 and not log else lo - pad), hi + pad
    nonnegative = lo >= 0 and not log
    axis = None
    if log:
        axis = _fit(lo, hi, rows, integer=True, max_ticks=max_ticks, nonnegative=False)
        if axis is not None and (hi - lo) < 0.5 * (axis.hi - axis.lo):
            axis = None  # whole decades would leave most of the plot empty
    if axis is None:
        axis = _fit(lo, hi, rows, integer=integer, max_ticks=max_ticks, nonnegative=nonnegative)
    if axis is None:
        return None
    step = axis.ticks[1] - axis.ticks[0]
    if log:
        labels = tuple(f"{10.0**t:.3g}" for t in axis.ticks)
    else:
        labels = tuple(tick_label(t, step) for t in axis.ticks)
    return Axis(axis.lo, axis.hi, axis.ticks, labels)


def _fit(
    lo: float, hi: float, rows: int, *, integer: bool, max_ticks: int, nonnegative: bool
) -> Axis | None:
    """The smallest round step with 2..``max_ticks`` ticks, at the finest value per row
    that still reaches ``hi``; the range starts on a whole number of rows."""
    span = hi - lo
    for step in _steps(span / max_ticks, integer):
        # Most rows per tick first: the finest value per row for this step.
        for per_tick in range(rows - 1, 0, -1):
            per_row = step / per_tick
            axis_lo = math.floor(lo / per_row + 1e-9) * per_row
            axis_hi = axis_lo + (rows - 1) * per_row
            if axis_hi < hi - 1e-9 * span or (nonnegative and axis_lo < 0):
                continue
            first_tick = math.ceil(axis_lo / step - 1e-9)
            last_tick = math.floor(axis_hi / step + 1e-9)
            if 2 <= last_tick - first_tick + 1 <= max_ticks:
                # k * step and the range's ends are each rounded: a tick can land an
                # ulp outside (65536.18000000001 over 65536.18); the range takes it in.
                ticks = tuple(k * step for k in range(first_tick, last_tick + 1))
                axis_lo, axis_hi = min(axis_lo, ticks[0]), max(axis_hi, ticks[-1])
                return Axis(axis_lo, axis_hi, ticks, ())
    return None


def spread_ticks(lo: float, hi: float, count: int = 5, *, integer: bool = False) -> list[float]:
    """Round ticks inside ``lo``..``hi``, at most ``count`` of them (whole numbers when
    ``integer``): x axes, where ticks need not sit on exact columns."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    for step in _steps((hi - lo) / max(count - 1, 1), integer):
        first = math.ceil(lo / step - 1e-9)
        last = math.floor(hi / step + 1e-9)
        if last - first + 1 <= count:
            return [k * step for k in range(first, last + 1)]
    return [lo, hi]
