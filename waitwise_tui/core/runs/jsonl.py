"""JSON-lines metric logs: one object per line, numeric values are metrics.

x comes from a step-like key (step, global_step, iter, iteration, epoch, ...) or a
line counter; nested objects are flattened with ``/``; booleans and strings are not
metrics. ``NaN``/``Infinity`` tokens are accepted (Python's json reads them).

A line whose top-level ``"event"`` or ``"status"`` is one of ``END_EVENTS``
(case-insensitive), e.g. ``{"event": "finished"}``, is the run's end marker: it sets
``ReadUpdate.finished``. Its numeric items are still points.
"""

from __future__ import annotations

import json

from waitwise_tui.core.runs.keys import STEP_KEY_SET, STEP_KEYS, WALL_TIME_KEYS
from waitwise_tui.core.runs.model import Point, ReadUpdate, RunCandidate
from waitwise_tui.core.runs.tail import LineTail

END_EVENTS = frozenset({"finished", "done", "completed", "end"})
_END_KEYS = ("event", "status")


def flatten(obj: dict, prefix: str = "") -> dict[str, float]:
    """Numeric leaves of ``obj`` keyed by their ``/``-joined path."""
    out: dict[str, float] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "/"))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = float(value)
    return out


def is_end_marker(obj: dict) -> bool:
    """Whether a log line's object says the run ended (see ``END_EVENTS``)."""
    for key in _END_KEYS:
        value = obj.get(key)
        if isinstance(value, str) and value.strip().lower() in END_EVENTS:
            return True
    return False


def _json_object(line: bytes) -> dict | None:
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


class JsonlTail(LineTail):
    """Tails one JSON-lines file; a huge one opens tail first."""

    tail_first = True

    def __init__(self, candidate: RunCandidate) -> None:
        super().__init__(candidate)
        self._count = 0

    def _restart_lines(self) -> None:
        self._count = 0

    def _skipped(self, nbytes: int, sample: bytes) -> None:
        # Without a step key x is the line count: estimate it until the history is in.
        self._count += self._estimate_lines(nbytes, sample)

    def _lines(self, lines: list[bytes], update: ReadUpdate) -> None:
        for line in lines:
            obj = _json_object(line)
            if obj is None:
                continue
            if is_end_marker(obj):
                update.finished = True
            items = flatten(obj)
            if not items:
                continue
            lowered = {k.lower(): k for k in items}
            step_key = next((lowered[k] for k in STEP_KEYS if k in lowered), None)
            step = items[step_key] if step_key is not None else float(self._count)
            self._count += 1
            wall_key = next((k for k in items if k.lower() in WALL_TIME_KEYS), None)
            wall = items[wall_key] if wall_key is not None else None
            update.points.extend(
                Point(k, step, v, wall)
                for k, v in items.items()
                if k.lower() not in STEP_KEY_SET and k.lower() not in WALL_TIME_KEYS
            )
