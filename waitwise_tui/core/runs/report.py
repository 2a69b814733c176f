"""The headless summary of runs: the ``runs --json`` document and its text table.

JSON has no NaN or infinity, so a non-finite ``first``/``last`` value is written as
``null`` (the NaN itself is reported as an alert); ``min``/``max`` cover finite values
only and are ``null`` when a metric has none.
"""

from __future__ import annotations

import math
from typing import Any

from waitwise_tui.core import fmt
from waitwise_tui.core.runs.monitor import RunInfo, RunsSnapshot
from waitwise_tui.core.text import display

# A metric name wider than this is cut in the table (the JSON keeps it whole), so one
# huge name cannot widen every row.
NAME_WIDTH = 80


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def run_report(run: RunInfo) -> dict[str, Any]:
    """One run as a JSON-safe dict."""
    return {
        "name": run.name,
        "path": run.path,
        "format": run.format,
        "status": run.status,
        "status_reason": run.status_reason,
        "writer_pid": run.writer_pid,
        "progress": _finite(run.progress),
        "eta_seconds": _finite(run.eta_seconds),
        "last_step": _finite(run.last_step),
        "step_rate": _finite(run.step_rate),
        "metrics": {
            m.name: {
                "count": m.count,
                "first": _finite(m.first),
                "last": _finite(m.last),
                "min": _finite(m.min),
                "max": _finite(m.max),
                "last_step": _finite(m.last_step),
            }
            for m in run.metrics
        },
        "alerts": [
            {"kind": a.kind, "metric": a.metric, "step": _finite(a.step), "message": a.message}
            for a in run.alerts
        ],
        "error": run.error,
        "tracker_status": run.tracker_status,
        "details": dict(run.details),
    }


def runs_report(snapshot: RunsSnapshot) -> dict[str, Any]:
    """``{"runs": [...]}`` for every run in ``snapshot``."""
    return {"runs": [run_report(run) for run in snapshot.runs]}


def _cell(value: float | None) -> str:
    if value is None:
        return "-"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"


def format_table(report: dict[str, Any]) -> str:
    """A readable plain-text rendering of :func:`runs_report`'s document.

    Names, paths, errors and alert messages come from the logs: they are shown through
    ``display``, so an escape sequence in a metric name prints as ``\\x1b[2J``.
    """
    runs = report["runs"]
    if not runs:
        return "no training runs found"
    blocks: list[str] = []
    for run in runs:
        progress = "-" if run["progress"] is None else f"{run['progress'] * 100:.1f}%"
        head = (
            f"{display(run['name'])}  [{display(run['format'])}]  {display(run['status'])}  "
            f"progress {progress}  eta {fmt.duration(run['eta_seconds'], missing='-')}\n"
            f"  {display(run['path'])}"
        )
        if run["status_reason"]:
            head += f"\n  {display(run['status'])}: {display(run['status_reason'])}"
        rows = [("metric", "count", "last", "min", "max", "last step")]
        for name, m in run["metrics"].items():
            rows.append(
                (
                    display(name, limit=NAME_WIDTH),
                    str(m["count"]),
                    _cell(m["last"]),
                    _cell(m["min"]),
                    _cell(m["max"]),
                    _cell(m["last_step"]),
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = [head]
        lines += [
            "  "
            + "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
            for row in rows
        ]
        if run["error"]:
            lines.append(f"  error: {display(run['error'])}")
        if run.get("tracker_status"):
            lines.append(f"  tracker status: {display(run['tracker_status'])}")
        lines += [
            f"  {display(k, limit=NAME_WIDTH)} = {display(v, limit=NAME_WIDTH)}"
            for k, v in run.get("details", {}).items()
        ]
        lines += [f"  ! {display(a['kind'])}: {display(a['message'])}" for a in run["alerts"]]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
