"""Small changes to Textual's internals that cut the app's idle CPU.

Partial screen updates, twice:

Textual repaints only the dirty regions of the screen, but when it writes a region
to the terminal it starts at the left edge of the widget that holds it (its
``ChopsUpdate.render_segments`` crops on the right only; cropping "to x extents"
is noted there as still to do). The GPU monitor is one line-API widget whose changing values sit
mid-line, so every second Textual would rewrite each changed line from column 0.
Cropping on the left too writes only the changed cells: the same bytes a widget per
cell used to cost, at a fraction of the CPU.

Before that, to paint a partial update Textual renders every widget whose *clip*
(its parent's visible area) overlaps the dirty area, and each one whole: the footer,
the tab pane and the run panel were rendered, all their lines, every time a GPU
reading changed, and then thrown away. ``get_renders`` renders only the widgets
that overlap the dirty area, and only the lines it spans (full width, so the strips
still line up with the compositor's cuts). What reaches the screen is the same.

And the terminal input thread (``LinuxDriver``): Textual's waits in ``select`` with
a 0.1 s timeout so that it notices, ten times a second, whether the app is exiting
or a lone Escape has waited long enough. That was 0.15-0.2 % of a core, as much as
a bare Textual app's whole idle. ``run_input_thread`` here sleeps until input
arrives, the parser's own deadline (the Escape key) passes, or the exit event is set
(``WakingEvent`` makes a pipe readable then), and at most ``INPUT_IDLE_WAKE_S``.

Applied once at app start (``install``), and only on the exact Textual versions they
were tested on (``TESTED_VERSIONS``): these functions replace private ones, and a
Textual release may change what they stand in for. Any other version keeps Textual's
own behaviour (slower at idle, the same on screen); ``tests/ui/test_textual_patches.py``
pins the patched behaviour and compares it with Textual's own.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import threading
from codecs import getincrementaldecoder
from collections.abc import Iterable

from rich.console import Console
from rich.control import Control
from textual.geometry import Region
from textual.strip import Strip

try:  # private modules: another Textual may have moved them (then nothing is patched)
    from textual import _compositor
    from textual._loop import loop_last
    from textual._parser import ParseError
    from textual._time import get_time
    from textual._xterm_parser import XTermParser
    from textual.drivers.linux_driver import LinuxDriver
except ImportError:  # pragma: no cover - only on an untested Textual
    _PRIVATE_IMPORTS = False
else:
    _PRIVATE_IMPORTS = True

# The input thread wakes at least this often even with nothing to do (a safety net:
# the exit event wakes it at once).
INPUT_IDLE_WAKE_S = 1.0

# Textual versions these patches were written against and tested on. Add a version
# only after the tests in tests/ui/test_textual_patches.py pass on it.
TESTED_VERSIONS = frozenset({"8.2.8"})

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


_original_get_renders = _compositor.Compositor._get_renders if _PRIVATE_IMPORTS else None


def get_renders(
    self: _compositor.Compositor, crop: Region | None = None
) -> Iterable[tuple[Region, Region, list[Strip]]]:
    """``Compositor._get_renders``, skipping widgets outside ``crop`` and lines above
    or below it."""
    if crop is None:
        yield from _original_get_renders(self, crop)
        return
    intersection = Region.intersection
    crop_overlaps = crop.overlaps
    top, bottom = crop.y, crop.bottom
    for widget, (region, clip) in self.visible_widgets.items():
        visible = intersection(region, clip)
        if not crop_overlaps(visible):
            continue
        y1, y2 = max(visible.y, top), min(visible.bottom, bottom)
        band = Region(clip.x, y1, clip.width, y2 - y1)
        x, y, width, height = intersection(region, band)
        yield region, band, widget.render_lines(Region(x - region.x, y - region.y, width, height))


class WakingEvent(threading.Event):
    """A ``threading.Event`` that also makes a pipe readable when set, so a thread
    blocked in ``select`` on ``fileno()`` wakes up."""

    def __init__(self) -> None:
        super().__init__()
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)

    def fileno(self) -> int:
        return self._read

    def set(self) -> None:
        super().set()
        with contextlib.suppress(OSError):  # a full pipe is already readable
            os.write(self._write, b"x")

    def drain(self) -> None:
        with contextlib.suppress(OSError):
            os.read(self._read, 512)

    def __del__(self) -> None:
        for fd in (self._read, self._write):
            with contextlib.suppress(OSError):
                os.close(fd)


_original_driver_init = LinuxDriver.__init__ if _PRIVATE_IMPORTS else None


def driver_init(self: LinuxDriver, *args: object, **kwargs: object) -> None:
    _original_driver_init(self, *args, **kwargs)  # type: ignore[arg-type]
    self.exit_event = WakingEvent()


def run_input_thread(self: LinuxDriver) -> None:
    """``LinuxDriver.run_input_thread``, sleeping until there is something to do."""
    wake = self.exit_event if isinstance(self.exit_event, WakingEvent) else None
    fileno = self.fileno
    selector = selectors.SelectSelector()
    selector.register(fileno, selectors.EVENT_READ)
    if wake is not None:
        selector.register(wake.fileno(), selectors.EVENT_READ)
    parser = XTermParser(self._debug)
    feed, tick = parser.feed, parser.tick
    decode = getincrementaldecoder("utf-8")().decode

    def process(events: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
        reads = [key for key, mask in events if mask & selectors.EVENT_READ]
        if wake is not None and any(key.fd == wake.fileno() for key in reads):
            wake.drain()
        for last, _key in loop_last([key for key in reads if key.fd == fileno]):
            data = decode(os.read(fileno, 1024 * 4), final=final and last)
            if not data:  # stdin is a pipe that ended
                break
            for event in feed(data):
                self.process_message(event)
        for event in tick():
            self.process_message(event)

    def timeout() -> float:
        if wake is None:
            return 0.1  # no way to be woken: Textual's own polling
        deadline = parser._timeout_time
        if deadline is None:
            return INPUT_IDLE_WAKE_S
        return min(INPUT_IDLE_WAKE_S, max(0.0, deadline - get_time()))

    try:
        while not self.exit_event.is_set():
            process(selector.select(timeout()))
        selector.unregister(fileno)
        process(selector.select(0.1), final=True)
    finally:
        selector.close()
        with contextlib.suppress(EOFError, ParseError):
            for _event in feed(""):
                pass


def _move_to(x: int, y: int) -> str:
    return Control.move_to(x, y).segment.text


def textual_version() -> str:
    from importlib.metadata import version

    return version("textual")


def supported(version: str | None = None) -> bool:
    """Whether the patches apply to this Textual (or ``version``)."""
    return _PRIVATE_IMPORTS and (version or textual_version()) in TESTED_VERSIONS


def install() -> bool:
    """Use the patched writer, renderer and input thread (idempotent). Returns whether
    they are in use: on an untested Textual nothing is replaced."""
    global _installed
    if not _installed and supported():
        _compositor.ChopsUpdate.render_segments = render_segments  # type: ignore[method-assign]
        _compositor.Compositor._get_renders = get_renders  # type: ignore[method-assign]
        LinuxDriver.__init__ = driver_init  # type: ignore[method-assign]
        LinuxDriver.run_input_thread = run_input_thread  # type: ignore[method-assign]
        _installed = True
    return _installed
