"""``SystemMonitor``: the GPU + host panel, a view of the live readings.

``ui/live.py`` samples GPUs and host on its poller thread and sends each
``SystemSnapshot`` here as ``SystemUpdated``; the next poll waits until this panel has
handled it, so polls never overlap and the event loop never waits on NVML or psutil.
The runs readings (``RunsUpdated``) label GPU processes with the run they write.
The panel is one line-API widget: each poll re-renders the rows as ``Content`` cells
and refreshes only the regions whose cells changed, so steady state costs little CPU
and writes little to the terminal.

Tests replace the sources through ``ctx.fakes`` (nvml, host, or a whole sampler).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.segment import Segment
from textual import on
from textual.content import Content
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from waitwise_tui.ui.messages import RunsUpdated, SystemUpdated
from waitwise_tui.ui.monitor.gpu_render import (
    History,
    Row,
    fit,
    gpu_compact_row,
    gpu_rows,
    header_row,
    outside,
    process_rows,
    row_plain,
)
from waitwise_tui.ui.monitor.host_render import host_rows

if TYPE_CHECKING:
    from textual.events import Resize

    from waitwise_tui.core.gpu.sampler import SystemSnapshot
    from waitwise_tui.ui.context import AppContext

COMPACT_BELOW = 70  # columns; narrower panes get one line per GPU
COMPACT_PROCESSES = 3  # processes listed when the app asks for compact rendering
HISTORY_SECONDS = 300.0
CELL_CACHE_SIZE = 4096  # rendered cells kept (the whole panel is a few hundred)


def dirty_spans(old: Row | None, new: Row) -> list[tuple[int, int]]:
    """Cell ranges ``(x, width)`` where ``new`` differs from ``old`` on screen.

    Cells are compared in place, so a value that changes repaints only its own
    columns; a row that grows or shrinks repaints from the first difference on.
    """
    if old is None:
        return [(0, sum(c.cell_length for c in new))] if new else []
    spans: list[tuple[int, int]] = []
    x = 0
    for index, cell in enumerate(new):
        if index >= len(old):
            rest = sum(c.cell_length for c in new[index:])
            spans.append((x, rest))
            return spans
        before = old[index]
        if before.cell_length != cell.cell_length:
            # Everything right of here moved: repaint to the longer of the two ends.
            old_end = sum(c.cell_length for c in old)
            new_end = sum(c.cell_length for c in new)
            spans.append((x, max(old_end, new_end) - x))
            return spans
        if cell is not before and not cell.is_same(before):
            if spans and spans[-1][0] + spans[-1][1] == x:
                spans[-1] = (spans[-1][0], spans[-1][1] + cell.cell_length)
            else:
                spans.append((x, cell.cell_length))
        x += cell.cell_length
    if len(old) > len(new):
        old_end = sum(c.cell_length for c in old)
        if old_end > x:
            spans.append((x, old_end - x))
    return spans


class SystemMonitor(ScrollView):
    """GPU blocks, GPU process table and host lines, updated by the live readings.

    One widget drawn line by line (Textual's line API): each poll builds the rows,
    compares them cell by cell with what is shown and refreshes only the screen
    regions that changed, so a steady second costs a few small repaints, not a
    restyle of dozens of widgets.
    """

    HELP_TITLE = "GPU and host (when the monitor has focus)"

    DEFAULT_CSS = """
    SystemMonitor {
        height: 1fr;
        overflow-y: auto;
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(self, ctx: AppContext, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.ctx = ctx
        self.latest_snapshot: SystemSnapshot | None = None
        # Set by the app when the monitor shares the height with the tabs.
        self.force_compact = False
        self.tight = False  # also drop the process table and blank rows
        self.interval = max(0.1, float(ctx.settings.interval))
        self._problem: str | None = None  # why the last reading is missing or partial
        self._labels: dict[int, str] = {}
        self._capacity = max(10, int(HISTORY_SECONDS / self.interval))
        self._util: dict[int, History] = {}
        self._mem: dict[int, History] = {}
        self._rows: list[Row] = []
        self._strips: dict[int, Strip] = {}  # rendered rows, dropped when a row changes
        self._cell_segments: dict[tuple[Any, ...], list[Segment]] = {}
        self._process_rows: dict[tuple[Any, ...], Row] = {}  # see process_rows
        self._width = 0
        self._base: tuple[Any, Any] | None = None  # (visual style, rich style)
        self.repaints = 0  # cells repainted so far (tests read it)

    # -- live readings ----------------------------------------------------------------

    def on_mount(self) -> None:
        # Starts the sampler's poller: its modules import on that thread, so the first
        # frame (the "sampling" line) does not wait for them. The runs are only
        # listened to: the run panel starts their poller once it is mounted.
        self.ctx.live.subscribe_system(self)
        self.ctx.live.subscribe_runs(self, start=False)

    def on_unmount(self) -> None:
        self.ctx.live.unsubscribe(self)

    def _poll(self) -> None:
        """Sample now rather than at the end of the current interval."""
        self.ctx.live.poll_system()

    @on(SystemUpdated)
    def _system_updated(self, message: SystemUpdated) -> None:
        self._problem = message.problem
        if message.snapshot is not None:
            self._record(message.snapshot)
        self._render_lines()

    @on(RunsUpdated)
    def _runs_updated(self, message: RunsUpdated) -> None:
        if message.snapshot is not None:
            runs = message.snapshot.runs
            self.set_process_labels({run.writer_pid: run.name for run in runs if run.writer_pid})

    def _record(self, snapshot: SystemSnapshot) -> None:
        self.latest_snapshot = snapshot
        for gpu in snapshot.gpus:
            if gpu.error:
                continue
            util = self._util.setdefault(gpu.index, History(self._capacity))
            mem = self._mem.setdefault(gpu.index, History(self._capacity))
            util.add(gpu.util_percent)
            if gpu.memory_used_bytes is not None and gpu.memory_total_bytes:
                mem.add(100.0 * gpu.memory_used_bytes / gpu.memory_total_bytes)

    # -- public -------------------------------------------------------------------------

    def set_process_labels(self, mapping: Mapping[int, str]) -> None:
        """Label GPU processes (pid -> run name) in the process table."""
        if dict(mapping) != self._labels:
            self._labels = dict(mapping)
            self._render_lines()

    # -- rendering ----------------------------------------------------------------------

    def on_resize(self, event: Resize) -> None:
        self._render_lines()

    def set_compact(self, compact: bool, *, tight: bool = False) -> None:
        """Force one line per GPU and a short process list (or go back to auto);
        ``tight`` also folds the process table into one line."""
        if (compact, tight) != (self.force_compact, self.tight):
            self.force_compact = compact
            self.tight = tight
            self._render_lines()

    def build_rows(self, width: int) -> list[Row]:
        """The panel's rows for a width (what the line widgets will show)."""
        snapshot = self.latest_snapshot
        problem = self._problem
        if snapshot is None:
            if problem:  # an exception's text: it may quote a path or a driver message
                return [fit([outside(problem, "$error")], width)]
            return [fit([Content.assemble(("sampling GPUs and host…", "$text-muted"))], width)]
        compact = self.force_compact or width < COMPACT_BELOW
        rows = [header_row(snapshot.nvml, len(snapshot.gpus), width, problem)]
        for gpu in snapshot.gpus:
            if compact:
                rows.append(gpu_compact_row(gpu, width))
            else:
                rows += gpu_rows(gpu, self._util.get(gpu.index), self._mem.get(gpu.index), width)
        if not self.tight:
            rows.append([])
        if snapshot.nvml.ok and self.tight:
            # Little height: one summary line instead of the process table.
            processes = snapshot.processes
            mine = sum(1 for p in processes if p.own)
            summary = (
                f"{len(processes)} GPU processes ({mine} yours)"
                if processes
                else "no GPU processes"
            )
            rows.append(fit([Content.assemble((summary, "$text-muted"))], width))
        elif snapshot.nvml.ok:
            processes = snapshot.processes
            if self.force_compact and len(processes) > COMPACT_PROCESSES:
                # Stacked layout: the run panel below needs the rows more.
                hidden = len(processes) - COMPACT_PROCESSES
                processes = processes[:COMPACT_PROCESSES]
                rows += process_rows(
                    processes, snapshot.gpus, self._labels, width, compact, self._process_rows
                )
                more = f"… {hidden} more GPU processes (widen the terminal to see all)"
                rows.append(fit([Content.assemble((more, "$text-muted"))], width))
            else:
                rows += process_rows(
                    processes, snapshot.gpus, self._labels, width, compact, self._process_rows
                )
            rows.append([])
        rows += host_rows(snapshot.host, width, compact)
        return rows

    @property
    def plain_lines(self) -> list[str]:
        """What the panel shows, one string per line."""
        return [row_plain(row) for row in self._rows]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if not self._rows and self.latest_snapshot is None:
            return 1  # the "sampling" line, painted before the first Resize builds rows
        return super().get_content_height(container, viewport, width)

    def _render_lines(self) -> None:
        width = self.scrollable_content_region.width
        if width <= 0:
            return
        rows = self.build_rows(width)
        old = self._rows
        if width != self._width or len(rows) != len(old):
            # A new width or line count: everything moves, draw it all again.
            self._width = width
            self._rows = rows
            self._strips.clear()
            self.repaints += sum(len(row) for row in rows)
            self.virtual_size = Size(width, len(rows))
            self.refresh()
            return
        scroll_y = self.scroll_offset.y
        for y, row in enumerate(rows):
            spans = dirty_spans(old[y], row)
            if not spans:
                continue
            self._strips.pop(y, None)
            self.repaints += sum(
                1
                for cell_old, cell_new in zip(old[y], row, strict=False)
                if cell_new is not cell_old and not cell_new.is_same(cell_old)
            ) + abs(len(row) - len(old[y]))
            for x, span in spans:
                self.refresh(Region(x, y - scroll_y, span, 1))
        self._rows = rows

    def render_line(self, y: int) -> Strip:
        index = y + self.scroll_offset.y
        width = self.scrollable_content_region.width
        if self._base is None:  # computing these walks the DOM: once per style change
            self._base = (self.visual_style, self.rich_style)
        base, blank = self._base
        rows = self._rows
        if not rows and self.latest_snapshot is None:
            # The first frame paints before the Resize that builds the rows: show the
            # "sampling" line in it rather than a frame (~17 ms) later.
            rows = self.build_rows(width)
        if index >= len(rows):
            return Strip.blank(width, blank)
        strip = self._strips.get(index)
        if strip is None:
            # The same path Textual takes for Content: theme variables ("$error")
            # resolved by the widget, each span on top of the widget's own style.
            # Most cells of a changed row did not change (labels, bar chunks): their
            # segments come from a cache keyed by text and spans.
            parse = self._get_style
            cache = self._cell_segments
            if len(cache) > CELL_CACHE_SIZE:
                cache.clear()
            segments: list[Segment] = []
            for cell in rows[index]:
                key = (cell.plain, tuple(cell.spans))
                cell_segments = cache.get(key)
                if cell_segments is None:
                    cell_segments = cache[key] = [
                        Segment(text, (base + style).rich_style)
                        for text, style in cell.render(base, end="", parse_style=parse)
                    ]
                segments += cell_segments
            strip = Strip(segments).extend_cell_length(width, blank).crop(0, width)
            self._strips[index] = strip
        return strip

    def notify_style_update(self) -> None:
        # A theme change restyles the cells: drop the rendered rows.
        super().notify_style_update()
        self._base = None
        self._strips.clear()
        self._cell_segments.clear()
