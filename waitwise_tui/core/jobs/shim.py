"""The shim every job runs under: ``python -m waitwise_tui.core.jobs.shim JOBDIR -- ARGV...``.

It records its own pid (``shim.json``), runs the child with stdout and stderr going to
``JOBDIR/stdout.log``, forwards SIGTERM/SIGINT/SIGHUP to it, and when the child ends
writes ``exit.json`` atomically (exit code or signal, start and end times) and exits
with the child's status (128 + N for signal N), so a batch system sees the job's
real outcome. The runner
may quit or die meanwhile: the shim lives in its own session and does not need it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from waitwise_tui.core.atomic import atomic_write_text


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m waitwise_tui.core.jobs.shim JOBDIR -- ARGV...", file=sys.stderr)
        return 2
    jobdir = Path(argv[0])
    command = argv[2:]
    started = time.time()
    atomic_write_text(jobdir / "shim.json", json.dumps({"pid": os.getpid(), "started": started}))
    with open(jobdir / "stdout.log", "ab", buffering=0) as log:
        try:
            child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        except OSError as exc:
            log.write(f"waitwise: cannot start {command[0]!r}: {exc}\n".encode())
            _write_exit(jobdir, started, exit_code=127, error=str(exc))
            return 127

        def forward(signum: int, _frame: object) -> None:
            # The child shares our process group, so a group signal reaches it anyway;
            # this covers a signal sent to the shim's pid alone.
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signum)

        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, forward)
        code = child.wait()
    if code < 0:
        _write_exit(jobdir, started, exit_code=None, signal_number=-code)
        return 128 - code
    _write_exit(jobdir, started, exit_code=code)
    # The child's status is ours too: Slurm's afterok and its job state depend on it.
    return code


def _write_exit(
    jobdir: Path,
    started: float,
    *,
    exit_code: int | None,
    signal_number: int | None = None,
    error: str = "",
) -> None:
    record = {
        "exit_code": exit_code,
        "signal": signal_number,
        "started": started,
        "finished": time.time(),
        "error": error,
    }
    atomic_write_text(jobdir / "exit.json", json.dumps(record))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
