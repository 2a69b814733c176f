"""Which process writes a run's log: found with psutil, on evidence, cached, rate-limited.

A process is a run's writer only on positive evidence, never because of where it runs:

- it has the run's file (for a tfevents directory, a file inside it) open for writing;
- the holder is a pass-through (``python train.py | tee log``): the writer is the
  process whose stdout feeds the holder's stdin, the training process, not ``tee``;
- nobody holds the file open (a writer that reopens it per flush): a process whose
  own write count grew by at least the file's growth at two consecutive searches in
  which the file grew, among the processes whose working directory or command line
  relates to the run's directory. The directory alone only narrows the search.

Walking the process table is the expensive part, so ``WriterFinder.poll`` walks it at
most once per call for all runs that need a search, and searches each run at most every
``scan_seconds``. Once found, a writer is only re-checked for being alive (cheap). Only
the current user's processes are examined: others' open files are not readable anyway.

The UI matches ``writer pid`` against the GPU process table itself.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

# Programs that copy their stdin into the log: the process feeding them is the writer.
PASS_THROUGH = frozenset({"tee", "ts"})
# Searches in a row whose write activity must match the file's growth.
GROWTH_MATCHES = 2


@dataclass(frozen=True)
class Writer:
    """``pid`` of the writer last found (None: never found); ``alive`` None if unknown.

    ``evidence`` says why that process is taken as the writer.
    """

    pid: int | None
    alive: bool | None
    evidence: str = ""


@dataclass
class _Growth:
    """What the previous search saw of a run nobody holds open."""

    size: int = -1
    writes: dict[int, tuple[float, int]] = field(default_factory=dict)
    matches: dict[int, int] = field(default_factory=dict)


class WriterFinder:
    """Cached, rate-limited writer lookup for many run paths at once."""

    def __init__(
        self, scan_seconds: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.scan_seconds = scan_seconds
        self._clock = clock
        self._found: dict[str, tuple[Any, str]] = {}
        self._dead: dict[str, Writer] = {}
        self._last_search: dict[str, float] = {}
        self._growth: dict[str, _Growth] = {}
        self.scans = 0

    def poll(self, paths: Iterable[str]) -> dict[str, Writer]:
        """Writers of ``paths`` (searching those without one if their turn has come)."""
        import psutil

        now = self._clock()
        result: dict[str, Writer] = {}
        search: list[str] = []
        for path in paths:
            found = self._found.get(path)
            if found is not None:
                proc, evidence = found
                try:
                    alive = proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
                except psutil.Error:
                    alive = False
                if alive:
                    result[path] = Writer(proc.pid, True, evidence)
                    continue
                del self._found[path]
                self._dead[path] = Writer(proc.pid, False, evidence)
            if now - self._last_search.get(path, -float("inf")) >= self.scan_seconds:
                search.append(path)
            else:
                result[path] = self._dead.get(path, Writer(None, None))
        if search:
            found_now = self._scan(search)
            for path in search:
                self._last_search[path] = now
                hit = found_now.get(path)
                if hit is not None:
                    self._found[path] = hit
                    self._growth.pop(path, None)
                    self._dead.pop(path, None)
                    result[path] = Writer(hit[0].pid, True, hit[1])
                else:
                    # A writer seen exiting stays the answer until another is found.
                    result[path] = self._dead.get(path, Writer(None, None))
        return result

    def forget(self, path: str) -> None:
        """Drop what is known of ``path``'s writer (the run started over)."""
        self._found.pop(path, None)
        self._dead.pop(path, None)
        self._growth.pop(path, None)
        self._last_search.pop(path, None)

    # -- searching -------------------------------------------------------------------

    def _scan(self, paths: list[str]) -> dict[str, tuple[Any, str]]:
        import psutil

        self.scans += 1
        targets = {}
        for path in paths:
            real = os.path.realpath(path)
            is_dir = os.path.isdir(real)
            targets[path] = (real, is_dir, real if is_dir else os.path.dirname(real))
        me = os.getpid()
        uid = os.getuid() if hasattr(os, "getuid") else None
        procs: list[Any] = []
        found: dict[str, tuple[Any, str]] = {}
        for proc in psutil.process_iter(["pid", "uids", "name"]):
            info = proc.info
            if info["pid"] == me:
                continue
            uids = info.get("uids")
            if uid is not None and (uids is None or uids.real != uid):
                continue
            procs.append(proc)
            try:
                written = {f.path for f in proc.open_files() if _writes(f)}
            except psutil.Error:
                continue
            if not written:
                continue
            for path, (real, is_dir, _run_dir) in targets.items():
                if path in found:
                    continue
                if is_dir:
                    hit = any(p.startswith(real + os.sep) for p in written)
                else:
                    hit = real in written
                if hit:
                    found[path] = (proc, "has the log open for writing")
        for path, (proc, _evidence) in list(found.items()):
            if (proc.info.get("name") or "") in PASS_THROUGH:
                feeder = _feeder(proc, procs)
                if feeder is not None:
                    name = proc.info.get("name")
                    found[path] = (feeder, f"its stdout is piped into {name} (pid {proc.pid})")
        rest = {p: t for p, t in targets.items() if p not in found}
        if rest:
            found.update(self._match_growth(rest, procs))
        return found

    def _match_growth(
        self, targets: dict[str, tuple[str, bool, str]], procs: list[Any]
    ) -> dict[str, tuple[Any, str]]:
        """Writers of files nobody holds open: write activity that matches the growth."""
        import psutil

        related: dict[str, list[Any]] = {path: [] for path in targets}
        for proc in procs:
            try:
                cwd = proc.cwd()
                cmdline = " ".join(proc.cmdline())
            except psutil.Error:
                continue
            for path, (_real, _is_dir, run_dir) in targets.items():
                if _related(cwd, cmdline, run_dir):
                    related[path].append(proc)
        found: dict[str, tuple[Any, str]] = {}
        for path, (real, _is_dir, _run_dir) in targets.items():
            state = self._growth.setdefault(path, _Growth())
            size = _size(real)
            grew = size - state.size if state.size >= 0 else 0
            writes: dict[int, tuple[float, int]] = {}
            by_pid = {}
            for proc in related[path]:
                try:
                    writes[proc.pid] = (proc.create_time(), _write_count(proc))
                except (psutil.Error, AttributeError):
                    continue
                by_pid[proc.pid] = proc
            if grew > 0:
                matches: dict[int, int] = {}
                for pid, (started, count) in writes.items():
                    before = state.writes.get(pid)
                    if before is not None and before[0] == started and count - before[1] >= grew:
                        matches[pid] = state.matches.get(pid, 0) + 1
                state.matches = matches
            state.size, state.writes = size, writes
            sure = [pid for pid, n in state.matches.items() if n >= GROWTH_MATCHES]
            if len(sure) == 1:
                found[path] = (
                    by_pid[sure[0]],
                    f"its writes matched the log's growth {state.matches[sure[0]]} times",
                )
        return found


def _writes(open_file: Any) -> bool:
    mode = getattr(open_file, "mode", None)
    return mode is None or mode != "r"


def _related(cwd: str, cmdline: str, run_dir: str) -> bool:
    if cwd and (cwd == run_dir or run_dir.startswith(cwd.rstrip(os.sep) + os.sep)):
        return True
    return run_dir in cmdline or os.path.basename(run_dir) in cmdline.split()


def _size(path: str) -> int:
    try:
        if os.path.isdir(path):
            with os.scandir(path) as entries:
                return sum(e.stat().st_size for e in entries if e.is_file())
        return os.stat(path).st_size
    except OSError:
        return -1


def _write_count(proc: Any) -> int:
    counters = proc.io_counters()
    return int(getattr(counters, "write_chars", counters.write_bytes))


def _pipe(pid: int, fd: int) -> str | None:
    try:
        link = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        return None
    return link if link.startswith("pipe:") else None


def _feeder(holder: Any, procs: list[Any]) -> Any | None:
    """The process whose stdout (or stderr) is ``holder``'s stdin pipe (Linux /proc)."""
    pipe = _pipe(holder.pid, 0)
    if pipe is None:
        return None
    for proc in procs:
        if proc.pid != holder.pid and (_pipe(proc.pid, 1) == pipe or _pipe(proc.pid, 2) == pipe):
            return proc
    return None
