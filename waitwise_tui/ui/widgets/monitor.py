"""``SystemMonitor``: the GPU + host panel and its poller.

A thread worker takes one ``SystemSnapshot`` and posts it; the handler renders and
only then schedules the next poll, so polls never overlap and the event loop never
waits on NVML or psutil. The panel is a column of one-line widgets, each a row of
cell widgets: each poll re-renders the rows as ``Content`` cells and repaints only
the cells that changed, so steady state writes little to the terminal.

Backends: ``ctx.backends["nvml"]`` (a pynvml-shaped module), else the
``$WAITWISE_FAKE_NVML`` testing hook, else the real pynvml. ``ctx.backends["host"]``
may hold a host source with ``sample() -> HostInfo`` (tests freeze host values with it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import RenderResult
from textual.content import Content
from textual.message import Message
from textual.widget import Widget

from waitwise_tui.core.gpu import SystemSampler, SystemSnapshot, nvml_from_env
from waitwise_tui.ui.widgets.gpu_render import (
    History,
    Row,
    fit,
    gpu_compact_row,
    gpu_rows,
    header_row,
    process_rows,
    row_plain,
)
from waitwise_tui.ui.widgets.host_render import host_rows

if TYPE_CHECKING:
    from textual.events import Resize

    from waitwise_tui.ui.context import AppContext

COMPACT_BELOW = 70  # columns; narrower panes get one line per GPU
COMPACT_PROCESSES = 3  # processes listed when the app asks for compact rendering
HISTORY_SECONDS = 300.0


class MonitorCell(Widget):
    """One cell of a row, exactly as wide as its content."""

    DEFAULT_CSS = """
    MonitorCell { height: 1; }
    """

    def __init__(self, content: Content) -> None:
        super().__init__()
        self.content = content
        self.styles.width = content.cell_length

    def set_content(self, content: Content) -> bool:
        """Show ``content``; False when it is what is shown already (nothing repainted)."""
        if content.is_same(self.content):
            return False
        if content.cell_length != self.content.cell_length:
            self.styles.width = content.cell_length
        self.content = content
        self.refresh()
        return True

    def render(self) -> RenderResult:
        return self.content


class MonitorLine(Widget):
    """One line of the panel: a row of cells, each repainted only when it changes."""

    DEFAULT_CSS = """
    MonitorLine { height: 1; width: 1fr; layout: horizontal; }
    """

    def __init__(self, row: Row) -> None:
        self._cells = [MonitorCell(content) for content in row]
        self._used = len(row)
        super().__init__(*self._cells)

    @property
    def plain(self) -> str:
        return row_plain([cell.content for cell in self._cells[: self._used]])

    def set_row(self, row: Row) -> int:
        """Show ``row`` (the line must be mounted); returns cells repainted or added.

        A row that loses cells (a field came and went) blanks the spare cells at
        their width instead of removing them: removing or resizing a cell costs a
        layout pass of the whole screen, blanking costs a repaint of the cell.
        """
        cells = self._cells
        changed = sum(cell.set_content(content) for cell, content in zip(cells, row, strict=False))
        if len(row) > len(cells):
            new = [MonitorCell(content) for content in row[len(cells) :]]
            self._cells = cells + new
            self.mount_all(new)
            changed += len(new)
        for cell in cells[len(row) :]:
            changed += cell.set_content(Content(" " * cell.content.cell_length))
        self._used = len(row)
        return changed


class SystemMonitor(Widget):
    """GPU blocks, GPU process table and host lines, updated by its own poller."""

    DEFAULT_CSS = """
    SystemMonitor {
        height: 1fr;
        overflow-y: auto;
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
    }
    """

    class SnapshotReady(Message, bubble=False):
        """A poll finished. Replaces an unhandled predecessor when the UI is slow."""

        def __init__(self, snapshot: SystemSnapshot | None, problem: str | None) -> None:
            super().__init__()
            self.snapshot = snapshot
            self.problem = problem

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, SystemMonitor.SnapshotReady)

    def __init__(self, ctx: AppContext, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.ctx = ctx
        self.latest_snapshot: SystemSnapshot | None = None
        # Set by the app when the monitor shares the height with the tabs.
        self.force_compact = False
        self.tight = False  # also drop the process table and blank rows
        self.interval = max(0.1, float(ctx.settings.interval))
        self._sampler: SystemSampler | None = None
        self._setup_problem: str | None = None
        self._poll_problem: str | None = None
        self._labels: dict[int, str] = {}
        self._capacity = max(10, int(HISTORY_SECONDS / self.interval))
        self._util: dict[int, History] = {}
        self._mem: dict[int, History] = {}
        self._lines: list[MonitorLine] = []
        self.repaints = 0  # cells repainted or added so far (tests read it)

    # -- polling ------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._poll()

    def _make_sampler(self) -> SystemSampler:
        nvml: Any = self.ctx.backends.get("nvml")
        if nvml is None:
            try:
                nvml = nvml_from_env()
            except ValueError as exc:
                self._setup_problem = str(exc)
        return SystemSampler(
            nvml, host=self.ctx.backends.get("host"), disk_path=self.ctx.workspace.root
        )

    @work(thread=True, exclusive=True, group="system-monitor", exit_on_error=False)
    def _poll(self) -> None:
        try:
            if self._sampler is None:
                self._sampler = self._make_sampler()
            snapshot = self._sampler.sample()
        except Exception as exc:  # a poll must never take the app down; say why instead
            self.post_message(self.SnapshotReady(None, f"monitor poll failed: {exc}"))
            return
        self.post_message(self.SnapshotReady(snapshot, None))

    def on_system_monitor_snapshot_ready(self, message: SystemMonitor.SnapshotReady) -> None:
        self._poll_problem = message.problem
        if message.snapshot is not None:
            self._record(message.snapshot)
        self._render_lines()
        self.set_timer(self.interval, self._poll)

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
        problem = self._setup_problem or self._poll_problem
        if snapshot is None:
            text = problem or "sampling GPUs and host…"
            return [fit([Content.assemble((text, "$error" if problem else "$text-muted"))], width)]
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
                rows += process_rows(processes, snapshot.gpus, self._labels, width, compact)
                more = f"… {hidden} more GPU processes (widen the terminal to see all)"
                rows.append(fit([Content.assemble((more, "$text-muted"))], width))
            else:
                rows += process_rows(processes, snapshot.gpus, self._labels, width, compact)
            rows.append([])
        rows += host_rows(snapshot.host, width, compact)
        return rows

    def _render_lines(self) -> None:
        width = self.scrollable_content_region.width
        if width <= 0:
            return
        if not all(line.is_mounted for line in self._lines):
            # Lines added by the last render are still mounting; render once they are.
            self.call_after_refresh(self._render_lines)
            return
        rows = self.build_rows(width)
        for line, row in zip(self._lines, rows, strict=False):
            self.repaints += line.set_row(row)
        if len(rows) > len(self._lines):
            new = [MonitorLine(row) for row in rows[len(self._lines) :]]
            self._lines += new
            self.repaints += sum(len(row) for row in rows[len(rows) - len(new) :])
            self.mount_all(new)
        elif len(rows) < len(self._lines):
            extra, self._lines = self._lines[len(rows) :], self._lines[: len(rows)]
            self.remove_children(extra)
