"""``waitwise-tui jobs``: queue any command as a detached job, list, cancel, read logs.

Plain jobs use the tuner's runner: same shim, logs under ``.waitwise/jobs/<id>/`` and
GPU leases. A queued job starts the next time a runner polls (``jobs list``, the TUI
or ``tune run``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import TYPE_CHECKING

from waitwise_tui.cli import CliError, add_workspace_argument, check_workspace, positive_float
from waitwise_tui.config import Settings, Workspace

if TYPE_CHECKING:
    from waitwise_tui.core.tuner import TunerService

FOLLOW_SECONDS = 0.5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    submit = sub.add_parser("submit", help="queue a command: jobs submit [--gpus N] -- CMD ARGS...")
    submit.add_argument("--gpus", type=int, default=0, metavar="N", help="GPUs to lease")
    submit.add_argument("--name", default="", help="a label for the job")
    submit.add_argument("--timeout", type=positive_float, metavar="SECONDS")
    submit.add_argument(
        "--retries", type=int, default=0, metavar="N", help="retries when killed or lost"
    )
    submit.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD ARGS")
    add_workspace_argument(submit)
    list_p = sub.add_parser("list", help="list jobs")
    list_p.add_argument("--json", action="store_true", help="print JSON")
    add_workspace_argument(list_p)
    cancel = sub.add_parser("cancel", help="stop a job (SIGTERM, then SIGKILL)")
    cancel.add_argument("id", type=int)
    add_workspace_argument(cancel)
    logs = sub.add_parser("logs", help="print a job's output")
    logs.add_argument("id", type=int)
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing until it ends")
    add_workspace_argument(logs)


def run(args: argparse.Namespace) -> int:
    from waitwise_tui.core.tuner import open_service

    check_workspace(args.workspace)
    settings, _problem = Settings.load()
    service = open_service(Workspace(args.workspace), settings)
    backend = service.backend
    if args.action == "submit":
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        if not command:
            raise CliError("no command given: jobs submit [--gpus N] -- CMD ARGS...")
        if args.gpus < 0 or args.retries < 0:
            raise CliError("--gpus and --retries must be 0 or more")
        job = backend.submit(
            command,
            workdir=os.getcwd(),
            name=args.name,
            gpus=args.gpus,
            max_attempts=1 + args.retries,
            timeout_seconds=args.timeout,
        )
        print(f"job {job.id} {job.state}" + (f" ({job.reason})" if job.reason else ""))
        return 0 if job.state != "failed" else 1
    service.tick([])
    if args.action == "list":
        jobs = backend.store.list()
        if args.json:
            print(json.dumps({"jobs": [job.to_dict() for job in jobs]}, indent=2))
            return 0
        for job in jobs:
            what = job.name or " ".join(job.argv)
            gpus = f" gpu {job.gpus}" if job.gpus else ""
            reason = f" ({job.reason})" if job.reason else ""
            print(f"{job.id:>5} {job.state:<9}{gpus} {what}{reason}")
        return 0
    job = backend.store.get(args.id)
    if job is None:
        raise CliError(f"no job {args.id}")
    if args.action == "cancel":
        if not backend.cancel(job.id):
            raise CliError(f"job {job.id} is not running ({job.state})")
        deadline = time.monotonic() + backend.grace_seconds + 2.0
        while time.monotonic() < deadline:
            service.tick([])
            current = backend.store.get(job.id)
            if current is None or not current.active:
                break
            time.sleep(0.1)
        current = backend.store.get(job.id)
        print(f"job {job.id} {current.state if current else 'gone'}")
        return 0
    return _logs(service, job.id, follow=args.follow)


def _logs(service: TunerService, job_id: int, *, follow: bool) -> int:
    path = service.backend.log_path(job_id)
    offset = 0
    out = sys.stdout.buffer
    while True:
        try:
            with open(path, "rb") as handle:
                handle.seek(offset)
                chunk = handle.read()
        except FileNotFoundError:
            chunk = b""
        if chunk:
            out.write(chunk)
            out.flush()
            offset += len(chunk)
        job = service.backend.store.get(job_id)
        if not follow or job is None or not job.active:
            return 0
        time.sleep(FOLLOW_SECONDS)
        service.tick([])
