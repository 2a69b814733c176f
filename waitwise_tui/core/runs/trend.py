"""Is a loss curve still improving, flat, or diverging? Judged on its smoothed shape.

The curve is first reduced to at most ``BUCKETS`` bucket means (exact, from the
series' aggregate levels, so the cost does not grow with the run) and smoothed with an
EMA; the verdicts rest on that smoothed curve, never on single noisy points:

- plateau: the run has at least ``min_points`` points; over the last ``fraction`` of
  the curve (at least ``min_window`` buckets) the smoothed value improved by less than
  ``eps`` (relative), and the least-squares drop over that window is below ``eps``
  even at the top of its two-standard-error interval (a curve still falling, or too
  noisy to tell, is no plateau).
- divergence: after ``warmup_points``, the latest smoothed value exceeds ``factor``
  times the best smoothed value seen.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from waitwise_tui.core.runs.series import Segment

BUCKETS = 256
SMOOTHING = 0.8  # EMA weight on the bucket means


@dataclass(frozen=True)
class Verdict:
    """A finding and the numbers it rests on (``message`` for the alert)."""

    fired: bool
    message: str = ""


def bucket_means(seg: Segment, buckets: int = BUCKETS) -> Any:
    """Means of the finite values in up to ``buckets`` equal slices of ``seg``."""
    import numpy as np

    n = len(seg)
    if n <= buckets:
        values = np.asarray(seg.values.view, dtype="float64")
        return values[np.isfinite(values)]
    edges = np.linspace(0, n, buckets + 1).astype(int)
    means = []
    for lo, hi in itertools.pairwise(edges):
        _lo, _hi, total, count = seg.aggregate(int(lo), int(hi))
        if count:
            means.append(total / count)
    return np.asarray(means, dtype="float64")


def smooth(values: Any, weight: float = SMOOTHING) -> Any:
    """Debiased EMA (TensorBoard's), as a numpy array."""
    import numpy as np

    from waitwise_tui.core.runs.smoothing import debiased_ema

    return np.asarray(debiased_ema(values.tolist(), weight), dtype="float64")


def plateau(
    seg: Segment, *, min_points: int, fraction: float, min_window: int, eps: float
) -> Verdict:
    import numpy as np

    if len(seg) < min_points:
        return Verdict(False)
    means = bucket_means(seg)
    if len(means) < 2 * min_window:
        return Verdict(False)
    curve = smooth(means)
    window = max(min_window, int(len(curve) * fraction))
    start, end = float(curve[-window]), float(curve[-1])
    if start == 0 or not (math.isfinite(start) and math.isfinite(end)):
        return Verdict(False)
    improvement = (start - end) / abs(start)
    if improvement > eps:
        return Verdict(False)
    recent = means[-window:]
    x = np.arange(len(recent), dtype="float64")
    slope, intercept = np.polyfit(x, recent, 1)
    residual = recent - (slope * x + intercept)
    spread = float(np.sqrt(np.sum(residual**2) / max(1, len(recent) - 2)))
    stderr = spread / math.sqrt(float(np.sum((x - x.mean()) ** 2)) or 1.0)
    # Flat only if even the upper end of the drop's confidence interval is small: a
    # curve still falling beyond its noise, or too noisy to tell, is no plateau.
    drop_high = (-float(slope) + 2.0 * stderr) * (len(recent) - 1)
    if drop_high > eps * abs(start):
        return Verdict(False)
    share = round(fraction * 100)
    return Verdict(
        True,
        f"plateau: smoothed value moved {max(improvement, 0.0) * 100:.2g}% over the last "
        f"{share}% of the run (< {eps * 100:.2g}%), no significant downward trend",
    )


def divergence(seg: Segment, *, warmup_points: int, factor: float) -> Verdict:
    import numpy as np

    if len(seg) < warmup_points:
        return Verdict(False)
    means = bucket_means(seg)
    if len(means) < 4:
        return Verdict(False)
    curve = smooth(means)
    # The first bucket is the warm-up's own noise: the best is looked for after it.
    best = float(np.min(curve[1:]))
    latest = float(curve[-1])
    if best <= 0 or not math.isfinite(latest) or latest <= factor * best:
        return Verdict(False)
    return Verdict(
        True, f"diverging: smoothed {latest:.4g} is {latest / best:.1f}x its best {best:.4g}"
    )
