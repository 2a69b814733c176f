"""Entry point ``waitwise-tui``: the TUI by default, headless subcommands by name.

Heavy modules (textual, pandas, hyperopt, plotext, pynvml) are imported only inside
the code path that needs them; ``tests/core/test_import_hygiene.py`` checks this.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from waitwise_tui import __version__
from waitwise_tui.commands import (
    ArgumentParser,
    CliError,
    add_workspace_argument,
    check_workspace,
    positive_float,
)
from waitwise_tui.core.text import display

# name -> (module under waitwise_tui.commands, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "gpu": ("gpu", "print a GPU + host snapshot (--json, --watch SECONDS)"),
    "runs": ("runs", "summarise training logs: [PATH...] [--json]"),
    "demo": ("demo", "start a small CPU training run to watch [--minutes M] [--json]"),
    "alt": (
        "alternatives",
        "reading list: add ID_OR_URL, list [--json], import, export",
    ),
    "notes": ("notes", "notes: list [--json], add TEXT, export [--since DATE]"),
    "data": ("data", "profile a dataset: PATH [--sep S] [--json] [--save]"),
    "test": ("testing", "run a project's tests [--json] [-- ARGS], or: generate PROFILE.json"),
    "tune": ("tuner", "hyperparameter studies: run STUDY.toml, status [--json]"),
    "jobs": ("jobs", "detached jobs: submit -- CMD, list [--json], cancel ID, logs ID"),
    "watch": ("watch", "watch runs headless, notify, print each event: [PATH...] [--json]"),
    "notify": ("notify", "notification channels: test [--url URL] [--json]"),
}

TAB_NAMES = ("tuner", "alternatives", "data", "tests", "notes")


def app_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="waitwise-tui",
        description="Terminal companion for the wait while a model trains.",
        epilog="subcommands:\n"
        + "\n".join(f"  {name:<10} {help_}" for name, (_, help_) in SUBCOMMANDS.items())
        + "\n\nRun 'waitwise-tui SUBCOMMAND --help' for a subcommand's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="training logs or run directories to monitor"
    )
    add_workspace_argument(parser)
    parser.add_argument("--theme", metavar="NAME", help="colour theme (saved as the default)")
    parser.add_argument("--tab", metavar="NAME", help=f"open on a tab: {', '.join(TAB_NAMES)}")
    parser.add_argument(
        "--interval", type=positive_float, metavar="SECONDS", help="monitor refresh (default 1)"
    )
    parser.add_argument("--data", metavar="PATH", help="dataset to open in the data tab")
    parser.add_argument("--project", metavar="DIR", help="project whose tests the tests tab runs")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in SUBCOMMANDS:
            return run_subcommand(argv[0], argv[1:])
        return run_app(argv)
    except CliError as exc:
        print(f"waitwise-tui: {display(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `waitwise-tui gpu --watch 1 | head`: the reader left; exit quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def run_subcommand(name: str, argv: list[str]) -> int:
    module_name, help_ = SUBCOMMANDS[name]
    module = importlib.import_module(f"waitwise_tui.commands.{module_name}")
    parser = ArgumentParser(prog=f"waitwise-tui {name}", description=help_)
    module.add_arguments(parser)
    args = parser.parse_args(argv)
    return int(module.run(args) or 0)


def run_app(argv: list[str]) -> int:
    args = app_parser().parse_args(argv)
    check_workspace(args.workspace)
    if args.tab is not None and args.tab not in TAB_NAMES:
        raise CliError(f"unknown tab {args.tab!r}; tabs: {', '.join(TAB_NAMES)}")
    # A path that does not exist yet is waited for: the monitor is often started first.
    from waitwise_tui.ui.app import build_app

    app = build_app(args)
    app.run()
    return int(app.return_code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
