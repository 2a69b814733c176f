"""Run pytest on a project in the background and stream its results as events.

pytest runs in its own process group with the bundled plugin on ``PYTHONPATH``; the
plugin writes JSON lines to a temporary file that this module tails, while pytest's
own output goes to a log file of which only a bounded tail is ever read. ``TestRun.run``
blocks (call it from a thread); ``TestRun.cancel`` may be called from any thread.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from waitwise_tui.core.testing.plugin import (
    CAP_ENV,
    EVENTS_ENV,
    PLUGIN_DIR,
    PLUGIN_MODULE,
    SELECT_ENV,
)
from waitwise_tui.core.testing.python_env import (
    Capabilities,
    PythonEnv,
    SetupError,
    check_env,
    require_pytest,
)

OUTCOMES = ("passed", "failed", "skipped", "error", "xfailed", "xpassed")
FAILING = frozenset({"failed", "error"})

EXIT_CODES = {
    0: "all tests passed",
    1: "some tests failed",
    2: "interrupted",
    3: "internal error",
    4: "usage error",
    5: "no tests collected",
}

LOG_TAIL_BYTES = 65536
_READ_CHUNK = 1 << 20
_POLL_S = 0.05


def explain_exit_code(code: int) -> str:
    """pytest's exit code in words."""
    if code < 0:
        return f"killed by signal {-code}"
    return EXIT_CODES.get(code, f"exit code {code}")


def empty_counts() -> dict[str, int]:
    return dict.fromkeys(OUTCOMES, 0)


def counts_summary(counts: Mapping[str, int]) -> str:
    """``"12 passed, 1 failed, 40 subtests passed"``; zero counts are left out.

    The categories are pytest's own summary words: the six outcomes first, then any
    other (subtests, a plugin's) in the order they came.
    """
    names = [*OUTCOMES, *(k for k in counts if k not in OUTCOMES)]
    parts = [f"{counts[name]} {name}" for name in names if counts.get(name)]
    return ", ".join(parts) or "no tests ran"


def summary_text(counts: Mapping[str, int], duration: float) -> str:
    """``"12 passed, 1 failed in 3.2s"``, the message of the finished-run event."""
    return f"{counts_summary(counts)} in {duration:.1f}s"


@dataclass(frozen=True)
class Collected:
    nodeid: str


@dataclass(frozen=True)
class CollectionFinished:
    count: int


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a pytest test class despite the name

    nodeid: str
    outcome: str
    duration: float = 0.0
    when: str = "call"
    message: str = ""
    longrepr: str = ""
    stdout: str = ""
    stderr: str = ""
    # pytest's summary word for this report ("passed", "subtests passed", "error"...);
    # "" when pytest does not count it (a passing subtest at default verbosity).
    category: str = "passed"
    # A subtest's description ("[msg] (i=1)"); "" for the test's own report.
    subtest: str = ""
    # Where it went wrong, ``path:line`` (the crash line, else the test's own line).
    location: str = ""


@dataclass(frozen=True)
class Finished:
    exit_code: int
    counts: dict[str, int]
    duration: float
    reason: str = ""  # "", "cancelled" or "timed out after N s"
    log_tail: str = ""
    warning: str = ""  # a problem with the chosen Python (see TestRun.warning)
    # pytest's own reason for a usage or internal error ("unrecognized arguments: -x").
    problem: str = ""

    @property
    def explanation(self) -> str:
        text = self.reason or explain_exit_code(self.exit_code)
        return f"{text}: {self.problem}" if self.problem else text


def pytest_problem(log: str) -> str:
    """pytest's one-line reason in its output for a usage or internal error, or ""."""
    found = ""
    for line in log.splitlines():
        stripped = line.strip()
        if stripped.startswith("INTERNALERROR>"):
            rest = stripped.removeprefix("INTERNALERROR>").strip()
            if rest.startswith("E "):
                found = rest[2:].strip()
            continue
        lowered = stripped.lower()
        if lowered.startswith("error: usage:"):
            continue
        index = lowered.find("error: ")
        if index >= 0 and (index == 0 or lowered[:index].rstrip().endswith(":")):
            found = stripped[index + len("error: ") :].strip()
    return found[:500]


def pytest_targets(nodeids: list[str] | tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Arguments for pytest that run exactly ``nodeids``, and the ids to select.

    pytest splits every argument on ``::``, so an id whose parameters hold ``::`` cannot
    be an argument: its test function goes instead, and the plugin keeps only the ids
    in the returned selection.
    """
    args: list[str] = []
    select: list[str] = []
    for nodeid in nodeids:
        head, bracket, params = nodeid.partition("[")
        if bracket and "::" in params:
            select.append(nodeid)
            nodeid = head
        if nodeid not in args:
            args.append(nodeid)
    return tuple(args), tuple(select)


RunEvent = Collected | CollectionFinished | TestResult | Finished


def parse_event(obj: Mapping[str, object]) -> RunEvent | None:
    """One plugin JSON object as an event; None for anything unknown or malformed."""
    try:
        kind = obj.get("event")
        if kind == "collected":
            return Collected(str(obj["nodeid"]))
        if kind == "collection_finished":
            return CollectionFinished(int(obj["count"]))  # type: ignore[call-overload]
        if kind == "result":
            outcome = str(obj["outcome"])
            if outcome not in OUTCOMES:
                return None
            return TestResult(
                nodeid=str(obj["nodeid"]),
                outcome=outcome,
                duration=float(obj.get("duration") or 0.0),  # type: ignore[arg-type]
                when=str(obj.get("when", "call")),
                message=str(obj.get("message") or ""),
                longrepr=str(obj.get("longrepr") or ""),
                stdout=str(obj.get("stdout") or ""),
                stderr=str(obj.get("stderr") or ""),
                # An uncounted report (a passing subtest at pytest's default verbosity)
                # has the category ""; older events had no category at all.
                category=str(obj["category"]) if "category" in obj else outcome,
                subtest=str(obj.get("subtest") or ""),
                location=str(obj.get("location") or ""),
            )
        if kind == "finished":
            counts = empty_counts()
            raw = obj.get("counts")
            if isinstance(raw, dict):
                counts.update({str(k): int(v) for k, v in raw.items()})
            return Finished(int(obj["exit_code"]), counts, 0.0)  # type: ignore[call-overload]
    except (KeyError, TypeError, ValueError):
        return None
    return None


@dataclass(frozen=True)
class RunRequest:
    project: Path
    python: str
    pytest_args: tuple[str, ...] = ()
    collect_only: bool = False
    # Courteous to training: no GPUs visible and a lower CPU priority.
    courteous: bool = True
    run_timeout: float | None = None
    # Per-test limit, applied only when pytest-timeout is installed in the target.
    test_timeout: float | None = None
    capture_cap: int = 65536
    extra_env: Mapping[str, str] = field(default_factory=dict)
    # How ``python`` was chosen; when given, a missing pytest names that environment's fix.
    python_env: PythonEnv | None = None
    # Exact node ids to keep among those collected (see ``pytest_targets``).
    select: tuple[str, ...] = ()


def build_command(request: RunRequest, caps: Capabilities) -> list[str]:
    argv = [request.python, "-m", "pytest", "-p", PLUGIN_MODULE]
    if request.collect_only:
        argv += ["--collect-only", "-q"]
    if request.test_timeout and caps.has_pytest_timeout and not request.collect_only:
        argv.append(f"--timeout={request.test_timeout:g}")
    argv += list(request.pytest_args)
    return argv


def build_env(
    request: RunRequest,
    events_path: Path,
    base: Mapping[str, str],
    select_path: Path | None = None,
) -> dict[str, str]:
    env = dict(base)
    env.update(request.extra_env)
    # Prepend, keeping the user's own PYTHONPATH entries after ours.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PLUGIN_DIR), env.get("PYTHONPATH")) if p)
    env[EVENTS_ENV] = str(events_path)
    env[CAP_ENV] = str(request.capture_cap)
    if select_path is not None:
        env[SELECT_ENV] = str(select_path)
    if request.courteous:
        env["CUDA_VISIBLE_DEVICES"] = ""
    return env


def check_project(project: Path) -> Path:
    if not project.is_dir():
        raise SetupError(f"project directory {project} does not exist")
    return project


class TestRun:
    """One pytest process. ``run`` blocks until it ends and returns the ``Finished`` event."""

    __test__ = False

    def __init__(
        self,
        request: RunRequest,
        on_event: Callable[[RunEvent], None] | None = None,
        *,
        grace_s: float = 5.0,
    ) -> None:
        self.request = request
        self.on_event = on_event
        self.grace_s = grace_s
        self.results: list[TestResult] = []
        self.collected: list[str] = []
        self._cancel = threading.Event()
        self._reason = ""
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._interrupted_at: float | None = None
        # Set before pytest starts: a problem with the chosen Python that may explain
        # failures (the project's own package does not import from it).
        self.warning = ""

    def cancel(self) -> None:
        """Ask the run to stop: SIGINT to pytest's group, SIGKILL after the grace period."""
        if not self._reason:
            self._reason = "cancelled"
        self._cancel.set()
        # Signal now, not at the next poll: the caller may be about to exit.
        self._interrupt()

    def _interrupt(self) -> None:
        with self._lock:
            if self._proc is None or self._interrupted_at is not None:
                return
            self._interrupted_at = time.monotonic()
            pid = self._proc.pid
        _signal_group(pid, signal.SIGINT)

    def run(self) -> Finished:
        """Start pytest and stream its events; raises SetupError when it cannot start."""
        check_project(self.request.project)
        env = self.request.python_env
        if env is not None and env.python == self.request.python:
            caps, self.warning = check_env(env, self.request.project)
        else:
            caps = require_pytest(self.request.python, self.request.project)
        tmp = Path(tempfile.mkdtemp(prefix="waitwise-tests-"))
        try:
            return self._run(caps, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _run(self, caps: Capabilities, tmp: Path) -> Finished:
        events_path = tmp / "events.jsonl"
        events_path.touch()
        log_path = tmp / "output.log"
        select_path = None
        if self.request.select:
            select_path = tmp / "select.txt"
            select_path.write_text("\n".join(self.request.select) + "\n", encoding="utf-8")
        started = time.monotonic()
        with open(log_path, "wb") as log:
            try:
                proc = subprocess.Popen(
                    build_command(self.request, caps),
                    cwd=self.request.project,
                    env=build_env(self.request, events_path, os.environ, select_path),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                raise SetupError(f"cannot start {self.request.python}: {exc}") from exc
        with self._lock:
            self._proc = proc
        if self.request.courteous:
            _lower_priority(proc.pid)
        finished = self._stream(proc, events_path, started)
        duration = time.monotonic() - started
        counts = finished.counts if finished is not None else self._tally()
        code = finished.exit_code if finished is not None else proc.returncode
        tail = _read_tail(log_path)
        problem = pytest_problem(tail) if code in (2, 3, 4) and not self._reason else ""
        done = Finished(code, counts, duration, self._reason, tail, self.warning, problem)
        self._emit(done)
        return done

    def _stream(self, proc: subprocess.Popen, events_path: Path, started: float) -> Finished | None:
        finished: Finished | None = None
        pending = b""
        with open(events_path, "rb") as events:
            while True:
                exited = proc.poll() is not None
                chunk = events.read(_READ_CHUNK)
                if chunk:
                    pending += chunk
                    *lines, pending = pending.split(b"\n")
                    for line in lines:
                        event = _decode(line)
                        if isinstance(event, Finished):
                            finished = event
                        elif event is not None:
                            self._record(event)
                    continue
                if exited:
                    return finished
                now = time.monotonic()
                timeout = self.request.run_timeout
                if timeout and now - started > timeout and not self._cancel.is_set():
                    self._reason = f"timed out after {timeout:g} s"
                    self._cancel.set()
                if self._cancel.is_set():
                    self._interrupt()
                    if (
                        self._interrupted_at is not None
                        and now - self._interrupted_at > self.grace_s
                    ):
                        _signal_group(proc.pid, signal.SIGKILL)
                time.sleep(_POLL_S)

    def _record(self, event: RunEvent) -> None:
        if isinstance(event, TestResult):
            self.results.append(event)
        elif isinstance(event, Collected):
            self.collected.append(event.nodeid)
        self._emit(event)

    def _emit(self, event: RunEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _tally(self) -> dict[str, int]:
        counts = empty_counts()
        for result in self.results:
            if result.category:
                counts[result.category] = counts.get(result.category, 0) + 1
        return counts


def _decode(line: bytes) -> RunEvent | None:
    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return parse_event(obj) if isinstance(obj, dict) else None


def _signal_group(pid: int, sig: int) -> None:
    # The process may have just exited; its group is then gone too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _lower_priority(pid: int) -> None:
    if not hasattr(os, "setpriority"):
        return
    # Best effort: the child may already be gone, or the platform may refuse.
    with contextlib.suppress(OSError):
        current = os.getpriority(os.PRIO_PROCESS, 0)
        os.setpriority(os.PRIO_PROCESS, pid, min(19, current + 10))


def _read_tail(path: Path, max_bytes: int = LOG_TAIL_BYTES) -> str:
    """The last ``max_bytes`` of a log, decoded leniently (the log may hold 50 MB)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            data = handle.read(max_bytes)
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    if size > max_bytes:
        # Start at a line boundary when one is near; a huge single line is kept cut.
        newline = text.find("\n", 0, 1024)
        text = f"[... {size - max_bytes} bytes of output cut ...]\n" + text[newline + 1 :]
    return text
