"""A real local HTTP endpoint that Apprise's ``json://`` channel posts to.

``Hook`` runs an ``http.server`` on 127.0.0.1 on a free port in a thread and keeps
every JSON body it received. ``mode`` says how it answers: ``"ok"`` (200), ``"down"``
(503), or ``"slow"`` (waits ``delay`` seconds, then 200). ``url`` is the Apprise URL.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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
