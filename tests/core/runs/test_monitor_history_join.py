"""History parts are joined per metric before they reach the series."""

from __future__ import annotations

import math

import numpy as np

from waitwise_tui.core.runs import monitor
from waitwise_tui.core.runs.model import Column


def _col(metric: str, start: int, n: int, walls: bool = True) -> Column:
    steps = np.arange(start, start + n, dtype="float64")
    return Column(metric, steps, steps * 0.5, steps + 1e9 if walls else None)


def test_joined_keeps_each_metric_in_order_and_walls() -> None:
    parts = []
    for k in range(40):  # interleaved metrics, some parts without wall times
        parts.append(_col("loss", k * 10, 10, walls=k % 3 != 0))
        parts.append(_col("lr", k * 5, 5))
        parts.append(_col("empty", 0, 0))
    joined = monitor._joined(parts)
    by_metric: dict[str, list[Column]] = {}
    for column in joined:
        by_metric.setdefault(column.metric, []).append(column)
    assert set(by_metric) == {"loss", "lr"}
    assert len(by_metric["loss"]) == math.ceil(40 / monitor._JOIN)
    steps = np.concatenate([c.steps for c in by_metric["loss"]])
    assert steps.tolist() == list(range(400))
    walls = np.concatenate([c.walls for c in by_metric["loss"]])
    missing = [k for k in range(40) if k % 3 == 0]
    assert np.isnan(walls).sum() == 10 * len(missing)
    assert np.isnan(walls[:10]).all() and walls[10] == 10 + 1e9
    lr = np.concatenate([c.values for c in by_metric["lr"]])
    assert lr.tolist() == [s * 0.5 for s in range(200)]


def test_joined_all_without_walls_stays_without() -> None:
    joined = monitor._joined([_col("x", 0, 3, walls=False), _col("x", 3, 3, walls=False)])
    assert len(joined) == 1 and joined[0].walls is None
    assert joined[0].steps.tolist() == [0, 1, 2, 3, 4, 5]
