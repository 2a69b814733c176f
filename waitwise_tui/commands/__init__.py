"""Headless CLI subcommands, one module each.

Each module has ``add_arguments(parser)`` and ``run(args) -> int``. ``cli.py`` lists
them by name and imports a module only when its subcommand runs, so start-up stays
cheap. Output for scripts goes to stdout (``--json``); problems go to stderr as one
line and a non-zero exit code.

What every subcommand shares lives here (the error type, the parser class, the
workspace option); ``cli.py`` imports it too, and no subcommand imports ``cli``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

from waitwise_tui.core.text import display

if TYPE_CHECKING:
    from waitwise_tui.config import Settings


class CliError(Exception):
    """A problem to report as one line on stderr with exit code 2.

    The message may quote outside text (a file name, a study's error): ``main`` shows
    it through ``display``, so nothing in it reaches the terminal raw.
    """


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose error line shows the user's words inert.

    argparse quotes what it could not parse (``unrecognized arguments: ...``) raw; a
    pasted argument holding an escape sequence would otherwise act on the terminal.
    Sub-parsers (``add_subparsers``) are built from this class too.
    """

    def error(self, message: str) -> NoReturn:
        super().error(display(message))


def add_workspace_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workspace",
        "-w",
        metavar="DIR",
        default=".",
        help="project directory holding .waitwise/ (default: current directory)",
    )


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0: {text!r}")
    return value


def check_workspace(path: str) -> str:
    if not os.path.isdir(path):
        raise CliError(f"workspace {path!r} is not a directory")
    return path


def runs_settings(args: argparse.Namespace, warn: Callable[[str], None]) -> Settings:
    """The settings a command that reads runs works with (the app's thresholds and
    alerts), after checking its workspace and run paths; a settings problem is
    passed to ``warn`` and the defaults are used."""
    from waitwise_tui.config import Settings

    check_workspace(args.workspace)
    for path in args.paths:
        if not os.path.exists(path):
            raise CliError(f"no such file or directory: {path}")
    settings, problem = Settings.load()
    if problem:
        warn(problem)
    return settings
