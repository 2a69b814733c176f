"""``waitwise-tui test``: run a project's tests headless, or generate data-quality tests.

``waitwise-tui test [--project DIR] [--json] [-- PYTEST_ARGS...]`` streams results (one
JSON object per line with ``--json``) and exits with pytest's exit code.
``waitwise-tui test generate PROFILE.json [--out FILE] [--force]`` writes data tests.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from waitwise_tui.commands import ArgumentParser, add_workspace_argument, positive_float
from waitwise_tui.core.text import display

if TYPE_CHECKING:
    from waitwise_tui.core.testing.runner import TestResult


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.usage = (
        "waitwise-tui test [--project DIR] [--python PY] [--json] [--timeout S]\n"
        "                         [--test-timeout S] [-- PYTEST_ARGS...]\n"
        "       waitwise-tui test generate PROFILE.json [--out FILE] [--force]"
    )
    add_workspace_argument(parser)
    parser.add_argument("--project", metavar="DIR", help="project to test (default: workspace)")
    parser.add_argument(
        "--python",
        metavar="PY",
        help="interpreter (or environment directory) to run pytest with "
        "(default: the tests_python setting, else the project's own environment)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON event per line")
    parser.add_argument(
        "--timeout", type=positive_float, metavar="S", help="stop the whole run after S seconds"
    )
    parser.add_argument(
        "--test-timeout",
        type=positive_float,
        metavar="S",
        help="per-test limit when pytest-timeout is installed in the project's Python",
    )
    parser.add_argument(
        "rest",
        nargs=argparse.REMAINDER,
        metavar="...",
        help="'-- PYTEST_ARGS' passed to pytest, or 'generate PROFILE.json ...'",
    )


def run(args: argparse.Namespace) -> int:
    project = Path(args.project or args.workspace)
    if args.rest and args.rest[0] == "generate":
        return run_generate(project, args.rest[1:])
    pytest_args = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
    return run_tests(
        project,
        pytest_args,
        as_json=args.json,
        timeout=args.timeout,
        test_timeout=args.test_timeout,
        python=args.python or "",
    )


# Lines of captured output shown per failure in the readable output.
OUTPUT_LINES = 10


def _failure_text(event: TestResult) -> str:
    """One failure as the readable output prints it: the headline, where, pytest's short
    traceback and the last lines of the captured output (all through display())."""
    label = (
        f"SUB{event.outcome.upper()} {event.subtest}" if event.subtest else event.outcome.upper()
    )
    phase = f" ({event.when})" if event.when not in ("call", "collect") else ""
    lines = [f"{display(label)}: {display(event.nodeid)}{phase}: {display(event.message)}"]
    if event.location:
        lines.append(f"  at {display(event.location)}")
    if event.longrepr and event.longrepr.strip() != event.message.strip():
        lines += ["  " + display(line) for line in event.longrepr.rstrip().splitlines()]
    for name, text in (("stdout", event.stdout), ("stderr", event.stderr)):
        tail = text.rstrip().splitlines()[-OUTPUT_LINES:]
        if tail:
            lines.append(f"  -- captured {name} (last {len(tail)} lines) --")
            lines += ["  " + display(line) for line in tail]
    return "\n".join(lines)


def run_tests(
    project: Path,
    pytest_args: list[str],
    *,
    as_json: bool,
    timeout: float | None,
    test_timeout: float | None,
    python: str = "",
) -> int:
    from waitwise_tui.config import Settings
    from waitwise_tui.core.testing.python_env import SetupError, find_python
    from waitwise_tui.core.testing.runner import (
        FAILING,
        Collected,
        Finished,
        RunEvent,
        RunRequest,
        TestResult,
        TestRun,
        counts_summary,
    )

    settings, _problem = Settings.load()
    if python:
        env = find_python(project.resolve(), python, configured_source="--python")
    else:
        env = find_python(project.resolve(), settings.tests_python)

    def show(event: RunEvent) -> None:
        if as_json:
            if isinstance(event, Collected):
                print(json.dumps({"event": "collected", "nodeid": event.nodeid}), flush=True)
            elif isinstance(event, TestResult):
                line = {
                    "event": "result",
                    "nodeid": event.nodeid,
                    "when": event.when,
                    "outcome": event.outcome,
                    "category": event.category,
                    "subtest": event.subtest,
                    "duration": event.duration,
                    "message": event.message,
                    "location": event.location,
                    "longrepr": event.longrepr,
                    "stdout": event.stdout,
                    "stderr": event.stderr,
                }
                print(json.dumps(line), flush=True)
            elif isinstance(event, Finished):
                line = {
                    "event": "finished",
                    "exit_code": event.exit_code,
                    "counts": {k: v for k, v in event.counts.items() if v},
                    "duration": round(event.duration, 3),
                    "message": event.explanation,
                    "problem": event.problem,
                    "python": env.python,
                    "python_source": env.source,
                    "warning": event.warning,
                }
                print(json.dumps(line), flush=True)
        elif isinstance(event, TestResult) and event.outcome in FAILING:
            # Test ids, messages and output are the project's text: through display().
            print(_failure_text(event), flush=True)

    # The traceback pytest prints with --tb=short, unless the user chose a style.
    tb = () if any(a.startswith("--tb") for a in pytest_args) else ("--tb=short",)
    request = RunRequest(
        project,
        env.python,
        (*tb, *pytest_args),
        courteous=settings.tests_courteous,
        run_timeout=timeout,
        test_timeout=test_timeout,
        python_env=env,
    )
    test_run = TestRun(request, show)
    # pytest runs in its own session, so Ctrl-C reaches only us: pass it on.
    previous = signal.signal(signal.SIGINT, lambda *_: test_run.cancel())
    try:
        finished = test_run.run()
    except SetupError as exc:
        print(f"waitwise-tui: {display(str(exc))}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGINT, previous)
    if not as_json:
        print(
            # Not shaped like pytest's own summary line, which CI logs are scanned for.
            f"waitwise-tui test: {counts_summary(finished.counts)}; {finished.duration:.1f} s; "
            f"exit code {finished.exit_code} ({display(finished.explanation)});"
            f" python {display(env.describe())}"
        )
        if finished.warning:
            print(f"waitwise-tui: warning: {display(finished.warning)}", file=sys.stderr)
        if finished.exit_code not in (0, 1):
            print(display(finished.log_tail[-4000:], multiline=True), file=sys.stderr)
    return finished.exit_code if finished.exit_code >= 0 else 2


def run_generate(project: Path, argv: list[str]) -> int:
    from waitwise_tui.core.testing.generate import (
        DEFAULT_NULL_TOLERANCE,
        DEFAULT_OUT,
        ProfileError,
        plan_generation,
        write_plan,
    )

    parser = ArgumentParser(
        prog="waitwise-tui test generate",
        description="write data-quality tests from a saved data profile",
    )
    parser.add_argument("profile", metavar="PROFILE.json")
    parser.add_argument(
        "--out", default=str(DEFAULT_OUT), metavar="FILE", help=f"default: {DEFAULT_OUT}"
    )
    parser.add_argument("--force", action="store_true", help="overwrite changed files")
    parser.add_argument("--project", metavar="DIR", help="project root (default: workspace)")
    parser.add_argument(
        "--null-tolerance",
        type=float,
        default=DEFAULT_NULL_TOLERANCE,
        metavar="F",
        help="extra null fraction allowed per column (default %(default)s)",
    )
    args = parser.parse_args(argv)
    project = Path(args.project) if args.project else project
    if not project.is_dir():
        print(
            f"waitwise-tui: project directory {display(str(project))} does not exist",
            file=sys.stderr,
        )
        return 2
    try:
        plan = plan_generation(
            Path(args.profile), project, Path(args.out), null_tolerance=args.null_tolerance
        )
    except ProfileError as exc:
        print(f"waitwise-tui: {display(str(exc))}", file=sys.stderr)
        return 2
    if plan.overwrites and not args.force:
        print(display(plan.diff, multiline=True), end="")
        print(
            "waitwise-tui: the generated files would change (diff above); "
            "rerun with --force to overwrite",
            file=sys.stderr,
        )
        return 1
    try:
        write_plan(plan)
    except OSError as exc:
        print(
            f"waitwise-tui: cannot write {display(str(plan.test_path))}: {display(str(exc))}",
            file=sys.stderr,
        )
        return 2
    print(f"wrote {display(str(plan.test_path))} and {display(plan.expectations_path.name)}")
    return 0
