"""App-level messages.

``RecordEvent`` goes up from whoever produced a core ``Event``; the app stores it,
notifies, and sends ``EventBroadcast`` down to every tab. Tabs never talk to each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from waitwise_tui.core.events import Event


class RecordEvent(Message):
    """Bubble this to the app to record and broadcast an event."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class EventBroadcast(Message, bubble=False):
    """Sent by the app to each tab after an event was recorded."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event
