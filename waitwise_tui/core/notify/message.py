"""What a notification says: its level, the kind the switches name, and its text.

Messages name the host, the run (the event's source), the step, the value and the ETA
when the event knows them. Everything in them came from a log or a program, so it goes
through ``core.text.display``: no control characters, no terminal sequences; Apprise
escapes Markdown and HTML for the services that read them, since bodies are sent as
plain text. Nothing secret is put in: no URL, no environment, no command line.
"""

from __future__ import annotations

import math
import socket
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from waitwise_tui.core import events as core_events
from waitwise_tui.core import fmt
from waitwise_tui.core.events import Event
from waitwise_tui.core.text import display

CRITICAL_KINDS = frozenset({"nan", "crashed", "gpu_lost", "ecc"})
WARNING_KINDS = frozenset({"divergence", "stall", "throttle", "input_bound", "gpu_memory"})
TITLE_LIMIT = 120
BODY_LIMIT = 1500
DIGEST_LINES = 8


@dataclass(frozen=True)
class Note:
    """One message to send: a title, a body and its level."""

    title: str
    body: str
    level: str


@lru_cache(maxsize=1)
def host_name() -> str:
    return display(socket.gethostname(), limit=64) or "host"


def kind_of(event: Event) -> str:
    """The name the per-kind switches use: the alert's own kind (``nan``, ``stall``,
    ``input_bound``...) for alerts, else the event's kind (``trial_finished``...)."""
    alert = event.data.get("alert")
    if isinstance(alert, str) and alert:
        return alert
    if event.kind == core_events.RUN_CRASHED:
        return "crashed"
    if event.kind == core_events.RUN_FINISHED:
        return "finished"
    return event.kind


def level_of(event: Event) -> str:
    """``critical`` for what loses the run (NaN, crash, lost GPU), ``warning`` for
    what wastes it (divergence, stall, throttling...), ``info`` for the rest. A
    producer may say so itself with ``data["level"]``."""
    level = event.data.get("level")
    if level in ("info", "warning", "critical"):
        return str(level)
    kind = kind_of(event)
    if kind in CRITICAL_KINDS:
        return "critical"
    if kind in WARNING_KINDS:
        return "warning"
    return "info"


def episode_key(event: Event) -> tuple[str, ...] | None:
    """Alerts with one key belong to one episode (a NaN that stays NaN); other events
    (a finished trial) are each their own. A producer may name the episode itself
    with ``data["episode"]``."""
    episode = event.data.get("episode")
    if episode is not None:
        return (event.kind, str(episode))
    if event.kind not in (core_events.ALERT, core_events.RUN_CRASHED):
        return None
    return (event.kind, event.source, kind_of(event), str(event.data.get("metric") or ""))


def facts(event: Event) -> str:
    """``step 1,200 · loss = nan · ETA 2h05m`` from what the event's data holds."""
    data = event.data
    parts: list[str] = []
    step = _number(data.get("step"))
    if step is not None:
        parts.append(f"step {fmt.step(step)}")
    metric = data.get("metric")
    value = data.get("value")
    if isinstance(metric, str) and metric and isinstance(value, (int, float)):
        parts.append(f"{display(metric, limit=60)} = {_value(float(value))}")
    eta = _number(data.get("eta_s"))
    if eta is not None:
        parts.append(f"ETA {fmt.duration(eta)}")
    return " · ".join(parts)


def note_for(event: Event, host: str | None = None) -> Note:
    host = host or host_name()
    title = display(f"waitwise · {host} · {event.source}", limit=TITLE_LIMIT)
    lines = [display(event.message, multiline=True, limit=BODY_LIMIT)]
    detail = facts(event)
    if detail:
        lines.append(detail)
    return Note(title, "\n".join(lines), level_of(event))


def digest_note(events: Sequence[Event], dropped: int = 0, host: str | None = None) -> Note:
    """One message for a burst: how many of each kind, and the first few lines."""
    host = host or host_name()
    counts = Counter(kind_of(event) for event in events)
    total = len(events) + dropped
    title = display(f"waitwise · {host} · {total} events", limit=TITLE_LIMIT)
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.most_common())
    lines = [display(summary, limit=300)]
    lines += ["- " + display(f"{e.source}: {e.message}", limit=160) for e in events[:DIGEST_LINES]]
    if len(events) > DIGEST_LINES:
        lines.append(f"… and {len(events) - DIGEST_LINES} more")
    if dropped:
        lines.append(f"({dropped} more dropped: the queue was full)")
    level = max(
        (level_of(e) for e in events), key=("info", "warning", "critical").index, default="info"
    )
    return Note(title, "\n".join(lines), level)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _value(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.6g}"
