"""``waitwise-tui demo``: start a small real CPU training run to watch (detached)."""

from __future__ import annotations

import argparse
import json

from waitwise_tui.commands import add_workspace_argument, check_workspace, positive_float
from waitwise_tui.core.text import display


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_workspace_argument(parser)
    length = parser.add_mutually_exclusive_group()
    length.add_argument(
        "--minutes", type=positive_float, default=3.0, help="how long it trains (default 3)"
    )
    length.add_argument("--seconds", type=positive_float, help="length in seconds (for tests)")
    parser.add_argument("--json", action="store_true", help='print {"pid", "path"}')


def run(args: argparse.Namespace) -> int:
    from waitwise_tui.core.runs.demo import start_demo

    check_workspace(args.workspace)
    seconds = args.seconds if args.seconds is not None else args.minutes * 60.0
    pid, path = start_demo(args.workspace, seconds=seconds)
    if args.json:
        print(json.dumps({"pid": pid, "path": path}))
    else:
        shown = display(str(path))
        print(f"demo training run started (pid {pid}), logging to {shown}")
        print(f"watch it with: waitwise-tui {shown}")
    return 0
