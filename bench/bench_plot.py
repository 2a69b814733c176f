"""Benchmark: one chart frame of a 10M-point series versus a 10k-point one.

The series store answers a frame with about one bucket per column from its min/max
pyramid, so the frame time should not depend on the number of points: the target is
10M <= 1.2x 10k at the same size (100x30). Times are the median of several frames,
plain and with smoothing; building the series (the one-off ingest) is not timed.

Run: ``python bench/bench_plot.py [BIG_POINTS]``.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from waitwise_tui.core.runs.chart import ChartLine, ChartOptions, render_chart
from waitwise_tui.core.runs.series import Series

WIDTH, HEIGHT, FRAMES = 100, 30, 15


def make_series(n: int) -> Series:
    rng = np.random.default_rng(0)
    steps = np.arange(n, dtype="float64")
    # Bounded noise: the min/max envelope then has the same height at both sizes, so
    # plotext draws the same number of cells and the comparison isolates our side.
    values = 2.0 * np.exp(-steps / (n / 4)) + 0.3 + rng.uniform(-0.1, 0.1, n)
    series = Series("loss")
    # Append in chunks as a tail would, so the pyramid is built incrementally.
    for lo in range(0, n, 1_000_000):
        series.append(steps[lo : lo + 1_000_000], values[lo : lo + 1_000_000])
    return series


def frame_time(series: Series, options: ChartOptions) -> float:
    line = [ChartLine("loss", series)]
    render_chart(line, WIDTH, HEIGHT, options)
    times = []
    for _ in range(FRAMES):
        start = time.perf_counter()
        render_chart(line, WIDTH, HEIGHT, options)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def query_time(series: Series) -> float:
    """Just the series side of a frame: the downsample query and envelope."""
    seg = series.segments[-1]
    times = []
    for _ in range(FRAMES):
        start = time.perf_counter()
        seg.downsample(-np.inf, np.inf, WIDTH).envelope()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    big_n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    small = make_series(10_000)
    start = time.perf_counter()
    big = make_series(big_n)
    print(f"built {big_n:,} points in {time.perf_counter() - start:.1f} s (not timed below)")
    for label, options in (
        ("plain", ChartOptions()),
        ("smoothing 0.9", ChartOptions(smoothing=0.9)),
        ("last 1000 steps", ChartOptions(last_n_steps=1000)),
    ):
        t_small, t_big = frame_time(small, options), frame_time(big, options)
        print(
            f"{label:<16} 10k: {t_small * 1e3:6.1f} ms   {big_n / 1e6:g}M: {t_big * 1e3:6.1f} ms"
            f"   ratio {t_big / t_small:.2f} (target <= 1.2)"
        )
    q_small, q_big = query_time(small), query_time(big)
    print(
        f"{'query only':<16} 10k: {q_small * 1e3:6.2f} ms   {big_n / 1e6:g}M: {q_big * 1e3:6.2f} ms"
        f"   ratio {q_big / q_small:.2f}"
    )


if __name__ == "__main__":
    main()
