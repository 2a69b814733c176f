"""Row rendering for the system monitor: bars, sparklines, GPU blocks, process table.

A panel line is a ``Row``: a list of ``Content`` cells that tile the line left to
right. The panel shows each cell in its own widget because Textual writes a changed
widget from that widget's left edge: a moving number then costs its own few cells,
not the whole line. Volatile values are padded to stable widths so cells keep their
places from poll to poll.

Rows already fit the given width: fields are dropped whole and replaced by an
ellipsis, so nothing is cut mid-word. Colours are theme variables only. Text from
outside (GPU names, driver version, NVML errors, user names, command lines, run labels)
goes through ``outside``: control characters shown escaped (``Content`` is never read
as markup, but it keeps ESC, which would reach the terminal), and widths are measured
on what is shown.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from textual.content import Content

from waitwise_tui.core import fmt
from waitwise_tui.core.text import display

if TYPE_CHECKING:
    from waitwise_tui.core.gpu.sampler import GpuInfo, GpuProcess, NvmlStatus

Row = list[Content]
# A field is one cell, or a group of cells that fit() keeps or drops together.
Field = Content | str | Sequence[Content]

SPARK_CHARS = "▁▂▃▄▅▆▇█"
_PARTIAL_BLOCKS = " ▏▎▍▌▋▊▉"
ELLIPSIS = "…"
NA = "N/A"
# Above this many rows the table ends with a "+N more" line (the panel scrolls anyway).
MAX_PROCESS_ROWS = 30
# Room kept for throttle reasons, so their coming and going does not re-lay the row.
REASONS_WIDTH = 21


class History:
    """The last ``capacity`` values of one series, with an absolute sample count.

    The count lets the sparkline bucket samples by absolute position, so a cell's
    bucket never changes once full and the line scrolls only once per bucket.
    """

    def __init__(self, capacity: int) -> None:
        self.values: deque[float] = deque(maxlen=max(1, capacity))
        self.count = 0

    def add(self, value: float | None) -> None:
        if value is None:
            return
        self.values.append(value)
        self.count += 1


def outside(text: object, style: str = "", *, limit: int | None = 500) -> Content:
    """Text from outside the program as a cell: escapes visible, never a control."""
    shown = display(text, limit=limit)
    return Content.assemble((shown, style)) if style else Content(shown)


def row_plain(row: Row) -> str:
    return "".join(cell.plain for cell in row)


def sparkline(history: History, width: int, top: float = 100.0) -> Content:
    """``width`` cells covering the whole capacity; newest bucket on the right."""
    if width <= 0:
        return Content("")
    per_cell = max(1, math.ceil((history.values.maxlen or 1) / width))
    first = history.count - len(history.values)
    buckets: dict[int, float] = {}
    for offset, value in enumerate(history.values):
        bucket = (first + offset) // per_cell
        buckets[bucket] = max(buckets.get(bucket, 0.0), value)
    if not buckets:
        return Content(" " * width)
    last = max(buckets)
    cells = []
    for bucket in range(last - width + 1, last + 1):
        value = buckets.get(bucket)
        if value is None:
            cells.append(" ")
        else:
            level = round(max(0.0, min(1.0, value / top)) * (len(SPARK_CHARS) - 1))
            cells.append(SPARK_CHARS[level])
    return Content.assemble(("".join(cells), "$accent"))


def chunked(content: Content, chunk: int) -> Row:
    """``content`` cut into ``chunk``-wide cells, so a local change repaints one cell."""
    return [content[start : start + chunk] for start in range(0, content.cell_length, chunk)]


def bar(fraction: float | None, width: int, style: str) -> Content:
    """A horizontal bar with eighth-cell resolution; an empty track when unknown."""
    if width <= 0:
        return Content("")
    if fraction is None:
        return Content.assemble(("·" * width, "$text-muted"))
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, part = divmod(eighths, 8)
    filled = "█" * full + (_PARTIAL_BLOCKS[part] if part else "")
    return Content.assemble((filled, style), ("·" * (width - len(filled)), "$text-muted"))


def bar_cells(fraction: float | None, width: int, style: str, chunk: int = 5) -> Row:
    """The bar cut into ``chunk``-wide cells: a moving level repaints one or two cells."""
    return chunked(bar(fraction, width, style), chunk)


def level_style(fraction: float | None, warn: float = 0.75, bad: float = 0.9) -> str:
    if fraction is None:
        return "$text-muted"
    if fraction >= bad:
        return "$error"
    if fraction >= warn:
        return "$warning"
    return "$success"


def _cells(field: Field) -> Row:
    if isinstance(field, str):
        return [Content(field)] if field else []
    if isinstance(field, Content):
        return [field] if field.cell_length else []
    return [cell for cell in field if cell.cell_length]


def fit(fields: Iterable[Field], width: int, sep: str = "  ") -> Row:
    """Cells of the fields that fit in ``width``, ``sep`` leading each later field;
    an ellipsis cell replaces the fields dropped at the end."""
    groups = [cells for cells in map(_cells, fields) if cells]
    if width <= 0 or not groups:
        return []
    first = groups[0]
    used = sum(cell.cell_length for cell in first)
    if used > width:
        return [Content("").join(first).truncate(width, ellipsis=True)]
    row = list(first)
    for index, group in enumerate(groups[1:], start=1):
        size = len(sep) + sum(cell.cell_length for cell in group)
        is_last = index == len(groups) - 1
        room = width - used if is_last else width - used - len(sep) - 1
        if size > room:
            if used + len(sep) + 1 <= width:
                row.append(Content(sep + ELLIPSIS))
            return row
        row.append(Content(sep) + group[0])
        row.extend(group[1:])
        used += size
    return row


def pad(content: Content | str, width: int, right: bool = False) -> Content:
    """Aligned in exactly ``width`` cells (truncated with an ellipsis when longer)."""
    content = content if isinstance(content, Content) else Content(content)
    if content.cell_length > width:
        return content.truncate(width, ellipsis=True)
    gap = width - content.cell_length
    return content.pad_left(gap) if right else content.pad_right(gap)


def num(value: float | None, fmt: str = "d", suffix: str = "") -> str:
    return NA if value is None else f"{value:{fmt}}{suffix}"


def short_name(name: str | None) -> str:
    if not name:
        return "GPU"
    return name.removeprefix("NVIDIA ").removeprefix("GeForce ")


HOST_ONLY = "host only: "


def header_row(status: NvmlStatus, gpu_count: int, width: int, problem: str | None) -> Row:
    fields: list[Field] = []
    if problem:
        fields.append(outside("⚠ " + problem, "$error"))
    # "host only" comes first, so a narrow panel that cuts the reason keeps it.
    if not status.ok:
        fields.append(outside(f"⚠ {HOST_ONLY}{status.error or 'NVML unavailable'}", "$warning"))
    else:
        if gpu_count == 0:
            fields.append(outside(f"⚠ {HOST_ONLY}NVML sees no GPU", "$warning"))
        fields += [
            Content.assemble(("NVML", "$success bold")),
            outside(f"driver {status.driver or NA}"),
            f"{gpu_count} GPU{'s' if gpu_count != 1 else ''}",
        ]
    if status.cuda_visible_devices is not None:
        fields.append(outside(f"CUDA_VISIBLE_DEVICES={status.cuda_visible_devices}"))
    return fit(fields, width)


def _mem_fraction(gpu: GpuInfo) -> float | None:
    if gpu.memory_used_bytes is None or not gpu.memory_total_bytes:
        return None
    return gpu.memory_used_bytes / gpu.memory_total_bytes


def _temp(gpu: GpuInfo) -> Content:
    if gpu.temperature_c is None:
        return pad(f"{NA}°C", 6)
    style = "$error" if gpu.temperature_c >= 85 else "$warning" if gpu.temperature_c >= 75 else ""
    return pad(Content.assemble((f"{gpu.temperature_c}°C", style)), 5, right=True)


def _power(gpu: GpuInfo) -> Content:
    if gpu.power_w is None and gpu.power_limit_w is None:
        return pad(f"{NA} W", 9, right=True)
    return pad(f"{num(gpu.power_w, '.0f')}/{num(gpu.power_limit_w, '.0f')} W", 9, right=True)


def _reasons(gpu: GpuInfo, width: int = 0) -> Content:
    """Throttle reasons in words, padded to ``width`` so the cell keeps its size."""
    if gpu.throttle_reasons is None:
        return Content(f"throttle {NA}")
    if not gpu.throttle_reasons:
        return Content("")  # nothing to show, and no ellipsis when it does not fit
    words = display(", ".join(gpu.throttle_reasons))
    style = "$text-muted" if gpu.throttle_reasons == ("idle",) else "$warning"
    return pad(Content.assemble((words, style)), max(width, len(words)))


def _clocks(gpu: GpuInfo) -> str:
    if gpu.sm_clock_mhz is None and gpu.memory_clock_mhz is None:
        return f"clk {NA}"
    return f"clk {num(gpu.sm_clock_mhz)}/{num(gpu.memory_clock_mhz)}MHz"


def _title(gpu: GpuInfo) -> Content:
    return Content.assemble((f"{gpu.index} ", "$primary bold"), outside(short_name(gpu.name)))


def gpu_error_row(gpu: GpuInfo, width: int) -> Row:
    return fit([_title(gpu), outside(f"ERROR: {gpu.error}", "$error bold")], width)


def _mem_text(gpu: GpuInfo) -> str:
    return (
        f"{fmt.size(gpu.memory_used_bytes, compact=True)}"
        f"/{fmt.size(gpu.memory_total_bytes, compact=True)}"
    )


def gpu_rows(gpu: GpuInfo, util: History | None, mem: History | None, width: int) -> list[Row]:
    """Three rows: identity and sensors, utilisation bar + sparkline, memory likewise."""
    if gpu.error:
        return [gpu_error_row(gpu, width)]
    ecc = (
        ""
        if gpu.ecc_uncorrected is None
        else Content.assemble(
            (f"ECC {gpu.ecc_uncorrected}", "$error" if gpu.ecc_uncorrected else "")
        )
    )
    head = fit(
        [
            _title(gpu),
            _temp(gpu),
            _power(gpu),
            f"P{gpu.pstate}" if gpu.pstate is not None else f"P-state {NA}",
            pad(f"fan {num(gpu.fan_percent, 'd', '%')}", 8),
            pad(_clocks(gpu), 16),
            ecc,
            _reasons(gpu, REASONS_WIDTH),
        ],
        width,
    )
    label_width, value_width = 7, 13
    body = max(0, width - label_width - value_width)
    bar_width = max(4, min(30, body * 2 // 5))
    # At most 30 cells: a cell then holds >= 10 s of the ~5 minutes of history, so the
    # whole sparkline shifts (and repaints) at most every 10 s.
    spark_width = max(0, min(30, body - bar_width - 1))
    util_fraction = gpu.util_percent / 100 if gpu.util_percent is not None else None
    mem_fraction = _mem_fraction(gpu)
    rows = []
    for label, fraction, style, value, history in (
        ("util", util_fraction, "$primary", pad(num(gpu.util_percent, "d", "%"), 5, True), util),
        ("mem", mem_fraction, level_style(mem_fraction), pad(_mem_text(gpu), 12, True), mem),
    ):
        row = [
            Content.assemble((f"  {label:<5}", "$text-muted")),
            *bar_cells(fraction, bar_width, style),
            value,
            Content(" " * (value_width - value.cell_length)),
        ]
        if history is not None and spark_width:
            row += chunked(sparkline(history, spark_width), 10)
        rows.append(fit([row], width))
    return [head, *rows]


def gpu_compact_row(gpu: GpuInfo, width: int) -> Row:
    """One row per GPU for narrow panes."""
    if gpu.error:
        return gpu_error_row(gpu, width)
    util_fraction = gpu.util_percent / 100 if gpu.util_percent is not None else None
    mem_fraction = _mem_fraction(gpu)
    return fit(
        [
            _title(gpu),
            [
                bar(util_fraction, 5, "$primary"),
                pad(f" {num(gpu.util_percent, 'd', '%')}", 5, right=True),
            ],
            [bar(mem_fraction, 5, level_style(mem_fraction)), Content(" " + _mem_text(gpu))],
            _temp(gpu),
            pad(f"{num(gpu.power_w, '.0f')} W", 5, right=True),
            _reasons(gpu),
        ],
        width,
        sep=" ",
    )


def _user_cell(proc: GpuProcess) -> Content:
    if not proc.visible:
        return Content.assemble(("other ns", "$text-muted italic"))
    return outside(proc.user or NA)


def process_rows(
    processes: Sequence[GpuProcess],
    gpus: Iterable[GpuInfo],
    labels: Mapping[int, str],
    width: int,
    compact: bool,
    cache: dict[tuple[Any, ...], Row] | None = None,
) -> list[Row]:
    """A header row and one row per process, in the caller's order (GPU memory).

    ``cache`` (kept by the caller between polls) maps what a row shows to the row:
    most processes show the same values from one poll to the next. It is left holding
    this call's rows only."""
    rows: list[Row] = []
    unsupported = [g.index for g in gpus if g.processes is None and not g.error]
    if unsupported:
        which = ", ".join(str(i) for i in unsupported)
        text = f"GPU {which}: process list {NA}"
        rows.append(fit([Content.assemble((text, "$text-muted"))], width))
    if not processes:
        rows.append(fit([Content.assemble(("no GPU processes", "$text-muted"))], width))
        return rows
    if compact:
        columns = (("", 1), ("PID", 8), ("GPU", 4), ("MEM", 7))
    else:
        columns = (
            ("", 1),
            ("PID", 8),
            ("USER", -11),
            ("GPU", 4),
            ("GPU-MEM", 8),
            ("SM%", 5),
            ("CPU%", 6),
            ("RSS", 8),
            ("TIME", 7),
        )
    # A negative width is a left-aligned column after a one-space gap.
    head = "".join(" " + name.ljust(-w - 1) if w < 0 else name.rjust(w) for name, w in columns)
    rows.append(fit([Content.assemble((f"{head} COMMAND", "$text-muted bold"))], width))
    used_rows: dict[tuple[Any, ...], Row] = {}
    for proc in processes[:MAX_PROCESS_ROWS]:
        label = labels.get(proc.pid)
        shown = (
            proc.pid,
            proc.gpu_index,
            proc.gpu_memory_bytes,
            proc.sm_percent,
            proc.user,
            proc.command,
            num(proc.cpu_percent, ".0f"),
            fmt.size(proc.rss_bytes, compact=True),
            fmt.duration(proc.elapsed_s, minutes=True, missing=NA),
            proc.own,
            proc.visible,
            label,
            width,
            compact,
        )
        cached = cache.get(shown) if cache is not None else None
        if cached is None:
            cached = _process_row(proc, label, width, compact)
        used_rows[shown] = cached
        rows.append(cached)
    if cache is not None:
        cache.clear()
        cache.update(used_rows)
    hidden = len(processes) - MAX_PROCESS_ROWS
    if hidden > 0:
        rows.append(fit([Content.assemble((f"+{hidden} more processes", "$text-muted"))], width))
    return rows


def _process_row(proc: GpuProcess, label: str | None, width: int, compact: bool) -> Row:
    """One process line: marker, pid, user, GPU, memory, SM %, CPU %, RSS, time, command."""
    row = [Content.assemble(("●", "$success")) if proc.own else Content(" ")]
    row.append(pad(str(proc.pid), 8, right=True))
    if not compact:
        row.append(Content(" ") + pad(_user_cell(proc), 10))
    row.append(pad(str(proc.gpu_index), 4, right=True))
    row.append(pad(fmt.size(proc.gpu_memory_bytes, compact=True), 7 if compact else 8, True))
    if not compact:
        row += [
            pad(num(proc.sm_percent), 5, right=True),
            pad(num(proc.cpu_percent, ".0f"), 6, right=True),
            pad(fmt.size(proc.rss_bytes, compact=True), 8, right=True),
            pad(fmt.duration(proc.elapsed_s, minutes=True, missing=NA), 7, right=True),
        ]
    used = sum(cell.cell_length for cell in row)
    tail: list[Content] = []
    if label:
        tail.append(outside(label, "$primary bold"))
    if proc.command:
        tail.append(outside(proc.command, limit=max(width, 1)))
    elif not proc.visible:
        tail.append(Content.assemble(("(another PID namespace)", "$text-muted")))
    room = width - used - 1
    if tail and room > 1:
        row.append(Content(" ") + Content(" ").join(tail).truncate(room, ellipsis=True))
    return fit([row], width)
