"""App-level messages.

``RecordEvent`` goes up from whoever produced a core ``Event``; the app stores it,
notifies, and sends ``EventBroadcast`` down to every tab. Tabs never talk to each other.

``SystemUpdated`` and ``RunsUpdated`` come from ``ui/live.py``, the one owner of live
data, to every view that subscribed to them (the monitor pane, any tab). Each is a
fresh reading; an unhandled one is replaced by the next, so a busy UI never queues
old readings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from waitwise_tui.core.events import Event
    from waitwise_tui.core.gpu.sampler import SystemSnapshot
    from waitwise_tui.core.jobs.watch import ClusterSnapshot
    from waitwise_tui.core.runs.monitor import RunsSnapshot


@dataclass
class RecordEvent(Message):
    """Bubble this to the app to record and broadcast an event."""

    event: Event


@dataclass
class EventBroadcast(Message, bubble=False):
    """Sent by the app to each tab after an event was recorded."""

    event: Event


@dataclass
class SystemUpdated(Message, bubble=False):
    """A GPU + host reading; ``snapshot`` is None when the poll failed (``problem``
    says why). ``problem`` may also come with a snapshot (e.g. a bad fake NVML spec)."""

    snapshot: SystemSnapshot | None
    problem: str | None = None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SystemUpdated)


@dataclass
class RunsUpdated(Message, bubble=False):
    """A training-runs reading; ``snapshot`` is None when the scan failed (``problem``)."""

    snapshot: RunsSnapshot | None
    problem: str | None = None
    # The chart asked for with ``Live.request_chart``, drawn on the poll thread from
    # this same reading: (ANSI text, the request's key); None when not redrawn.
    chart: tuple[str, tuple] | None = None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunsUpdated)


@dataclass
class ClusterUpdated(Message, bubble=False):
    """The Slurm jobs watched (linked to a run, or picked in the cluster view): their
    GPUs per node, their time left, and the alerts that started during this poll
    (``events``: recorded by the runs panel only, so each is stored once).
    ``snapshot`` is None when the poll failed (``problem``)."""

    snapshot: ClusterSnapshot | None
    problem: str | None = None
    events: tuple[Event, ...] = ()

    def can_replace(self, message: Message) -> bool:
        # A reading that carries events is never dropped for a newer one.
        return isinstance(message, ClusterUpdated) and not message.events
