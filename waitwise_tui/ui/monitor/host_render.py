"""Host rows of the system monitor: CPU (with compact per-core cells), memory, disk, net.

Values that need two polls (CPU %, rates) are ``None`` on the first one and show as N/A.
Cells follow ``gpu_render``'s rules: stable widths for values that move.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content

from waitwise_tui.core import fmt
from waitwise_tui.core.gpu.host import HostInfo
from waitwise_tui.ui.monitor.gpu_render import (
    ELLIPSIS,
    NA,
    SPARK_CHARS,
    Row,
    bar,
    bar_cells,
    fit,
    level_style,
    num,
    pad,
)


def per_core_cells(values: Sequence[float] | None, width: int) -> Content:
    """One cell per core; cores are averaged in groups (marked …) when they do not fit."""
    if not values or width <= 1:
        return Content("")
    group = -(-len(values) // (width - 1)) if len(values) > width else 1
    cells = []
    for start in range(0, len(values), group):
        chunk = values[start : start + group]
        level = round(max(0.0, min(100.0, sum(chunk) / len(chunk))) / 100 * (len(SPARK_CHARS) - 1))
        cells.append(SPARK_CHARS[level])
    text = "".join(cells) + (ELLIPSIS if group > 1 else "")
    return Content.assemble((text, "$accent"))


def _rate(value: float | None) -> str:
    return NA if value is None else f"{fmt.size(value, compact=True)}/s"


def _fraction(used: int | None, total: int | None) -> float | None:
    if used is None or not total:
        return None
    return used / total


def _used_of(used: int | None, total: int | None) -> str:
    return f"{fmt.size(used, compact=True)}/{fmt.size(total, compact=True)}"


def host_rows(host: HostInfo, width: int, compact: bool) -> list[Row]:
    cpu_fraction = host.cpu_percent / 100 if host.cpu_percent is not None else None
    mem_fraction = _fraction(host.memory_used_bytes, host.memory_total_bytes)
    swap_fraction = _fraction(host.swap_used_bytes, host.swap_total_bytes)
    disk_used = (
        None
        if host.disk_free_bytes is None or host.disk_total_bytes is None
        else host.disk_total_bytes - host.disk_free_bytes
    )
    disk_fraction = _fraction(disk_used, host.disk_total_bytes)
    cpu_value = pad(f" {num(host.cpu_percent, '.0f', '%')}", 5, right=True)
    ram = _used_of(host.memory_used_bytes, host.memory_total_bytes)
    disk_free = Content.assemble(
        "disk free ",
        (fmt.size(host.disk_free_bytes, compact=True), level_style(disk_fraction, 0.85, 0.95)),
    )
    load_1m = pad(num(host.load_1m, ".2f"), 5, right=True)
    if compact:
        return [
            fit(
                [
                    [Content("CPU "), bar(cpu_fraction, 5, "$primary"), cpu_value],
                    [Content("load "), load_1m],
                    f"RAM {ram}",
                ],
                width,
                sep=" ",
            ),
            fit(
                [
                    disk_free,
                    [Content("io "), pad(_rate(host.disk_read_bytes_per_s), 8, right=True)],
                    pad(_rate(host.disk_write_bytes_per_s), 8, right=True),
                    [Content("net "), pad(_rate(host.net_rx_bytes_per_s), 8, right=True)],
                    pad(_rate(host.net_tx_bytes_per_s), 8, right=True),
                ],
                width,
                sep=" ",
            ),
        ]
    bar_width = max(4, min(20, width // 8))
    cores_room = max(0, width - bar_width - 45)
    load = [
        Content("load "),
        load_1m,
        pad(num(host.load_5m, ".2f"), 6, right=True),
        pad(num(host.load_15m, ".2f"), 6, right=True),
    ]
    cpu_row = fit(
        [
            [
                Content.assemble(("CPU  ", "$text-muted")),
                *bar_cells(cpu_fraction, bar_width, "$primary"),
                cpu_value,
            ],
            load,
            per_core_cells(host.per_cpu_percent, cores_room),
        ],
        width,
    )
    mem_row = fit(
        [
            [
                Content.assemble(("RAM  ", "$text-muted")),
                *bar_cells(mem_fraction, bar_width, level_style(mem_fraction)),
                Content(" " + ram),
            ],
            Content.assemble(
                "swap ",
                (
                    _used_of(host.swap_used_bytes, host.swap_total_bytes),
                    level_style(swap_fraction, 0.5, 0.8) if host.swap_total_bytes else "",
                ),
            ),
            Content.assemble(disk_free, f" of {fmt.size(host.disk_total_bytes, compact=True)}"),
        ],
        width,
    )
    io_row = fit(
        [
            [
                Content.assemble(("IO   ", "$text-muted"), "disk read "),
                pad(_rate(host.disk_read_bytes_per_s), 8, right=True),
            ],
            [Content("write "), pad(_rate(host.disk_write_bytes_per_s), 8, right=True)],
            [Content("net rx "), pad(_rate(host.net_rx_bytes_per_s), 8, right=True)],
            [Content("tx "), pad(_rate(host.net_tx_bytes_per_s), 8, right=True)],
        ],
        width,
    )
    return [cpu_row, mem_row, io_row]
