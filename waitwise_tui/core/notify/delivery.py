"""``Notifier``: events in, messages out, on one background thread.

``submit`` never blocks: it puts the event on a bounded queue and returns. When the
queue is full the oldest info event is dropped first, then the oldest warning; a
critical event is never dropped (the queue grows past its bound for it). The thread
then, for each event:

1. skips it unless some channel takes its level and kind;
2. skips a repeat of the same episode (``message.episode_key``) within
   ``repeat_after_s``: a NaN that stays NaN is one message;
3. skips it unless this process holds the workspace's notify lease;
4. past ``digest_after`` messages within ``digest_window_s`` holds it for a digest,
   sent as one message when the window ends (critical events are never held);
5. sends it to each channel that wants it, retrying with doubling backoff, and records
   every attempt. A channel whose message finally fails is reported once through
   ``on_problem`` and again only after it has worked in between (``on_recovered``
   says when it does).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from waitwise_tui.core.events import Event
from waitwise_tui.core.notify import message as messages
from waitwise_tui.core.notify.channels import Channel, NotifyConfig
from waitwise_tui.core.notify.send import AppriseSender, Sender

if TYPE_CHECKING:
    import sqlite3

    from waitwise_tui.core.notify.lease import Lease


@dataclass(frozen=True)
class Queued:
    event: Event
    event_id: int | None
    level: str


class EventQueue:
    """A bounded queue that drops the oldest least important event when full."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: deque[Queued] = deque()
        self._dropped: list[Queued] = []
        self._cond = threading.Condition()
        self._closed = False

    def put(self, item: Queued) -> None:
        with self._cond:
            if len(self._items) >= self._size:
                victim = self._victim(item)
                if victim is item:
                    self._dropped.append(item)
                    return
                if victim is not None:
                    self._items.remove(victim)
                    self._dropped.append(victim)
            self._items.append(item)
            self._cond.notify()

    def _victim(self, incoming: Queued) -> Queued | None:
        for level in ("info", "warning"):
            for item in self._items:
                if item.level == level:
                    return item
            if incoming.level == level:
                return incoming
        return None  # all critical: keep them all

    def get(self, timeout: float | None) -> Queued | None:
        """The next event; None after ``timeout`` or once closed and empty."""
        with self._cond:
            if not self._items and not self._closed:
                self._cond.wait(timeout)
            return self._items.popleft() if self._items else None

    def take_dropped(self) -> list[Queued]:
        with self._cond:
            dropped, self._dropped = self._dropped, []
            return dropped

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)


class Notifier:
    """Delivers events to the configured channels on a thread of its own."""

    def __init__(
        self,
        config: NotifyConfig,
        *,
        db_path: str | Path | None,
        role: str = "app",
        sender: Sender | None = None,
        on_problem: Callable[[str], None] | None = None,
        on_recovered: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._db_path = db_path
        self._role = role
        self._sender = sender or AppriseSender()
        self._on_problem = on_problem
        self._on_recovered = on_recovered
        self._clock = clock
        self._queue = EventQueue(config.queue_size)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._conn: sqlite3.Connection | None = None
        self._lease: Lease | None = None
        self._db_failed = False
        self._last_sent: dict[tuple[str, ...], float] = {}
        self._sent_times: deque[float] = deque()
        self._pending: list[Queued] = []
        self._pending_dropped = 0
        self._digest_due: float | None = None
        self._lease_due = 0.0
        self._holds_lease = False
        self._failing: set[str] = set()
        self.sent = 0  # messages that got through to at least one channel

    # -- the caller's side ------------------------------------------------------------

    def start(self) -> Notifier:
        if self._thread is None and self.config.channels:
            self._thread = threading.Thread(target=self._run, name="waitwise-notify", daemon=True)
            self._thread.start()
        return self

    def submit(self, event: Event, event_id: int | None = None) -> None:
        """Queue ``event`` for delivery; returns at once."""
        if self._thread is None or self._queue.closed:
            return
        self._queue.put(Queued(event, event_id, messages.level_of(event)))

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued (a pending digest too, without retry waits), then stop."""
        thread = self._thread
        if thread is None:
            return
        self._queue.close()
        self._stop.set()
        thread.join(timeout)

    @property
    def holds_lease(self) -> bool:
        return self._holds_lease

    # -- the thread -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._renew_lease()
            while True:
                item = self._queue.get(self._wait_for())
                for dropped in self._queue.take_dropped():
                    self._dropped(dropped)
                if item is not None:
                    self._handle(item)
                now = self._clock()
                # Closing sends the pending digest once the queue is drained, not after
                # each queued item (that turned a closing burst into one message each).
                drained = item is None and self._queue.closed
                if self._digest_due is not None and (now >= self._digest_due or drained):
                    self._flush_digest()
                if item is None and self._queue.closed:
                    break
                if now >= self._lease_due:
                    self._renew_lease()
        finally:
            self._finish()

    def _wait_for(self) -> float:
        now = self._clock()
        deadlines = [self._lease_due]
        if self._digest_due is not None:
            deadlines.append(self._digest_due)
        return max(0.01, min(deadlines) - now)

    def _handle(self, item: Queued) -> None:
        event = item.event
        kind = messages.kind_of(event)
        if not any(c.wants(item.level, kind, self.config.kinds) for c in self.config.channels):
            return
        now = self._clock()
        key = messages.episode_key(event)
        last = self._last_sent.get(key) if key is not None else None
        if last is not None and now - last < self.config.repeat_after_s:
            return
        if not self._renew_lease():
            return
        if key is not None:
            self._last_sent[key] = now
        window = self.config.digest_window_s
        while self._sent_times and self._sent_times[0] <= now - window:
            self._sent_times.popleft()
        if item.level != "critical" and (
            self._pending or len(self._sent_times) >= self.config.digest_after
        ):
            self._pending.append(item)
            if self._digest_due is None:
                self._digest_due = now + window
            return
        self._sent_times.append(now)
        self._deliver(messages.note_for(event), [item])

    def _dropped(self, item: Queued) -> None:
        self._pending_dropped += 1
        self._record([item.event_id], "*", 0, False, "dropped: the notify queue was full")

    def _flush_digest(self) -> None:
        pending, dropped = self._pending, self._pending_dropped
        self._pending, self._pending_dropped, self._digest_due = [], 0, None
        if not pending:
            return
        self._sent_times.append(self._clock())
        if len(pending) == 1 and not dropped:
            self._deliver(messages.note_for(pending[0].event), pending)
            return
        self._deliver(messages.digest_note([q.event for q in pending], dropped), pending)

    def _deliver(self, note: messages.Note, items: Sequence[Queued]) -> None:
        kinds = {messages.kind_of(q.event) for q in items}
        ids = [q.event_id for q in items]
        got_through = False
        for channel in self.config.channels:
            if not any(channel.wants(note.level, k, self.config.kinds) for k in kinds):
                continue
            got_through = self._send(channel, note, ids) or got_through
        if got_through:
            self.sent += 1

    def _send(self, channel: Channel, note: messages.Note, ids: list[int | None]) -> bool:
        delay = self.config.backoff_s
        error: str | None = None
        for attempt in range(1, self.config.retries + 2):
            error = self._sender.send(channel, note)
            self._record(ids, channel.name, attempt, error is None, error or "")
            if error is None:
                if channel.name in self._failing:
                    self._failing.discard(channel.name)
                    if self._on_recovered is not None:
                        with contextlib.suppress(Exception):
                            self._on_recovered(channel.name)
                return True
            if attempt > self.config.retries or self._stop.is_set():
                break
            if self._stop.wait(delay):
                break
            delay = min(delay * 2, self.config.backoff_max_s)
        if channel.name not in self._failing:
            self._failing.add(channel.name)
            self._problem(f"notifications to {channel.name} failing: {error}")
        return False

    # -- database and lease -----------------------------------------------------------

    def _db(self) -> sqlite3.Connection | None:
        if self._conn is None and self._db_path is not None and not self._db_failed:
            from waitwise_tui.core.db import connect

            try:
                self._conn = connect(self._db_path)
            except Exception as exc:  # notify anyway; say once why nothing is recorded
                self._db_failed = True
                self._problem(f"notification attempts not recorded: {exc}")
        return self._conn

    def _record(
        self, ids: list[int | None], channel: str, attempt: int, ok: bool, error: str
    ) -> None:
        conn = self._db()
        if conn is None:
            return
        from waitwise_tui.core.notify.store import record_attempt

        try:
            record_attempt(
                conn, ids, time=self._clock(), channel=channel, attempt=attempt, ok=ok, error=error
            )
        except Exception as exc:
            if not self._db_failed:
                self._db_failed = True
                self._problem(f"notification attempts not recorded: {exc}")

    def _renew_lease(self) -> bool:
        """Hold the workspace's notify lease; without a database, always notify."""
        self._lease_due = self._clock() + self.config.lease_s / 3
        conn = self._db()
        if conn is None:
            self._holds_lease = True
            return True
        if self._lease is None:
            from waitwise_tui.core.notify.lease import Lease, owner_id

            self._lease = Lease(conn, owner_id(self._role), self.config.lease_s, self._clock)
        try:
            self._holds_lease = self._lease.acquire()
        except Exception:  # a locked database: notify rather than miss the alert
            self._holds_lease = True
        return self._holds_lease

    def _finish(self) -> None:
        if self._lease is not None and self._holds_lease:
            with contextlib.suppress(Exception):  # else the lease simply expires
                self._lease.release()
        if self._conn is not None:
            self._conn.close()

    def _problem(self, text: str) -> None:
        if self._on_problem is not None:
            with contextlib.suppress(Exception):  # a closed UI must not stop delivery
                self._on_problem(text)
