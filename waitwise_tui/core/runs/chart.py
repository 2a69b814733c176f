"""Loss charts as ANSI text, drawn with plotext from downsampled series.

``render_chart`` overlays several (run, metric) lines. Each line is read through
``Segment.downsample`` with about one bucket per column, so the work per frame depends
on the chart's size, not on how many points the run logged. Smoothing is TensorBoard's
debiased EMA applied to the bucket means (as TensorBoard applies it to its sampled
points), with the weight raised to the bucket size so the look does not change with
zoom; the raw min/max envelope is drawn faint beneath it.

Every render draws into a plotext figure of its own (``core.figure``), so callers may
render from several threads at once with no lock. Nothing here raises on bad
data: empty, NaN-only, constant or non-positive-for-log data yield a one-line message.

Legend labels are run and metric names from the logs: they go in through
``core.text.display``, because the ANSI text this returns is parsed back into styles
(``Text.from_ansi``), where an ESC in a name would become a colour or a cursor move.
Only the chart's own colour sequences carry an ESC.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from waitwise_tui.core.figure import canvas_rows, new_figure, row_axis, spread_ticks
from waitwise_tui.core.runs.series import Series
from waitwise_tui.core.runs.smoothing import debiased_ema
from waitwise_tui.core.text import display

X_AXES = ("step", "relative", "wall")
Color = str | tuple[int, int, int]
DEFAULT_COLORS: tuple[Color, ...] = (
    (86, 156, 214),
    (230, 145, 56),
    (106, 190, 48),
    (214, 86, 128),
    (170, 120, 220),
    (70, 190, 190),
)
# plotext's basic colour names as RGB, so a faint version can be mixed for them too.
_NAMED_RGB = {
    "red": (205, 49, 49),
    "green": (13, 188, 121),
    "yellow": (229, 229, 16),
    "blue": (36, 114, 200),
    "magenta": (188, 63, 188),
    "cyan": (17, 168, 205),
    "white": (229, 229, 229),
    "orange": (255, 165, 0),
    "gray": (128, 128, 128),
}
# Older segments (before a restart) beyond this many are not drawn.
MAX_SEGMENTS = 4
_LEGEND_MARGIN = 20  # cells of the chart width a legend label cannot use


@dataclass(frozen=True)
class ChartOptions:
    """How to draw: smoothing in [0, 0.99], log y, x axis, outlier-proof y range, zoom."""

    smoothing: float = 0.0
    log_y: bool = False
    x_axis: str = "step"
    robust_y: bool = False
    last_n_steps: int | None = None
    colorless: bool = False
    all_segments: bool = True


@dataclass(frozen=True)
class ChartLine:
    """One curve: a series, its legend label, and its run's start time (relative axis)."""

    label: str
    series: Series
    start_wall: float = math.nan
    color: Color | None = None


@dataclass
class _Curve:
    xs: list[float]
    ys: list[float]
    color: Color
    label: str | None
    smoothed: bool = False
    marker: str = "braille"


def render_chart(
    lines: Sequence[ChartLine],
    width: int,
    height: int,
    options: ChartOptions | None = None,
    colors: Sequence[Color] = DEFAULT_COLORS,
    data_lock: AbstractContextManager[Any] | None = None,
) -> str:
    """Draw ``lines`` into a ``width`` x ``height`` ANSI string (plain text if colorless).

    ``data_lock`` is held while the series are read (not while plotext draws), for
    callers whose series grow in another thread.
    """
    import numpy as np

    opts = options or ChartOptions()
    if width < 12 or height < 4:
        return "chart area too small"
    # Values near the float limits overflow in spans and midpoints: those end in the
    # one-line message below, not in warnings on the terminal.
    with np.errstate(all="ignore"):
        try:
            with data_lock or nullcontext():
                curves, message = _curves(lines, width, opts, colors or DEFAULT_COLORS)
        except Exception as exc:  # never let a bad series take the view down
            return f"cannot draw: {display(exc)}"
        if message:
            return message
        try:
            return _draw(curves, width, height, opts)
        except Exception as exc:
            return f"cannot draw: {display(exc)}"


def _curves(
    lines: Sequence[ChartLine], width: int, opts: ChartOptions, colors: Sequence[Color]
) -> tuple[list[_Curve], str | None]:
    import numpy as np

    if opts.x_axis not in X_AXES:
        return [], f"unknown x axis {display(repr(opts.x_axis))}"
    usable = [line for line in lines if line.series.segments]
    if not usable:
        return [], "no data"
    x_hi = max(line.series.last_step for line in usable)
    x_lo = -math.inf
    if opts.last_n_steps:
        x_lo = x_hi - opts.last_n_steps
    buckets = max(8, width)
    weight = min(max(opts.smoothing, 0.0), 0.99)
    show_labels = len(usable) > 1
    curves: list[_Curve] = []
    for index, line in enumerate(usable):
        color = line.color or colors[index % len(colors)]
        segments = (
            line.series.segments[-MAX_SEGMENTS:]
            if opts.all_segments
            else [line.series.segments[-1]]
        )
        for seg_index, seg in enumerate(segments):
            ds = seg.downsample(x_lo, x_hi, buckets)
            if not len(ds):
                continue
            if opts.x_axis == "step":
                xs, ys = ds.envelope("step")
                centers = (ds.x_first + ds.x_last) / 2.0
            else:
                xs, ys = ds.envelope("wall")
                centers = (ds.wall_first + ds.wall_last) / 2.0
                if opts.x_axis == "relative":
                    origin = line.start_wall if math.isfinite(line.start_wall) else 0.0
                    xs, centers = xs - origin, centers - origin
            keep = np.isfinite(xs) & np.isfinite(ys)
            if opts.log_y:
                keep &= ys > 0
            xs, ys = xs[keep], ys[keep]
            if not len(xs):
                continue
            label = line.label if show_labels and seg_index == len(segments) - 1 else None
            if weight > 0:
                means = ds.y_mean
                ok = np.isfinite(means) & np.isfinite(centers)
                smoothed = np.asarray(
                    debiased_ema(means[ok].tolist(), weight**ds.points_per_bucket)
                )
                sx = centers[ok]
                keep_s = np.isfinite(smoothed) & ((smoothed > 0) if opts.log_y else True)
                curves.append(_Curve(xs.tolist(), ys.tolist(), _faint(color), None))
                curves.append(
                    _Curve(sx[keep_s].tolist(), smoothed[keep_s].tolist(), color, label, True)
                )
            else:
                curves.append(_Curve(xs.tolist(), ys.tolist(), color, label))
    if not curves:
        if opts.x_axis != "step" and all(math.isnan(line.series.first_wall) for line in usable):
            return [], "no data: the log has no wall times"
        if opts.log_y:
            return [], "no data: nothing above 0 for a log scale"
        return [], "no data: no finite values"
    return curves, None


def _draw(curves: list[_Curve], width: int, height: int, opts: ChartOptions) -> str:
    import numpy as np
    import plotext as plt

    if opts.log_y:
        # plotext's own log scale mishandles ylim; plot log10 values, label real ones.
        for curve in curves:
            curve.ys = np.log10(np.asarray(curve.ys)).tolist()
    # The raw envelope decides the y range: a spike inflates every smoothed point near
    # it, so percentiles over smoothed points would not ignore it.
    all_y = np.concatenate([np.asarray(c.ys) for c in curves if not c.smoothed])
    all_x = np.concatenate([np.asarray(c.xs) for c in curves])
    y_lo, y_hi = _y_range(all_y, opts.robust_y)
    if not opts.log_y and float(all_y.min()) >= 0:
        y_lo = max(y_lo, 0.0)  # a loss never gets an axis below zero it does not reach
    # The range stretches so that every labelled tick sits on the row it names.
    axis = row_axis(
        y_lo, y_hi, canvas_rows(height), log=opts.log_y, max_ticks=_y_tick_count(height)
    )
    if axis is not None:
        y_lo, y_hi = axis.lo, axis.hi
    # plotext walks every canvas cell between two points: a far-away outlier outside
    # the y limits would cost millions of steps, so pin it just past the edge.
    edge = 0.01 * (y_hi - y_lo)
    for curve in curves:
        curve.ys = np.clip(np.asarray(curve.ys), y_lo - edge, y_hi + edge).tolist()
    x_lo, x_hi = float(all_x.min()), float(all_x.max())
    if x_lo == x_hi:
        x_lo, x_hi = x_lo - 1.0, x_hi + 1.0
    # plotext leaves the whole legend out when a label is wider than the canvas (the
    # width less the y tick labels, up to ~8 cells, the frame and the legend marker);
    # an escaped name is longer than the raw one, so labels are cut to fit instead.
    label_room = max(8, width - _LEGEND_MARGIN)
    fig = new_figure()
    fig.plotsize(width, height)
    fig.theme("clear")
    for curve in curves:
        kwargs: dict[str, Any] = {"marker": curve.marker, "color": curve.color}
        if curve.label:
            kwargs["label"] = display(curve.label, limit=label_room)
        fig.plot(curve.xs, curve.ys, **kwargs)
    fig.ylim(y_lo, y_hi)
    fig.xlim(x_lo, x_hi)
    if opts.x_axis == "step":
        x_ticks = spread_ticks(x_lo, x_hi, 5, integer=True)
        fig.xticks(x_ticks, [_number_label(t) for t in x_ticks])
    else:
        x_ticks = _ticks(x_lo, x_hi, 5)
        fig.xticks(x_ticks, [_time_label(t, opts.x_axis, x_hi - x_lo) for t in x_ticks])
    if axis is not None:
        fig.yticks(list(axis.ticks), list(axis.labels))
    text = fig.build()
    if opts.colorless:
        text = plt.uncolorize(text)
    return text


def _y_range(values: Any, robust: bool) -> tuple[float, float]:
    import numpy as np

    if robust and len(values) >= 10:
        # Nearest real values, not interpolation: one spike among a few dozen
        # buckets must not drag the 99th percentile up with it.
        lo = float(np.percentile(values, 1.0, method="higher"))
        hi = float(np.percentile(values, 99.0, method="lower"))
        span = hi - lo
        lo, hi = lo - 0.1 * span, hi + 0.1 * span
    else:
        lo, hi = float(values.min()), float(values.max())
        span = hi - lo
        lo, hi = lo - 0.02 * span, hi + 0.02 * span
    mid = (lo + hi) / 2.0
    # A flat (or denormal-tiny) range gets a visible pad; plotext's tick maths fails on
    # spans near zero.
    if not (hi - lo > 1e-9 * abs(mid) and hi - lo > 1e-200):
        pad = abs(mid) * 0.1 if abs(mid) > 1e-200 else 1.0
        lo, hi = mid - pad, mid + pad
    return lo, hi


def _y_tick_count(height: int) -> int:
    return max(2, min(5, canvas_rows(height) // 2))


def _ticks(lo: float, hi: float, count: int) -> list[float]:
    return [lo + (hi - lo) * i / (count - 1) for i in range(count)]


def _number_label(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 1e6:
        return f"{value / 1e6:.3g}M"
    if magnitude >= 1e4:
        return f"{value / 1e3:.3g}k"
    return f"{value:.4g}"


def _time_label(value: float, axis: str, span: float) -> str:
    if axis == "wall":
        return time.strftime("%H:%M" if span >= 120 else "%H:%M:%S", time.localtime(value))
    sign = "-" if value < 0 else ""
    value = abs(value)
    if span < 120:
        return f"{sign}{value:.0f}s"
    if span < 7200:
        return f"{sign}{value / 60:.0f}m"
    return f"{sign}{value / 3600:.1f}h"


def _faint(color: Color) -> Color:
    rgb = _NAMED_RGB.get(color, (128, 128, 128)) if isinstance(color, str) else color
    # Halfway to mid-grey reads as "beneath" on dark and light backgrounds alike.
    return tuple(round(c * 0.45 + 128 * 0.55) for c in rgb)  # type: ignore[return-value]


_TRAIN_VAL = (
    ("val_", "train_"),
    ("val/", "train/"),
    ("eval_", "train_"),
    ("eval/", "train/"),
    ("valid_", "train_"),
    ("validation/", "train/"),
)


def paired_metrics(metric: str, available: Sequence[str]) -> list[str]:
    """``metric`` and its train/validation counterparts present in ``available``.

    "loss" pairs with "val_loss"/"eval_loss"; "train/loss" with "val/loss" and so on,
    so one selection draws both curves.
    """
    names = set(available)
    base = metric
    for val_prefix, train_prefix in _TRAIN_VAL:
        for prefix in (val_prefix, train_prefix):
            if metric.startswith(prefix):
                base = metric[len(prefix) :]
                break
        if base != metric:
            break
    found = [metric]
    candidates = [base]
    for val_prefix, train_prefix in _TRAIN_VAL:
        candidates += [val_prefix + base, train_prefix + base]
    for name in candidates:
        if name in names and name not in found:
            found.append(name)
    return found
