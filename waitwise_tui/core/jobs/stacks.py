"""Python stacks of every rank of a Slurm job, with ``py-spy dump``, into a note.

The answer to "possible collective hang on N ranks": which collective each rank waits
in. The ranks are the processes the job's GPU stream saw (``NodeReading.gpus[*]
.processes``, with their pids and ranks); each node's are dumped by one command run
through the same path as the stream (an overlapping ``srun`` step on that node, or the
system ssh), so nothing of ours runs on the nodes beyond ``py-spy`` (the optional extra
``waitwise-tui[stacks]``, installed in the environment the nodes share).

py-spy's output (function names, file paths, local values) is outside text: it goes
into the note inside a code fence longer than any backtick run in it, with control
characters made visible (``core.text.display``).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from waitwise_tui.core.jobs.gpus import NodeReading
from waitwise_tui.core.notes.store import save_note
from waitwise_tui.core.text import display

PYSPY = ("py-spy",)
# One dump per rank; several ranks of a node run one after another in the same command.
DUMP_TIMEOUT_S = 60.0
FAILURE_LINES = 3


@dataclass(frozen=True)
class Rank:
    node: str
    pid: int
    rank: int | None
    gpu: int | None
    command: str = ""


@dataclass(frozen=True)
class Dump:
    rank: Rank
    ok: bool
    text: str  # py-spy's output, or why there is none


def ranks_of(readings: dict[str, NodeReading]) -> list[Rank]:
    """The job's processes on its GPUs, one per pid, ordered by rank then node and pid."""
    seen: dict[tuple[str, int], Rank] = {}
    for node, reading in readings.items():
        for gpu in reading.gpus:
            for proc in gpu.get("processes") or ():
                pid = proc.get("pid") if isinstance(proc, dict) else None
                if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
                    continue
                rank = proc.get("rank")
                seen.setdefault(
                    (node, pid),
                    Rank(
                        node,
                        pid,
                        rank if isinstance(rank, int) else None,
                        gpu.get("index") if isinstance(gpu.get("index"), int) else None,
                        str(proc.get("command") or ""),
                    ),
                )
    big = 1 << 62
    return sorted(seen.values(), key=lambda r: (big if r.rank is None else r.rank, r.node, r.pid))


def dump_argv(pid: int, pyspy: Sequence[str] = PYSPY) -> list[str]:
    return [*pyspy, "dump", "--pid", str(int(pid))]


def on_node(job_id: str, node: str, argv: Sequence[str], *, transport: str = "srun") -> list[str]:
    """``argv`` run on ``node`` of the job: an overlapping one-task step, or ssh."""
    if node.startswith("-"):
        raise ValueError(f"bad node name {node!r}")
    if transport == "ssh":
        return ["ssh", "-o", "BatchMode=yes", "-T", node, "--", *argv]
    return [
        "srun",
        f"--jobid={job_id}",
        "--overlap",
        "--nodes=1",
        "--ntasks=1",
        f"--nodelist={node}",
        "--quiet",
        *argv,
    ]


Runner = Callable[[list[str], float], "subprocess.CompletedProcess[str]"]


def _run(argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, capture_output=True, text=True, errors="replace", timeout=timeout, check=False
    )


def collect(
    job_id: str,
    readings: dict[str, NodeReading],
    *,
    transport: str = "srun",
    pyspy: Sequence[str] = PYSPY,
    wrap: Callable[[str, list[str]], list[str]] | None = None,
    run: Runner = _run,
    timeout: float = DUMP_TIMEOUT_S,
) -> list[Dump]:
    """``py-spy dump`` of every rank of the job, one command per rank on its node.

    ``wrap(node, argv)`` builds the command for a node (default: :func:`on_node` with
    ``transport``); a failure of one rank is recorded and the others are still dumped."""

    def default_wrap(node: str, argv: list[str]) -> list[str]:
        return on_node(job_id, node, argv, transport=transport)

    wrap = wrap or default_wrap
    dumps: list[Dump] = []
    for rank in ranks_of(readings):
        try:
            proc = run(wrap(rank.node, dump_argv(rank.pid, pyspy)), timeout)
        except FileNotFoundError as exc:
            dumps.append(Dump(rank, False, f"{exc.filename or exc} not found"))
            continue
        except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
            dumps.append(Dump(rank, False, str(exc)))
            continue
        if proc.returncode == 0 and proc.stdout.strip():
            dumps.append(Dump(rank, True, proc.stdout))
        else:
            why = (proc.stderr or proc.stdout).strip() or f"exit status {proc.returncode}"
            # py-spy follows its one-line reason with a Rust backtrace: not for the note.
            dumps.append(Dump(rank, False, "\n".join(why.splitlines()[:FAILURE_LINES])))
    return dumps


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def note_text(job_id: str, dumps: Sequence[Dump], now: datetime, why: str = "") -> str:
    """The note: a heading, then per rank its node, pid and py-spy's output in a fence."""
    lines = [f"# Python stacks of Slurm job {display(job_id)}", ""]
    lines.append(f"Collected {now:%Y-%m-%d %H:%M:%S} with py-spy dump.")
    if why:
        lines.append(f"Why: {display(why)}")
    if not dumps:
        lines += ["", "No process of the job was seen on its GPUs yet."]
    for dump in dumps:
        rank = dump.rank
        who = "rank ?" if rank.rank is None else f"rank {rank.rank}"
        gpu = "" if rank.gpu is None else f", gpu{rank.gpu}"
        lines += ["", f"## {who} on {display(rank.node)} (pid {rank.pid}{gpu})", ""]
        if rank.command:
            lines += [f"Command: {display(rank.command, limit=200)}", ""]
        body = display(dump.text.rstrip("\n"), multiline=True)
        if not dump.ok:
            body = f"py-spy failed: {body}"
        fence = _fence(body)
        lines += [fence, body, fence]
    return "\n".join(lines) + "\n"


def save(notes_dir: Path, job_id: str, text: str, now: datetime) -> Path:
    """Write the note ``stacks-JOB-YYYYmmdd-HHMMSS.md`` (atomically, never over one)."""
    base = f"stacks-{int(job_id)}-{now:%Y%m%d-%H%M%S}"
    path = Path(notes_dir) / f"{base}.md"
    serial = 1
    while path.exists():
        serial += 1
        path = Path(notes_dir) / f"{base}-{serial}.md"
    save_note(path, text, None, now=now)
    return path


def collect_into_note(
    notes_dir: Path,
    job_id: str,
    readings: dict[str, NodeReading],
    *,
    why: str = "",
    now: datetime | None = None,
    **kwargs: Any,
) -> tuple[Path, list[Dump]]:
    """:func:`collect` then :func:`save`: the note's path and the dumps."""
    dumps = collect(job_id, readings, **kwargs)
    when = now or datetime.now()
    return save(notes_dir, job_id, note_text(job_id, dumps, when, why), when), dumps
