"""The app in a real pseudo-terminal, so the Linux driver's input thread runs (the
patched one in ``ui/textual_patches.py``): keys arrive, a lone Escape arrives (it
needs the parser's timeout, now the only thing that wakes the idle thread besides
input), and ctrl+q ends the app at once rather than at the next wake-up."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from ptyrun import PtyProcess

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal"),
    pytest.mark.slow,  # the whole app in a subprocess on a pty
]


def test_keys_escape_and_quit_in_a_real_terminal(tmp_path: Path) -> None:
    env = {"WAITWISE_CONFIG_DIR": str(tmp_path / "config"), "WAITWISE_FAKE_NVML": "two"}
    term = PtyProcess([sys.executable, "-m", "waitwise_tui", "-w", str(tmp_path)], env=env)
    try:
        term.wait_for(b"RAM", timeout=60)
        term.wait_for(b"Help", timeout=30)  # the footer: the app is fully up
        os.write(term.master, b"?")
        term.wait_for(b"esc closes", timeout=30)
        term.output.clear()
        os.write(term.master, b"\x1b")  # Escape alone: no sequence follows it
        term.wait_for(b"RAM", timeout=30)  # help closed, the main screen drawn again
        term.output.clear()
        os.write(term.master, b"\x11")  # ctrl+q
        # Read while waiting, as a terminal does: a full pty buffer would block the
        # app's last repaint and its exit (what made this test hang under load).
        assert term.wait_exit(timeout=30) == 0
    finally:
        term.close()
