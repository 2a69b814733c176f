"""A real local HTTP endpoint that Apprise's ``json://`` channel posts to, and a real
``waitwise-tui watch`` process beside it.

``Hook`` runs an ``http.server`` on 127.0.0.1 on a free port in a thread and keeps
every JSON body it received. ``mode`` says how it answers: ``"ok"`` (200), ``"down"``
(503), or ``"slow"`` (waits ``delay`` seconds, then 200). ``url`` is the Apprise URL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from waits import wait_until


class Hook:
    def __init__(self, mode: str = "ok", delay: float = 5.0) -> None:
        self.mode = mode
        self.delay = delay
        self.bodies: list[dict] = []
        self.requests = 0
        self._release = threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                hook.requests += 1
                if hook.mode == "slow":
                    hook._release.wait(hook.delay)
                if hook.mode == "down":
                    self.send_response(503)
                    self.end_headers()
                    return
                hook.bodies.append(json.loads(raw))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def __enter__(self) -> Hook:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


def write_settings(config_dir: Path, *urls: str, **notify) -> None:
    import tomli_w

    notify.setdefault("backoff_s", 0.05)
    text = tomli_w.dumps({"notify_urls": list(urls), "notify": notify})
    (config_dir / "settings.toml").write_text(text)
    os.chmod(config_dir / "settings.toml", 0o600)


def history(path: Path, steps: int = 20) -> None:
    path.write_text(
        "".join(json.dumps({"step": s, "loss": 1 / (s + 1)}) + "\n" for s in range(steps))
    )


class Watch:
    """A ``watch --json`` process whose stdout lines are collected by a thread."""

    def __init__(self, workspace: Path, *args: str) -> None:
        self.lines: list[dict] = []
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "waitwise_tui",
                "watch",
                "-w",
                str(workspace),
                "--json",
                "--interval",
                "0.2",
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()
        # Its first poll has read the runs (what follows is news, not history).
        wait_until(lambda: any("found" in line for line in self.stderr), "the first poll")

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(json.loads(line))

    def _read_err(self) -> None:
        for line in self.proc.stderr:
            self.stderr.append(line)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(30)
