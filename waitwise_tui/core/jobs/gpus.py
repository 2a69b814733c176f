"""The GPUs of a running Slurm job, on every node it holds, without a daemon of ours.

One long-lived step per job streams JSON lines from each node::

    srun --jobid=ID --overlap --nodes=N --ntasks-per-node=1 --label \\
         waitwise-tui gpu --json --watch S

(or, where a site forbids overlapping steps, ``ssh -o BatchMode=yes NODE waitwise-tui
gpu --json --watch S`` per node). The environment is on the shared filesystem, as the
Slurm backend already requires. A stream that dies while the job runs is restarted with
backoff; it stops when the job ends or when nobody watches (``stop()``).

NVML in the step sees every GPU of the node unless the site constrains devices with
cgroups (``ConstrainDevices=yes`` in ``cgroup.conf``); the job's own GPUs are the
``IDX`` list of ``scontrol show job -d``, so readings are narrowed to those here.

Everything is text in, values out where it can be: the argv builders, the
``scontrol`` parsers and the line parser are pure and tested without a cluster.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from waitwise_tui.core.jobs.slurm_cli import (
    ENDED_STATES,
    SlurmError,
    parse_scontrol,
    run_tool,
)

TRANSPORTS = ("srun", "ssh")
DEFAULT_WATCH_SECONDS = 5.0
# Readings kept per GPU for the alert detectors (at 5 s, 15 minutes).
HISTORY = 180


@dataclass(frozen=True)
class JobAllocation:
    """What ``scontrol show job -d -o ID`` says about a job's place in the cluster."""

    job_id: str
    state: str
    nodes: tuple[str, ...]
    # node -> GPU indexes (as NVML numbers them on that node) allocated to the job
    gpus: dict[str, tuple[int, ...]]
    start_time: float | None
    end_time: float | None
    time_limit_s: float | None

    @property
    def ended(self) -> bool:
        return self.state in ENDED_STATES


def parse_slurm_time(value: str) -> float | None:
    """``2026-12-02T21:36:39`` (local time, as scontrol prints it) -> epoch seconds."""
    value = (value or "").strip()
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", value):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S").timestamp()
    except ValueError:
        return None


def parse_duration(value: str) -> float | None:
    """Slurm's ``[D-]HH:MM:SS`` / ``MM:SS`` / ``MM`` -> seconds; None for UNLIMITED."""
    value = (value or "").strip()
    match = re.fullmatch(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?", value)
    if not match:
        return None
    days, a, b, c = match.groups()
    parts = [int(x) for x in (a, b, c) if x is not None]
    if days is not None:
        # D-HH, D-HH:MM, D-HH:MM:SS
        parts += [0] * (3 - len(parts))
        hours, minutes, seconds = parts
    elif len(parts) == 3:
        hours, minutes, seconds = parts
    elif len(parts) == 2:
        hours, (minutes, seconds) = 0, parts
    else:
        hours, minutes, seconds = 0, parts[0], 0
    return float(((int(days or 0) * 24 + hours) * 60 + minutes) * 60 + seconds)


def expand_indexes(text: str) -> tuple[int, ...]:
    """``0-1,3`` -> (0, 1, 3)."""
    found: list[int] = []
    for piece in text.split(","):
        low, _, high = piece.partition("-")
        if low.isdigit() and (not high or high.isdigit()):
            found.extend(range(int(low), int(high or low) + 1))
    return tuple(found)


def expand_hostlist(text: str) -> tuple[str, ...]:
    """Slurm's compressed host list (``n[1-3,5],gpu7``) -> each name, in order."""
    names: list[str] = []
    for match in re.finditer(r"([^,\[]+)(?:\[([^\]]*)\])?", text or ""):
        prefix, ranges = match.group(1).strip(), match.group(2)
        if not prefix:
            continue
        if ranges is None:
            names.append(prefix)
            continue
        for piece in ranges.split(","):
            low, _, high = piece.partition("-")
            if not low.isdigit():
                continue
            width = len(low)
            for n in range(int(low), int(high or low) + 1 if (high or low).isdigit() else 0):
                names.append(f"{prefix}{n:0{width}d}")
    return tuple(names)


def parse_allocation(job_id: str, output: str) -> JobAllocation:
    """``scontrol show job -d -o ID`` -> :class:`JobAllocation`."""
    fields_ = parse_scontrol(output)
    nodes = expand_hostlist(fields_.get("NodeList", "")) if fields_.get("NodeList") else ()
    if fields_.get("NodeList") in ("(null)", "None assigned"):
        nodes = ()
    gpus: dict[str, tuple[int, ...]] = {}
    # Detail groups: " Nodes=n[1-2] CPU_IDs=0-3 Mem=0 GRES=gpu:2(IDX:0-1)"
    for match in re.finditer(r"\bNodes=(\S+) CPU_IDs=\S+ Mem=\S+ GRES=(\S*)", output):
        group, gres = match.groups()
        idx = re.search(r"gpu[^\s(]*\(IDX:([0-9,\-]+)\)", gres)
        for node in expand_hostlist(group):
            gpus[node] = expand_indexes(idx.group(1)) if idx else ()
    return JobAllocation(
        job_id=job_id,
        state=fields_.get("JobState", ""),
        nodes=nodes,
        gpus=gpus,
        start_time=parse_slurm_time(fields_.get("StartTime", "")),
        end_time=parse_slurm_time(fields_.get("EndTime", "")),
        time_limit_s=parse_duration(fields_.get("TimeLimit", "")),
    )


def read_allocation(job_id: str, *, timeout: float = 30.0) -> JobAllocation:
    """Ask Slurm where job ``job_id`` runs and until when (:class:`SlurmError` on failure)."""
    if not job_id.isdigit():
        raise SlurmError(f"not a Slurm job id: {job_id!r}")
    proc = run_tool(["scontrol", "show", "job", "-d", "-o", job_id], timeout=timeout)
    return parse_allocation(job_id, proc.stdout)


# -- the command lines ------------------------------------------------------------------


def watch_argv(command: Sequence[str], seconds: float) -> list[str]:
    return [*command, "gpu", "--json", "--watch", f"{seconds:g}"]


def srun_argv(
    job_id: str, nodes: int, command: Sequence[str], seconds: float = DEFAULT_WATCH_SECONDS
) -> list[str]:
    """One overlapping step of the job: one task per node, each line labelled."""
    return [
        "srun",
        f"--jobid={job_id}",
        "--overlap",
        f"--nodes={max(1, nodes)}",
        "--ntasks-per-node=1",
        "--label",
        "--kill-on-bad-exit=0",
        "--quiet",
        *watch_argv(command, seconds),
    ]


def ssh_argv(
    node: str, command: Sequence[str], seconds: float = DEFAULT_WATCH_SECONDS
) -> list[str]:
    """The system ssh in batch mode (agents, ProxyJump and ssh_config apply)."""
    if node.startswith("-"):
        raise ValueError(f"bad node name {node!r}")
    return ["ssh", "-o", "BatchMode=yes", "-T", node, "--", *watch_argv(command, seconds)]


# -- the stream ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeReading:
    """One line of ``gpu --json --watch`` from one node."""

    node: str
    time: float
    gpus: tuple[dict[str, Any], ...]
    error: str | None = None


def parse_line(line: str, default_node: str = "") -> NodeReading | None:
    """A streamed line (``"0: {...}"`` with srun's ``--label``) -> a reading, or None
    when the line is not one (srun's own messages, a half-written line)."""
    line = line.strip()
    match = re.match(r"^(\d+):\s*(\{.*)$", line)
    if match:
        line = match.group(2)
    if not line.startswith("{"):
        return None
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    gpus = data.get("gpus")
    nvml = data.get("nvml") if isinstance(data.get("nvml"), dict) else {}
    node = data.get("node") if isinstance(data.get("node"), str) else default_node
    when = data.get("time")
    return NodeReading(
        node=node or default_node,
        time=float(when) if isinstance(when, (int, float)) else time.time(),
        gpus=tuple(g for g in gpus if isinstance(g, dict)) if isinstance(gpus, list) else (),
        error=None if nvml.get("ok", True) else str(nvml.get("error") or "NVML unavailable"),
    )


# srun forwards a task's output in pieces of at most about 1 KiB and, with --label,
# prints each piece on a line of its own: a long JSON line arrives split.
MAX_LINE = 8 * 1024 * 1024


class LineJoiner:
    """Puts srun's labelled pieces back together, per task: a piece that starts a
    reading (``{"time":``) starts a new line; any other is appended to its task's
    line, and the line is parsed as soon as it is whole JSON."""

    def __init__(self, default_node: str = "") -> None:
        self.default_node = default_node
        self._parts: dict[str, str] = {}

    def feed(self, line: str) -> NodeReading | None:
        line = line.rstrip("\r\n")
        match = re.match(r"^\s*(\d+): ?(.*)$", line)
        label, piece = (match.group(1), match.group(2)) if match else ("", line)
        fresh = piece.lstrip()
        if fresh.startswith('{"time":') or (label not in self._parts and fresh.startswith("{")):
            buffered = fresh
        elif label in self._parts:
            buffered = self._parts[label] + piece
        else:
            return None  # srun's own messages, or the tail of a line we never saw begin
        if len(buffered) > MAX_LINE:
            self._parts.pop(label, None)
            return None
        reading = parse_line(buffered, self.default_node)
        if reading is None:
            self._parts[label] = buffered
            return None
        self._parts.pop(label, None)
        return reading


def job_gpus(reading: NodeReading, indexes: Iterable[int] | None) -> tuple[dict[str, Any], ...]:
    """The GPUs of ``reading`` that belong to the job (all of them when unknown)."""
    if indexes is None:
        return reading.gpus
    wanted = set(indexes)
    return tuple(g for g in reading.gpus if g.get("index") in wanted)


class Backoff:
    """Waits between restarts: ``low`` doubling up to ``high``; reset by a good stream."""

    def __init__(self, low: float = 1.0, high: float = 60.0) -> None:
        self.low, self.high = low, high
        self.next = low

    def wait(self) -> float:
        current = self.next
        self.next = min(self.high, self.next * 2)
        return current

    def reset(self) -> None:
        self.next = self.low


@dataclass
class StreamState:
    restarts: int = 0
    last_error: str = ""
    running: bool = False
    ended: bool = False  # the job ended: nothing more will come
    pids: list[int] = field(default_factory=list)


class GpuStream:
    """One process (an srun step or an ssh) streaming JSON lines, restarted with backoff.

    ``job_ended()`` is asked each time the process exits: when it says the job is over
    the stream stops for good. ``on_reading`` is called on the stream's thread.
    """

    def __init__(
        self,
        argv: list[str],
        *,
        default_node: str = "",
        job_ended: Callable[[], bool] = lambda: False,
        on_reading: Callable[[NodeReading], None] = lambda reading: None,
        backoff: Backoff | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.argv = argv
        self.default_node = default_node
        self.job_ended = job_ended
        self.on_reading = on_reading
        self.backoff = backoff or Backoff()
        self.env = env
        self.state = StreamState()
        self._stop = threading.Event()
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="gpu-stream", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        with self._lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()  # srun passes SIGTERM on to the step's tasks
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            got_lines = self._run_once()
            if self._stop.is_set():
                break
            try:
                ended = self.job_ended()
            except SlurmError as exc:
                self.state.last_error = str(exc)
                ended = False
            if ended:
                self.state.ended = True
                break
            if got_lines:
                self.backoff.reset()
            self.state.restarts += 1
            if self._stop.wait(self.backoff.wait()):
                break
        self.state.running = False

    def _run_once(self) -> bool:
        errors: deque[str] = deque(maxlen=3)
        try:
            proc = subprocess.Popen(
                self.argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
                errors="replace",
                env=self.env,
            )
        except OSError as exc:
            self.state.last_error = f"cannot run {self.argv[0]}: {exc.strerror or exc}"
            return False
        with self._lock:
            self._proc = proc
        self.state.running = True
        self.state.pids.append(proc.pid)
        if self._stop.is_set():  # stop() ran between the check and the Popen
            proc.terminate()

        def read_errors() -> None:
            errors.extend(line.strip() for line in proc.stderr or () if line.strip())

        err_thread = threading.Thread(target=read_errors, daemon=True)
        err_thread.start()
        got = False
        joiner = LineJoiner(self.default_node)
        assert proc.stdout is not None
        for line in proc.stdout:
            reading = joiner.feed(line)
            if reading is not None:
                got = True
                self.on_reading(reading)
        proc.wait()
        err_thread.join(2.0)
        self.state.running = False
        if proc.returncode not in (0, None) and not self._stop.is_set():
            self.state.last_error = f"{self.argv[0]} exited with {proc.returncode}" + (
                f": {errors[-1]}" if errors else ""
            )
        return got


class JobGpuCollector:
    """The GPUs of one running job: its streams, the latest reading per node, and a
    short per-GPU history for the alert detectors."""

    def __init__(
        self,
        allocation: JobAllocation,
        command: Sequence[str],
        *,
        transport: str = "srun",
        seconds: float = DEFAULT_WATCH_SECONDS,
        job_ended: Callable[[], bool] | None = None,
        backoff: tuple[float, float] = (1.0, 60.0),
        env: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> None:
        if transport not in TRANSPORTS:
            raise ValueError(f"unknown GPU transport {transport!r} (use srun or ssh)")
        self.allocation = allocation
        self._lock = threading.Lock()
        self.latest: dict[str, NodeReading] = {}
        self.history: dict[tuple[str, int], deque[tuple[float, dict[str, Any]]]] = {}
        self.changed = threading.Event()
        if job_ended is None:

            def job_ended() -> bool:
                return read_allocation(allocation.job_id, timeout=timeout).ended

        job_id = allocation.job_id
        if transport == "srun":
            argvs = [(srun_argv(job_id, len(allocation.nodes) or 1, command, seconds), "")]
        else:
            argvs = [(ssh_argv(node, command, seconds), node) for node in allocation.nodes]
        self.streams = [
            GpuStream(
                argv,
                default_node=node,
                job_ended=job_ended,
                on_reading=self._add,
                backoff=Backoff(*backoff),
                env=env,
            )
            for argv, node in argvs
        ]

    def start(self) -> JobGpuCollector:
        for stream in self.streams:
            stream.start()
        return self

    def stop(self) -> None:
        for stream in self.streams:
            stream.stop()

    @property
    def ended(self) -> bool:
        return all(stream.state.ended for stream in self.streams)

    @property
    def restarts(self) -> int:
        return sum(stream.state.restarts for stream in self.streams)

    @property
    def errors(self) -> list[str]:
        return [s.state.last_error for s in self.streams if s.state.last_error]

    def _add(self, reading: NodeReading) -> None:
        indexes = self.allocation.gpus.get(reading.node) if self.allocation.gpus else None
        mine = NodeReading(reading.node, reading.time, job_gpus(reading, indexes), reading.error)
        with self._lock:
            self.latest[reading.node] = mine
            for gpu in mine.gpus:
                key = (reading.node, int(gpu.get("index", -1)))
                self.history.setdefault(key, deque(maxlen=HISTORY)).append((reading.time, gpu))
        self.changed.set()

    def readings(self) -> dict[str, NodeReading]:
        with self._lock:
            return dict(self.latest)

    def series(self) -> dict[tuple[str, int], list[tuple[float, dict[str, Any]]]]:
        """(node, GPU index) -> [(time, GPU dict), ...], oldest first."""
        with self._lock:
            return {key: list(values) for key, values in self.history.items()}

    def wait_for_nodes(self, timeout: float) -> bool:
        """Wait until every node of the job has reported once (or the job ended)."""
        deadline = time.monotonic() + timeout
        want = set(self.allocation.nodes)
        while time.monotonic() < deadline:
            got = set(self.readings())
            if (want and want <= got) or (not want and got) or self.ended:
                return True
            self.changed.wait(0.1)
            self.changed.clear()
        return False


def to_rows(job_id: str, readings: dict[str, NodeReading]) -> list[dict[str, Any]]:
    """A flat per-node, per-GPU, per-process view (what ``jobs gpus --json`` prints)."""
    rows: list[dict[str, Any]] = []
    for node in sorted(readings):
        reading = readings[node]
        for gpu in reading.gpus:
            rows.append(
                {
                    "job_id": job_id,
                    "node": node,
                    "gpu": gpu.get("index"),
                    "name": gpu.get("name"),
                    "util_percent": gpu.get("util_percent"),
                    "memory_used_bytes": gpu.get("memory_used_bytes"),
                    "memory_total_bytes": gpu.get("memory_total_bytes"),
                    "power_w": gpu.get("power_w"),
                    "power_limit_w": gpu.get("power_limit_w"),
                    "temperature_c": gpu.get("temperature_c"),
                    "throttle_reasons": gpu.get("throttle_reasons"),
                    "processes": [
                        {
                            key: proc.get(key)
                            for key in ("pid", "rank", "local_rank", "user", "command")
                        }
                        for proc in gpu.get("processes") or ()
                        if isinstance(proc, dict)
                    ],
                    "time": reading.time,
                }
            )
    return rows
