"""``waitwise-tui runs PATH... [--json]``: read training logs once and summarise them.

With no PATH the workspace (``-w``) is scanned. Each run is read whole, fed through
the same series and health code as the monitor, and printed as a table or as the
``{"runs": [...]}`` JSON document of ``core.runs.report``.
"""

from __future__ import annotations

import argparse
import json
import sys

from waitwise_tui.commands import CliError, add_workspace_argument, runs_settings
from waitwise_tui.core.runs.model import ReadUpdate, RunCandidate


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="training logs or run dirs")
    add_workspace_argument(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")


class _ReadOnce:
    """A tail that returns the whole run on its first poll and nothing after."""

    def __init__(self, candidate: RunCandidate) -> None:
        self.candidate = candidate
        self._done = False

    def poll(self) -> ReadUpdate:
        if self._done:
            return ReadUpdate()
        self._done = True
        from waitwise_tui.core.runs.readers import read_all

        return read_all(self.candidate)

    def close(self) -> None:
        self._done = True


def run(args: argparse.Namespace) -> int:
    from waitwise_tui.core.runs.monitor import RunMonitor
    from waitwise_tui.core.runs.report import format_table, runs_report
    from waitwise_tui.core.runs.totals import TotalStore
    from waitwise_tui.core.workspace import Workspace

    # Writers are looked up as the app does, so both give the same status for a run.
    # The same thresholds and stored totals as the app.
    settings = runs_settings(
        args, lambda problem: print(f"waitwise-tui: {problem}", file=sys.stderr)
    )
    monitor = RunMonitor(
        args.workspace,
        args.paths,
        open_tail=_ReadOnce,
        health=settings.health_config(),
        totals=TotalStore(Workspace(args.workspace).db_path),
    )
    try:
        snapshot = monitor.poll()
    finally:
        monitor.close()
    if monitor.scan_error:
        raise CliError(monitor.scan_error)
    report = runs_report(snapshot)
    if args.json:
        print(json.dumps(report, indent=2, allow_nan=False))
    else:
        print(format_table(report))
    return 0
