"""The app in a real tmux, a training log with hostile metric names going NaN.

The alert reaches ``tmux display-message`` (the app runs inside tmux with the bell
style), the screen and the terminal. Checked against the real programs:
- tmux's message log shows each alert literally, and no ``#(...)`` canary appears;
- every byte the app wrote to its pane (``pipe-pane``) is free of the input's escape
  sequences (OSC 52 clipboard, OSC 8 link, clear screen, C1 CSI);
- the screen (``capture-pane``) shows the names escaped.
"""

from __future__ import annotations

import json
import math
import sys

import pytest
from hostile import assert_no_canary
from tmux_harness import (
    attach_client,
    needs_tmux,
    shown_messages,
    start_server,
    stop,
    terminal_env,
    tmux,
    wait_until,
)

pytestmark = [
    pytest.mark.slow,
    needs_tmux,
]

NAMES = {
    "shell": "#(touch {tmp}/p1)",
    "subst": "$(touch {tmp}/p2)",
    "clear": "lo\x1b[2Jss",
    "clip": "\x1b]52;c;SEVBQ0tFRA==\x07",
    "link": "\x1b]8;;file:///etc/passwd\x07ln",
    "c1": "c1\x9b2J",
    "time": "%j%u%x",
    "markup": "[bold red]x[/]",
}
# Sequences that may only come from the input; the app's own rendering never writes them.
PAYLOADS = [b"\x1b]52;c;", b"\x1b]8;;file:", b"\xc2\x9b", b"\x1b[2Jss", b"\x1b]8;;file"]


def test_alert_with_hostile_names_runs_nothing_and_shows_literally(tmp_path):
    canaries = tmp_path / "canaries"
    canaries.mkdir()
    names = {k: v.format(tmp=canaries) for k, v in NAMES.items()}
    project = tmp_path / "proj"
    project.mkdir()
    log = project / "train.jsonl"
    rows = [{"step": s, **{n: 1.0 / s for n in names.values()}} for s in range(1, 6)]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))

    sock = tmp_path / "tmux.sock"
    raw = tmp_path / "pane.bytes"
    env = terminal_env()
    # The pane waits for a key, so pipe-pane records the app's very first byte.
    start = f"read go; exec {sys.executable} -m waitwise_tui"
    start_server(sock, "w", ["sh", "-c", start], env=env, cwd=project)
    client = attach_client(sock, "w", cols=160, rows=64)  # room for all 8 alert lines
    try:
        tmux(sock, "pipe-pane", "-t", "w", "-O", f"cat >> {raw}")
        tmux(sock, "send-keys", "-t", "w", "Enter")
        # An alert found in a run's history is only a badge; one that happens while
        # the app watches is announced: the NaN row comes once the run is on screen.
        wait_until(
            lambda: "step 5" in tmux(sock, "capture-pane", "-p", "-t", "w"),
            timeout=60,
            what="the run on screen",
        )
        with log.open("a") as out:
            out.write(json.dumps({"step": 6, **{n: math.nan for n in names.values()}}) + "\n")

        def alerts() -> list[str]:
            return [m for m in shown_messages(sock) if m.startswith("waitwise:")]

        try:
            shown = wait_until(
                lambda: (found := alerts()) and len(found) >= len(names) and found,
                timeout=60,
                what="the NaN alerts in tmux",
            )
        except AssertionError:
            screen = tmux(sock, "capture-pane", "-p", "-t", "w")
            raise AssertionError(f"{alerts()}\n{tmux(sock, 'show-messages')}\n{screen}") from None
        joined = "\n".join(shown)
        assert "#(touch" in joined  # "#" doubled went in, one "#" shown
        assert "train: \\x1b]52;c;SEVBQ0tFRA==\\x07 is not finite" in joined
        assert "train: %j%u%x is not finite" in joined  # no strftime
        assert "train: [bold red]x[/] is not finite" in joined
        # The run panel's alert line: the tmux message can come before the next repaint.
        try:
            wait_until(
                lambda: "lo\\x1b[2Jss is not finite" in tmux(sock, "capture-pane", "-p", "-t", "w"),
                timeout=30,
                what="the run panel's alert line",
            )
        except AssertionError:
            screen = tmux(sock, "capture-pane", "-p", "-t", "w")
            raise AssertionError(f"no alert line for the ESC name on screen:\n{screen}") from None
        data = raw.read_bytes()
        assert data, "pipe-pane captured nothing"
        for payload in PAYLOADS:
            at = data.find(payload)
            assert at < 0, (payload, data[max(0, at - 300) : at + 100])
        assert_no_canary(canaries)
    finally:
        stop(sock, client)
