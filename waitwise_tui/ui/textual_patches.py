"""One small change to how Textual writes partial screen updates.

Textual repaints only the dirty regions of the screen, but when it writes a region
to the terminal it starts at the left edge of the widget that holds it (its
``ChopsUpdate.render_segments`` crops on the right only; cropping "to x extents"
is noted there as still to do). The GPU monitor is one line-API widget whose changing values sit
mid-line, so every second Textual would rewrite each changed line from column 0.
Cropping on the left too writes only the changed cells: the same bytes a widget per
cell used to cost, at a fraction of the CPU.

Applied once at app start (``install``), for the Textual versions ``pyproject.toml``
admits (``>=8.2,<9``); ``tests/ui/test_textual_patches.py`` pins the behaviour.
"""

from __future__ import annotations

from rich.console import Console
from rich.control import Control
from textual import _compositor
from textual.strip import Strip

_installed = False


def render_segments(self: _compositor.ChopsUpdate, console: Console) -> str:
    """``ChopsUpdate.render_segments``, cropping each chop to the span on both sides."""
    sequences: list[str] = []
    append = sequences.append
    chops = self.chops
    chop_ends = self.chop_ends
    last_y = self.spans[-1][0]
    for y, x1, x2 in self.spans:
        line = chops[y]
        ends = chop_ends[y]
        for end, (x, strip) in zip(ends, line.items(), strict=False):
            if strip is None or x > x2 or end <= x1:
                continue
            if x2 > x >= x1 and end <= x2:
                append(_move_to(x, y))
                append(strip.render(console))
                continue
            start = max(x, x1)
            cropped: Strip = strip.crop(start - x, min(end, x2) - x)
            append(_move_to(start, y))
            append(cropped.render(console))
        if y != last_y:
            append("\n")
    return "".join(sequences)


def _move_to(x: int, y: int) -> str:
    return Control.move_to(x, y).segment.text


def install() -> None:
    """Use the cropping writer (idempotent)."""
    global _installed
    if not _installed:
        _compositor.ChopsUpdate.render_segments = render_segments  # type: ignore[method-assign]
        _installed = True
