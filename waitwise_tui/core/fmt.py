"""The one home of how durations, steps and sizes are written, everywhere in the app.

One style, compact enough for a table cell at 80 columns: ``45s``, ``3m07s``,
``2h05m``, ``3d04h`` (the two largest units, the second zero-padded); steps as whole
numbers with thousands separators (``12,000``); sizes in binary units (``1.5 GiB``,
``1.5G`` compact). A value that is not known is written as ``missing`` (``–`` unless a
caller's column says otherwise), never as 0.
"""

from __future__ import annotations

import math

MISSING = "–"


def duration(seconds: float | None, *, minutes: bool = False, missing: str = MISSING) -> str:
    """``seconds`` as ``45s`` / ``3m07s`` / ``2h05m`` / ``3d04h``.

    With ``minutes`` the smallest unit is the minute (``0m``, ``3m``): a cell that
    should change once a minute, not at every poll.
    """
    if seconds is None or not math.isfinite(seconds):
        return missing
    total = max(0, int(seconds) if minutes else round(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    mins, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{mins:02d}m"
    if minutes:
        return f"{mins}m"
    if mins:
        return f"{mins}m{secs:02d}s"
    return f"{secs}s"


def step(value: float | None, *, missing: str = MISSING) -> str:
    """A training step or epoch: ``12,000``, or ``2.5`` for a fractional epoch."""
    if value is None or not math.isfinite(value):
        return missing
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0")


_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def size(value: float | None, *, compact: bool = False, missing: str = "N/A") -> str:
    """Bytes as ``12.3 GiB`` (``12.3G`` when compact)."""
    if value is None or not math.isfinite(value):
        return missing
    unit = 0
    while abs(value) >= 1024 and unit < len(_UNITS) - 1:
        value /= 1024
        unit += 1
    name = _UNITS[unit][0] if compact else _UNITS[unit]
    sep = "" if compact else " "
    if unit == 0:
        return f"{value:.0f}{sep}{name}"
    return f"{value:.1f}{sep}{name}" if value < 100 else f"{value:.0f}{sep}{name}"


def step_rate(steps_per_second: float | None, *, missing: str = MISSING) -> str:
    """Steps/s for fast runs, s/step for slow ones (how people speak of each)."""
    if steps_per_second is None or not steps_per_second > 0 or steps_per_second == float("inf"):
        return missing
    if steps_per_second >= 1.0:
        return f"{steps_per_second:.3g} steps/s"
    return f"{1.0 / steps_per_second:.3g} s/step"
