"""Sending one message to one channel through Apprise, with the channel's own error.

Apprise (2.x) says why a delivery failed in the log entries of the result it returns;
``AppriseSender.send`` returns the last warning or error among them, with the channel's
URL replaced by its redacted name. Apprise is imported on the first send (it is not
small), on the notifier's thread.
"""

from __future__ import annotations

import logging
from typing import Protocol

from waitwise_tui.core.notify.channels import Channel
from waitwise_tui.core.notify.message import Note
from waitwise_tui.core.text import display

ERROR_LIMIT = 300


class Sender(Protocol):
    def send(self, channel: Channel, note: Note) -> str | None:
        """Deliver ``note``; None when it got through, else the channel's error."""
        ...


class AppriseSender:
    def __init__(self) -> None:
        self._servers: dict[str, object] = {}

    def send(self, channel: Channel, note: Note) -> str | None:
        import apprise

        lines: list[str] = []
        try:
            server = self._servers.get(channel.url)
            if server is None:
                server = apprise.Apprise()
                if not server.add(channel.url):
                    return f"{channel.name}: not a URL Apprise can send to"
                self._servers[channel.url] = server
            notify_type = {
                "critical": apprise.NotifyType.FAILURE,
                "warning": apprise.NotifyType.WARNING,
            }.get(note.level, apprise.NotifyType.INFO)
            result = server.notify(
                body=note.body,
                title=note.title,
                notify_type=notify_type,
                body_format=apprise.NotifyFormat.TEXT,
                log_level=logging.WARNING,
            )
            ok = bool(result)
            if not ok:
                lines = [
                    entry.message
                    for entry in result.logs()
                    if entry.level in ("WARNING", "ERROR", "CRITICAL")
                ]
        except Exception as exc:  # a plugin bug is this channel's error, not the app's
            lines.append(f"{type(exc).__name__}: {exc}")
            ok = False
        if ok:
            return None
        error = lines[-1] if lines else "delivery failed"
        return display(error.replace(channel.url, channel.name), limit=ERROR_LIMIT)
