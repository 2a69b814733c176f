"""Talking to Slurm's command-line tools: run them, and parse what they print.

Everything here is text in, values out, so the parsers are tested without a cluster
(with hypothesis), and the runner turns every failure into one :class:`SlurmError`
line a user can act on: ``sbatch`` missing, the controller down, a timeout, a
rejected submission.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

# squeue fields, '|'-separated; the job name goes last because it may contain '|'.
SQUEUE_FIELDS = ("%i", "%T", "%r", "%M", "%l", "%N", "%b", "%P", "%u", "%k", "%j")
SQUEUE_FORMAT = "|".join(SQUEUE_FIELDS)

# Slurm's long state names, grouped the way the runner treats them.
PENDING_STATES = frozenset(
    {"PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD", "CONFIGURING"}
)
RUNNING_STATES = frozenset(
    {"RUNNING", "COMPLETING", "SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT", "RESIZING"}
)
ENDED_STATES = frozenset(
    {
        "COMPLETED",
        "FAILED",
        "CANCELLED",
        "TIMEOUT",
        "NODE_FAIL",
        "OUT_OF_MEMORY",
        "PREEMPTED",
        "BOOT_FAIL",
        "DEADLINE",
        "REVOKED",
        "SPECIAL_EXIT",
    }
)


class SlurmError(Exception):
    """One line saying why talking to Slurm failed.

    ``ambiguous`` marks a failure after which Slurm may or may not have acted (a
    timeout during ``sbatch``): the caller must look before trying again.
    ``rejected`` marks a request Slurm understood and refused (a bad partition).
    """

    def __init__(self, message: str, *, ambiguous: bool = False, rejected: bool = False) -> None:
        super().__init__(message)
        self.ambiguous = ambiguous
        self.rejected = rejected


@dataclass(frozen=True)
class SlurmJob:
    """One line of ``squeue``."""

    job_id: str
    state: str
    reason: str
    elapsed: str
    time_limit: str
    nodes: str
    gres: str
    partition: str
    user: str
    comment: str
    name: str

    @property
    def gpus(self) -> int:
        return gpus_in_gres(self.gres)

    def to_dict(self) -> dict[str, object]:
        return {
            "job_id": self.job_id,
            "name": self.name,
            "state": self.state,
            "reason": self.reason,
            "elapsed": self.elapsed,
            "time_limit": self.time_limit,
            "nodes": self.nodes,
            "gpus": self.gpus,
            "partition": self.partition,
            "user": self.user,
        }


def run_tool(
    argv: list[str], *, timeout: float, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a Slurm client; a clear :class:`SlurmError` for every way it can fail."""
    tool = os.path.basename(argv[0])
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError:
        raise SlurmError(f"{tool} not found on PATH (Slurm's client tools are needed)") from None
    except PermissionError as exc:
        raise SlurmError(f"cannot run {tool}: {exc.strerror}") from None
    except subprocess.TimeoutExpired:
        raise SlurmError(
            f"{tool} did not answer within {timeout:g} s", ambiguous=tool == "sbatch"
        ) from None
    if proc.returncode != 0:
        raise _error_from(tool, proc.stderr or proc.stdout)
    return proc


def _error_from(tool: str, output: str) -> SlurmError:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    text = " ".join(lines)
    unreachable = (
        "Unable to contact slurm controller",
        "Unable to establish controller machine",
        "Connection refused",
        "Socket timed out",
        "Zero Bytes were transmitted",
    )
    no_config = (
        "resolve_ctls_from_dns_srv",
        "fetch_config",
        "DNS SRV lookup failed",
        "Could not establish a configuration source",
    )
    if any(marker.lower() in text.lower() for marker in no_config):
        return SlurmError(
            f"no Slurm configuration found ({tool}: no slurm.conf and SLURM_CONF is not set;"
            " is this a Slurm login node?)"
        )
    if any(marker.lower() in text.lower() for marker in unreachable):
        return SlurmError(f"Slurm controller not reachable ({tool}: {_short(text)})")
    if "Invalid job id" in text:
        return SlurmError(f"{tool}: invalid job id")
    match = re.search(r"Batch job submission failed:\s*(.+)", text)
    if match:
        return SlurmError(f"Slurm rejected the job: {_short(match.group(1))}", rejected=True)
    if tool == "sbatch" and text:
        return SlurmError(f"Slurm rejected the job: {_short(_strip_prefix(text))}", rejected=True)
    return SlurmError(f"{tool} failed: {_short(_strip_prefix(text)) or 'no output'}")


def _strip_prefix(text: str) -> str:
    return re.sub(r"^(sbatch|squeue|scontrol|scancel|slurm_\w+)(: error)?:\s*", "", text)


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_sbatch(output: str) -> str:
    """The job id from ``sbatch --parsable`` (``"123"`` or ``"123;cluster"``)."""
    for line in output.splitlines():
        head = line.strip().split(";", 1)[0]
        if head.isdigit():
            return head
    raise SlurmError(f"sbatch printed no job id: {_short(output) or 'nothing'}", ambiguous=True)


def parse_squeue(output: str) -> list[SlurmJob]:
    """Lines printed with ``-h -o SQUEUE_FORMAT``; lines that don't fit are skipped."""
    jobs: list[SlurmJob] = []
    for line in output.split("\n"):
        parts = line.split("|", len(SQUEUE_FIELDS) - 1)
        if len(parts) != len(SQUEUE_FIELDS) or not parts[0].strip():
            continue
        job_id, state, reason, elapsed, limit, nodes, gres, partition, user, comment, name = (
            p.strip() for p in parts
        )
        jobs.append(
            SlurmJob(
                job_id=job_id,
                state=state.split()[0] if state else "",
                reason="" if reason in ("None", "(null)") else reason,
                elapsed=elapsed,
                time_limit=limit,
                nodes="" if nodes in ("(null)", "None assigned") else nodes,
                gres="" if gres in ("N/A", "(null)") else gres,
                partition=partition,
                user=user,
                comment="" if comment == "(null)" else comment,
                name=name,
            )
        )
    return jobs


def parse_scontrol(output: str) -> dict[str, str]:
    """``scontrol show job -o ID`` (or the multi-line form) as a dict.

    Values may contain spaces (``Reason=launch failed requeued held``): a word
    without ``Key=`` belongs to the value before it.
    """
    fields: dict[str, str] = {}
    last: str | None = None
    for word in output.split():
        match = re.match(r"^([A-Za-z][A-Za-z0-9_:/]*)=(.*)$", word)
        if match:
            last = match.group(1)
            fields[last] = match.group(2)
        elif last is not None:
            fields[last] += " " + word
    return fields


def parse_exit_code(text: str) -> tuple[int | None, int | None]:
    """``ExitCode=3:0`` -> (3, None); ``0:9`` -> (0, 9) (killed by signal 9)."""
    match = re.fullmatch(r"\s*(\d+):(\d+)\s*", text or "")
    if not match:
        return None, None
    code, signum = int(match.group(1)), int(match.group(2))
    return code, (signum or None)


def gpus_in_gres(gres: str) -> int:
    """GPUs in squeue's ``%b`` (``gres:gpu:2``, ``gres/gpu:a100:2``, ``gpu:1``)."""
    total = 0
    for part in gres.split(","):
        bits = re.split(r"[:/]", part.strip())
        if "gpu" not in bits:
            continue
        tail = bits[bits.index("gpu") + 1 :]
        count = tail[-1] if tail else "1"
        count = count.split("(", 1)[0]
        total += int(count) if count.isdigit() else 1
    return total


def gpu_indexes(detail: str) -> str:
    """GPU indexes from ``scontrol show job -d`` (``GRES=gpu:2(IDX:0-1)`` -> ``0,1``)."""
    match = re.search(r"gpu[^\s(]*\(IDX:([0-9,\-]+)\)", detail)
    if not match:
        return ""
    indexes: list[str] = []
    for piece in match.group(1).split(","):
        if "-" in piece:
            low, _, high = piece.partition("-")
            if low.isdigit() and high.isdigit():
                indexes.extend(str(i) for i in range(int(low), int(high) + 1))
        elif piece.isdigit():
            indexes.append(piece)
    return ",".join(indexes)
