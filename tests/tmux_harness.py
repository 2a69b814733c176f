"""A private tmux server for tests: its own socket in the test's tmp dir, a client
attached on a pseudo-terminal (display-message needs a client to show and log a
message), and tmux's message log read back (``show-messages``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def wait_until(check, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def tmux(sock: Path, *args: str) -> str:
    return subprocess.run(
        ["tmux", "-S", str(sock), *args], capture_output=True, text=True, check=False
    ).stdout


def terminal_env() -> dict[str, str]:
    """This process's environment for a program in a tmux pane: not inside our own
    tmux, and without COLUMNS/LINES (a test worker may have them, 80x24, left by a
    Textual app it ran; Textual takes them over the pane's real size)."""
    drop = {"TMUX", "COLUMNS", "LINES"}
    return {k: v for k, v in os.environ.items() if k not in drop} | {"TERM": "xterm-256color"}


def start_server(
    sock: Path, session: str, command: list[str], *, env=None, cwd=None, size=None
) -> None:
    """A detached session ``session`` running ``command``, on a server of its own;
    ``size`` (cols, rows) makes its window that size from the start (a detached
    session is 80x24 until a client attaches and tmux resizes it, which can come after
    the app inside has drawn)."""
    subprocess.run(
        ["tmux", "-S", str(sock), "-f", os.devnull, "new-session", "-d", "-s", session]
        + (["-x", str(size[0]), "-y", str(size[1])] if size else [])
        + (["-c", str(cwd)] if cwd else [])
        + command,
        check=True,
        env=env,
    )


def attach_client(sock: Path, session: str, *, cols: int = 100, rows: int = 30):
    """A client on a pty of ``cols`` x ``rows``; kill() it when done."""
    import fcntl
    import pty
    import struct
    import termios

    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = terminal_env()
    client = subprocess.Popen(
        ["tmux", "-S", str(sock), "attach", "-t", session],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=env,
        start_new_session=True,
    )
    os.close(secondary)

    def drain() -> None:  # the client's screen output: read and dropped
        try:
            while os.read(primary, 65536):
                pass
        except OSError:
            pass

    threading.Thread(target=drain, daemon=True).start()
    wait_until(lambda: tmux(sock, "list-clients").strip(), what="the tmux client")
    return client


def shown_messages(sock: Path) -> list[str]:
    """What tmux's message log says it displayed, oldest last."""
    out = []
    for line in tmux(sock, "show-messages").splitlines():
        _, sep, message = line.partition(" message: ")
        if sep:
            out.append(message.rstrip())
    return out


def stop(sock: Path, client) -> None:
    client.kill()
    subprocess.run(["tmux", "-S", str(sock), "kill-server"], check=False)
