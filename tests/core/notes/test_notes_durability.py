"""SIGKILL a process doing rapid note saves: the file is always one complete version."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

VERSION_LINES = 2000  # ~40 KB per version, so a kill often lands mid-write

WRITER = """
import sys
from pathlib import Path
from waitwise_tui.core.notes.store import load_note, save_note
path = Path(sys.argv[1])
lines = int(sys.argv[2])
fp = load_note(path).fingerprint
n = 0
print("ready", flush=True)
while True:
    n += 1
    text = "".join(f"version {n} line {i}\\n" for i in range(lines)) + f"end {n}\\n"
    fp = save_note(path, text, fp).fingerprint
"""


def _complete(text: str) -> bool:
    lines = text.splitlines()
    if len(lines) != VERSION_LINES + 1 or not lines[-1].startswith("end "):
        return False
    number = lines[-1].split()[1]
    return all(line == f"version {number} line {i}" for i, line in enumerate(lines[:-1]))


@pytest.mark.slow
def test_sigkill_during_saves_leaves_a_complete_version(tmp_path) -> None:
    path = tmp_path / "note.md"
    initial = "".join(f"version 0 line {i}\n" for i in range(VERSION_LINES)) + "end 0\n"
    path.write_text(initial)
    for round_ in range(30):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(VERSION_LINES)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        time.sleep(0.01 + 0.007 * (round_ % 7))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert _complete(path.read_text()), f"round {round_}: torn file"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "note.md"]
    # A kill between mkstemp and rename may leave a hidden temp file, never a torn note.
    assert all(name.startswith(".note.md.") and name.endswith(".tmp") for name in leftovers)
