"""TensorBoard's debiased exponential moving average, the "smoothing" slider.

Same arithmetic as TensorBoard's scalar dashboard: ``last = last * w + (1 - w) * v``
over finite values only, each output divided by ``1 - w ** n`` (n = finite values so
far) so the start of the curve is not pulled towards zero. A NaN or inf passes through
as itself and does not poison the points after it; a constant series stays constant.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def debiased_ema(values: Iterable[float], weight: float) -> list[float]:
    """Smooth ``values`` with weight ``weight`` in [0, 1) the way TensorBoard does."""
    data = [float(v) for v in values]
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight!r}")
    if not data:
        return []
    # TensorBoard leaves a constant series untouched so float error cannot wiggle it.
    if all(v == data[0] for v in data):
        return data
    out: list[float] = []
    last = 0.0
    count = 0
    for value in data:
        if not math.isfinite(value):
            out.append(value)
            continue
        last = last * weight + (1.0 - weight) * value
        count += 1
        debias = 1.0 - weight**count if weight != 0.0 else 1.0
        out.append(last / debias)
    return out
