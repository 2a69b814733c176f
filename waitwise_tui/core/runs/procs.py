"""Which process writes a run's log: found with psutil, cached, rate-limited.

A process writes a run when it has the run's file (or, for a tfevents directory, a
file inside it) open, or when its command line mentions python and its working
directory is the run's directory. Walking the process table is the expensive part, so
``WriterFinder.poll`` walks it at most once per call for all runs that need a search,
and searches each run at most every ``scan_seconds``. Once found, a writer is only
re-checked for being alive (cheap). Only the current user's processes are examined:
others' open files are not readable anyway.

The UI matches ``writer pid`` against the GPU process table itself.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Writer:
    """``pid`` of the writer last found (None: never found); ``alive`` None if unknown."""

    pid: int | None
    alive: bool | None


class WriterFinder:
    """Cached, rate-limited writer lookup for many run paths at once."""

    def __init__(
        self, scan_seconds: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.scan_seconds = scan_seconds
        self._clock = clock
        self._found: dict[str, Any] = {}
        self._dead: dict[str, int] = {}
        self._last_search: dict[str, float] = {}
        self.scans = 0

    def poll(self, paths: Iterable[str]) -> dict[str, Writer]:
        """Writers of ``paths`` (searching those without one if their turn has come)."""
        import psutil

        now = self._clock()
        result: dict[str, Writer] = {}
        search: list[str] = []
        for path in paths:
            proc = self._found.get(path)
            if proc is not None:
                try:
                    alive = proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
                except psutil.Error:
                    alive = False
                if alive:
                    result[path] = Writer(proc.pid, True)
                    continue
                del self._found[path]
                self._dead[path] = proc.pid
            if now - self._last_search.get(path, -float("inf")) >= self.scan_seconds:
                search.append(path)
            elif path in self._dead:
                result[path] = Writer(self._dead[path], False)
            else:
                result[path] = Writer(None, None)
        if search:
            found = self._scan(search)
            for path in search:
                self._last_search[path] = now
                proc = found.get(path)
                if proc is not None:
                    self._found[path] = proc
                    self._dead.pop(path, None)
                    result[path] = Writer(proc.pid, True)
                elif path in self._dead:
                    result[path] = Writer(self._dead[path], False)
                else:
                    result[path] = Writer(None, None)
        return result

    def _scan(self, paths: list[str]) -> dict[str, Any]:
        import psutil

        self.scans += 1
        targets = {}
        for path in paths:
            real = os.path.realpath(path)
            is_dir = os.path.isdir(real)
            targets[path] = (real, is_dir, real if is_dir else os.path.dirname(real))
        me = os.getpid()
        uid = os.getuid() if hasattr(os, "getuid") else None
        found: dict[str, Any] = {}
        for proc in psutil.process_iter(["pid", "uids", "cmdline"]):
            if len(found) == len(targets):
                break
            info = proc.info
            if info["pid"] == me:
                continue
            uids = info.get("uids")
            if uid is not None and (uids is None or uids.real != uid):
                continue
            try:
                open_paths = {f.path for f in proc.open_files()}
            except psutil.Error:
                continue
            cwd: str | None = None
            pythonish = any("python" in part for part in (info.get("cmdline") or [])[:2])
            for path, (real, is_dir, run_dir) in targets.items():
                if path in found:
                    continue
                if is_dir:
                    hit = any(p.startswith(real + os.sep) for p in open_paths)
                else:
                    hit = real in open_paths
                if not hit and pythonish:
                    if cwd is None:
                        try:
                            cwd = proc.cwd()
                        except psutil.Error:
                            cwd = ""
                    hit = cwd == run_dir
                if hit:
                    found[path] = proc
        return found
