"""``waitwise-tui jobs``: queue any command as a detached job, list, cancel, read logs.

Plain jobs use the tuner's runner: same shim, logs under ``.waitwise/jobs/<id>/``,
GPU leases on this machine or Slurm's allocation with ``--backend slurm``. A queued
job starts the next time a runner polls (``jobs list``, the TUI or ``tune run``).
``jobs cluster`` lists the user's own Slurm jobs, waitwise's or not.
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import sys
import time
from typing import TYPE_CHECKING

from waitwise_tui.commands import CliError, add_workspace_argument, check_workspace, positive_float
from waitwise_tui.config import Settings
from waitwise_tui.core.jobs.backend import BACKENDS
from waitwise_tui.core.jobs.slurm import cancel_slurm_job
from waitwise_tui.core.jobs.slurm_cli import SlurmError
from waitwise_tui.core.text import display
from waitwise_tui.core.workspace import Workspace

if TYPE_CHECKING:
    from waitwise_tui.core.tuner.service import TunerService

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
    submit.add_argument(
        "--backend", choices=BACKENDS, default="local", help="where it runs (default: local)"
    )
    slurm = submit.add_argument_group("Slurm (with --backend slurm)")
    slurm.add_argument("--partition", default="", help="partition (default: [slurm] setting)")
    slurm.add_argument("--account", default="", help="account to charge")
    slurm.add_argument("--qos", default="", help="quality of service")
    slurm.add_argument("--cpus", type=int, default=0, metavar="N", help="--cpus-per-task")
    slurm.add_argument("--mem", default="", metavar="SIZE", help="--mem, e.g. 16G")
    slurm.add_argument(
        "--after",
        type=int,
        action="append",
        default=[],
        metavar="JOB",
        help="start after waitwise job JOB succeeds (afterok; repeatable)",
    )
    slurm.add_argument(
        "--sbatch-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="one more sbatch flag, e.g. --sbatch-arg=--constraint=a100 (repeatable)",
    )
    submit.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD ARGS")
    add_workspace_argument(submit)
    list_p = sub.add_parser("list", help="list jobs")
    list_p.add_argument("--json", action="store_true", help="print JSON")
    add_workspace_argument(list_p)
    cancel = sub.add_parser("cancel", help="stop a job (SIGTERM, then SIGKILL)")
    cancel.add_argument("id", type=int)
    add_workspace_argument(cancel)
    cluster = sub.add_parser("cluster", help="your own Slurm jobs (squeue --me)")
    cluster.add_argument("--json", action="store_true", help="print JSON")
    cluster.add_argument("--cancel", metavar="SLURM_ID", help="scancel one of them")
    add_workspace_argument(cluster)
    gpus = sub.add_parser(
        "gpus", help="the GPUs of your running Slurm jobs, per node and rank (srun --overlap)"
    )
    gpus.add_argument("job", nargs="?", metavar="JOBID", help="one Slurm job (default: all)")
    gpus.add_argument("--json", action="store_true", help="print JSON")
    add_workspace_argument(gpus)
    logs = sub.add_parser("logs", help="print a job's output")
    logs.add_argument("id", type=int)
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing until it ends")
    add_workspace_argument(logs)


def run(args: argparse.Namespace) -> int:
    from waitwise_tui.core.tuner.service import open_service

    check_workspace(args.workspace)
    settings, _problem = Settings.load()
    service = open_service(Workspace(args.workspace), settings.runner_options())
    backend = service.backend
    if args.action == "submit":
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        if not command:
            raise CliError("no command given: jobs submit [--gpus N] -- CMD ARGS...")
        if args.gpus < 0 or args.retries < 0 or args.cpus < 0:
            raise CliError("--gpus, --cpus and --retries must be 0 or more")
        options = _slurm_options(args)
        if options and args.backend != "slurm":
            raise CliError(
                "--partition, --account, --qos, --cpus, --mem, --after and"
                " --sbatch-arg need --backend slurm"
            )
        try:
            job = backend.submit(
                command,
                backend=args.backend,
                workdir=os.getcwd(),
                name=args.name,
                gpus=args.gpus,
                max_attempts=1 + args.retries,
                timeout_seconds=args.timeout,
                options=options or None,
            )
        except ValueError as exc:
            raise CliError(str(exc)) from None
        slurm_id = f" slurm {display(job.backend_id)}" if job.backend_id else ""
        reason = f" ({display(job.reason)})" if job.reason else ""
        print(f"job {job.id} {job.state}{slurm_id}{reason}")
        return 0 if job.state != "failed" else 1
    if args.action == "cluster":
        return _cluster(service, args)
    if args.action == "gpus":
        return _gpus(service, args)
    service.tick([])
    if args.action == "list":
        jobs = backend.store.list()
        if args.json:
            print(json.dumps({"jobs": [job.to_dict() for job in jobs]}, indent=2))
            return 0
        # Names, commands, reasons and Slurm's answers are outside text: display() each.
        for job in jobs:
            what = display(job.name or " ".join(job.argv), limit=1000)
            gpus = f" gpu {job.gpus}" if job.gpus else ""
            where = f" slurm {display(job.backend_id)}" if job.backend_id else f" {job.backend}"
            reason = f" ({display(job.reason)})" if job.reason else ""
            print(f"{job.id:>5} {job.state:<9}{where}{gpus} {what}{reason}")
        for problem in backend.problems():
            print(f"warning: {display(problem)}", file=sys.stderr)
        return 0
    job = backend.store.get(args.id)
    if job is None:
        raise CliError(f"no job {args.id}")
    if args.action == "cancel":
        try:
            cancelled = backend.cancel(job.id)
        except SlurmError as exc:
            raise CliError(f"job {job.id} not cancelled: {exc}") from None
        if not cancelled:
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


def _slurm_options(args: argparse.Namespace) -> dict[str, object]:
    options: dict[str, object] = {}
    for key in ("partition", "account", "qos", "mem"):
        if getattr(args, key):
            options[key] = getattr(args, key)
    if args.cpus:
        options["cpus_per_task"] = args.cpus
    if args.after:
        options["after"] = list(args.after)
    if args.sbatch_arg:
        options["extra_args"] = list(args.sbatch_arg)
    return options


def _cluster(service: TunerService, args: argparse.Namespace) -> int:
    slurm = service.backend.backend("slurm")
    try:
        if args.cancel:
            cancel_slurm_job(args.cancel, timeout=slurm.config.command_timeout)
            print(f"slurm job {display(args.cancel)} cancelled")
            return 0
        jobs = slurm.refresh()
    except SlurmError as exc:
        raise CliError(str(exc)) from None
    ours = {job.backend_id: job.id for job in service.backend.store.list() if job.backend_id}
    if args.json:
        rows = [j.to_dict() | {"waitwise_job": ours.get(j.job_id)} for j in jobs]
        print(json.dumps({"jobs": rows}, indent=2))
        return 0
    if not jobs:
        print("no Slurm jobs of yours")
    for j in jobs:
        mine = f" (waitwise job {ours[j.job_id]})" if j.job_id in ours else ""
        reason = f" ({display(j.reason)})" if j.reason and j.state == "PENDING" else ""
        node = f" on {display(j.nodes)}" if j.nodes else ""
        gpus = f" gpus {j.gpus}" if j.gpus else ""
        job_id, state, elapsed = display(j.job_id), display(j.state), display(j.elapsed)
        print(f"{job_id:>8} {state:<10}{reason} {elapsed:>10}{node}{gpus} {display(j.name)}{mine}")
    return 0


def _gpus(service: TunerService, args: argparse.Namespace) -> int:
    """One reading from every node of each running job, through the collector's own
    path (one overlapping step per job, or ssh), printed per node, GPU and rank."""
    from waitwise_tui.core.jobs.gpus import JobGpuCollector, read_allocation, to_rows

    config = service.backend.backend("slurm").config
    timeout = config.command_timeout
    try:
        if args.job:
            ids = [args.job]
        else:
            ids = [
                j.job_id for j in service.backend.backend("slurm").refresh() if j.state == "RUNNING"
            ]
        allocations = [read_allocation(job_id, timeout=timeout) for job_id in ids]
    except SlurmError as exc:
        raise CliError(str(exc)) from None
    if args.job and allocations[0].state != "RUNNING":
        raise CliError(f"slurm job {display(args.job)} is not running ({allocations[0].state})")
    rows: list[dict[str, object]] = []
    problems: list[str] = []
    for allocation in allocations:
        collector = JobGpuCollector(
            allocation,
            config.gpu_command,
            transport=config.gpu_transport,
            seconds=config.gpu_watch_seconds,
            timeout=timeout,
        ).start()
        try:
            if not collector.wait_for_nodes(timeout):
                problems.append(
                    f"job {allocation.job_id}: not every node answered in {timeout:g} s"
                )
        finally:
            collector.stop()
        rows.extend(to_rows(allocation.job_id, collector.readings()))
        problems.extend(f"job {allocation.job_id}: {e}" for e in collector.errors)
    if args.json:
        print(json.dumps({"gpus": rows, "problems": problems}, indent=2))
    else:
        if not allocations:
            print("no running Slurm jobs of yours")
        for row in rows:
            print(_gpu_line(row))
            for proc in row["processes"]:  # type: ignore[attr-defined]
                print(_proc_line(proc))
        for problem in problems:
            print(f"warning: {display(problem)}", file=sys.stderr)
    return 0 if rows or not allocations else 1


def _num(value: object, spec: str, suffix: str = "") -> str:
    return "N/A" if not isinstance(value, (int, float)) else f"{value:{spec}}{suffix}"


def _gpu_line(row: dict[str, object]) -> str:
    from waitwise_tui.core import fmt

    used, total = row["memory_used_bytes"], row["memory_total_bytes"]
    throttle = row.get("throttle_reasons") or []
    reasons = f" | {display(', '.join(map(str, throttle)))}" if throttle else ""  # type: ignore[call-overload]
    return (
        f"{display(str(row['job_id'])):>8} {display(str(row['node']))} gpu{row['gpu']}"
        f" | {_num(row['util_percent'], 'd', '%')}"
        f" | {fmt.size(used if isinstance(used, (int, float)) else None)}"
        f" / {fmt.size(total if isinstance(total, (int, float)) else None)}"
        f" | {_num(row['power_w'], '.0f')} / {_num(row['power_limit_w'], '.0f', ' W')}"
        f" | {_num(row['temperature_c'], 'd', 'C')}{reasons}"
    )


def _proc_line(proc: dict[str, object]) -> str:
    rank = proc.get("rank")
    local = proc.get("local_rank")
    who = f"rank {rank}" if isinstance(rank, int) else "rank ?"
    if isinstance(local, int):
        who += f" (local {local})"
    user = display(str(proc.get("user") or "N/A"))
    command = display(str(proc.get("command") or ""))
    return f"{'':>9}pid {proc.get('pid')} {who} {user} {command}"


class _LogText:
    """A job's output bytes, as they arrive, turned into text that is safe to print.

    The output is the job's own (colours, progress bars, anything it printed): control
    characters show as escapes (``\\x1b[32m``, ``\\r``) and newlines are kept. A UTF-8
    character or a ``\\r\\n`` split between two reads is held back until the rest comes.
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
        self._pending = ""

    def feed(self, chunk: bytes, *, final: bool = False) -> str:
        text = self._pending + self._decoder.decode(chunk, final=final)
        self._pending = ""
        if not final and text.endswith("\r"):
            text, self._pending = text[:-1], "\r"
        return display(text, multiline=True)


def _logs(service: TunerService, job_id: int, *, follow: bool) -> int:
    path = service.backend.log_path(job_id)
    offset = 0
    shown = _LogText()
    out = sys.stdout
    while True:
        # The state first, then the file: output written before the job ended is read.
        job = service.backend.store.get(job_id)
        done = not follow or job is None or not job.active
        try:
            with open(path, "rb") as handle:
                handle.seek(offset)
                chunk = handle.read()
        except FileNotFoundError:
            chunk = b""
        offset += len(chunk)
        text = shown.feed(chunk, final=done)
        if text:
            out.write(text)
            out.flush()
        if done:
            return 0
        time.sleep(FOLLOW_SECONDS)
        service.tick([])
