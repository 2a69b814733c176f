"""The system monitor panel alone, full screen, for bench/bench_monitor.py.

    python bench/monitor_app.py [--whole-line] [--interval SECONDS]

NVML comes from ``$WAITWISE_FAKE_NVML`` (the testing hook); ``--whole-line`` makes
each row one cell, so any change repaints its whole line (the baseline).
"""

from __future__ import annotations

import argparse
import tempfile

from textual.app import App, ComposeResult
from textual.content import Content

from waitwise_tui.config import Settings
from waitwise_tui.core.workspace import Workspace
from waitwise_tui.ui import textual_patches
from waitwise_tui.ui.context import AppContext
from waitwise_tui.ui.monitor.gpu_render import Row
from waitwise_tui.ui.monitor.system import SystemMonitor


class WholeLineMonitor(SystemMonitor):
    """The baseline: each row collapsed into one cell, so any change repaints its line."""

    def build_rows(self, width: int) -> list[Row]:
        return [[Content("").join(row)] if row else [] for row in super().build_rows(width)]


class MonitorApp(App):
    def __init__(self, ctx: AppContext, whole_line: bool) -> None:
        super().__init__()
        textual_patches.install()  # as the app does
        self.ctx = ctx
        self.whole_line = whole_line

    def compose(self) -> ComposeResult:
        yield (WholeLineMonitor if self.whole_line else SystemMonitor)(self.ctx)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--whole-line", action="store_true")
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ctx = AppContext(Workspace(tmp), Settings(interval=args.interval))
        MonitorApp(ctx, args.whole_line).run()
