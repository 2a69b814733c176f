"""Run a command in a pseudo-terminal of a given size and watch what it writes.

Shared by the app benchmarks: time to first frame, idle CPU, bytes written per second.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time


class PtyProcess:
    def __init__(
        self, argv: list[str], *, cols: int = 120, rows: int = 40, env: dict | None = None
    ):
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        full_env = {
            **os.environ,
            "TERM": "xterm-256color",
            "COLUMNS": str(cols),
            "LINES": str(rows),
        }
        full_env.update(env or {})
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=full_env, start_new_session=True
        )
        os.close(slave)
        self.output = bytearray()

    def read_for(self, seconds: float) -> int:
        """Read (and keep) output for ``seconds``; returns the bytes read."""
        deadline = time.perf_counter() + seconds
        count = 0
        while (left := deadline - time.perf_counter()) > 0:
            ready, _, _ = select.select([self.master], [], [], min(left, 0.1))
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    break
                count += len(chunk)
                self.output += chunk
        return count

    def wait_for(self, needle: bytes, timeout: float = 30.0) -> float:
        """Seconds from start until ``needle`` appeared in the output."""
        return self.wait_for_any((needle,), timeout)

    def wait_for_any(self, needles: tuple[bytes, ...], timeout: float = 30.0) -> float:
        """Seconds from start until one of ``needles`` appeared in the output."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if any(needle in self.output for needle in needles):
                return time.perf_counter() - self.started
            ready, _, _ = select.select([self.master], [], [], 0.01)
            if ready:
                try:
                    self.output += os.read(self.master, 65536)
                except OSError:
                    break
        raise TimeoutError(f"{needles!r} not seen in {timeout} s")

    def wait_exit(self, timeout: float = 30.0) -> int:
        """Wait for the process to end while reading what it writes.

        A terminal always drains its output; a test that only waited would leave the
        pty's buffer full, and an app blocked writing a repaint never reaches its exit.
        """
        deadline = time.perf_counter() + timeout
        while (code := self.proc.poll()) is None:
            if time.perf_counter() > deadline:
                raise subprocess.TimeoutExpired(self.proc.args, timeout)
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    self.output += os.read(self.master, 65536)
                except OSError:
                    time.sleep(0.01)  # slave closed: the process is ending
        return code

    def cpu_seconds(self) -> float:
        import psutil

        proc = psutil.Process(self.proc.pid)
        total = proc.cpu_times().user + proc.cpu_times().system
        for child in proc.children(recursive=True):
            try:
                times = child.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        os.close(self.master)
