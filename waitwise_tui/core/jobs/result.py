"""Reading a finished trial's objective back.

In order: the JSON file the job was given as ``$WAITWISE_RESULT``; the last stdout
line ``WAITWISE_RESULT {...}``; the last value of the metric in the job's own log
(through the run readers). Garbage, a missing metric
or a non-finite value is a failure with a reason the user sees.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

RESULT_FILE = "result.json"
RESULT_ENV = "WAITWISE_RESULT"
STDOUT_MARKER = "WAITWISE_RESULT "
_TAIL_BYTES = 256 * 1024


@dataclass(frozen=True)
class TrialResult:
    value: float | None
    reason: str = ""  # why there is no value
    source: str = ""  # "result file", "stdout", "log"

    @property
    def ok(self) -> bool:
        return self.value is not None


def read_result(jobdir: str | Path, metric: str) -> TrialResult:
    jobdir = Path(jobdir)
    result_path = jobdir / RESULT_FILE
    try:
        text = result_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = None
    except (OSError, UnicodeDecodeError) as exc:
        return TrialResult(None, f"cannot read {RESULT_FILE}: {exc}")
    if text is not None:
        return _from_json(text, metric, "result file")
    line = _last_marker_line(jobdir / "stdout.log")
    if line is not None:
        return _from_json(line, metric, "stdout")
    from_log = _from_log(jobdir / "stdout.log", metric)
    if from_log is not None:
        return from_log
    return TrialResult(None, f"no result: {RESULT_FILE} missing and no WAITWISE_RESULT line")


def _from_json(text: str, metric: str, source: str) -> TrialResult:
    try:
        data = json.loads(text)
    except ValueError:
        snippet = text.strip().replace("\n", " ")[:40]
        return TrialResult(None, f"{source}: not JSON: {snippet!r}")
    if not isinstance(data, dict):
        return TrialResult(None, f"{source}: expected a JSON object")
    if metric not in data:
        return TrialResult(None, f"{source}: metric {metric!r} missing")
    return _finite(data[metric], metric, source)


def _finite(value: object, metric: str, source: str) -> TrialResult:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return TrialResult(None, f"{source}: {metric} is not a number: {value!r}")
    if not math.isfinite(value):
        return TrialResult(None, f"{source}: {metric} is {value}")
    return TrialResult(float(value), source=source)


def _last_marker_line(log_path: Path) -> str | None:
    try:
        with open(log_path, "rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - _TAIL_BYTES))
            tail = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    for line in reversed(tail.splitlines()):
        if line.startswith(STDOUT_MARKER):
            return line[len(STDOUT_MARKER) :]
    return None


def _from_log(log_path: Path, metric: str) -> TrialResult | None:
    """The metric's last value as the run readers see it (None: no such metric)."""
    from waitwise_tui.core.runs.discover import detect_format
    from waitwise_tui.core.runs.model import RunCandidate
    from waitwise_tui.core.runs.readers import read_all

    fmt = detect_format(log_path, lenient=True)
    if fmt is None:
        return None
    try:
        update = read_all(RunCandidate(str(log_path), fmt, log_path.parent.name))
    except (OSError, ValueError):
        return None
    # Points follow columns in log order: the last value is a point's if any has one.
    values = [point.value for point in update.points if point.metric == metric]
    if not values:
        values = [float(c.values[-1]) for c in update.columns if c.metric == metric and len(c)]
    if not values:
        return None
    return _finite(values[-1], metric, "log")
