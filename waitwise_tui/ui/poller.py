"""``Poller``: one long-lived background thread per panel that polls at an interval.

The monitor panels poll every second for as long as the app runs. Doing that with a
Textual timer plus a thread worker per poll costs a timer callback, a worker object
and its state-change messages every time; over hours that overhead was most of the
app's idle CPU. A Poller thread sleeps on an event instead, runs ``work`` (which
posts its result to the widget, a thread-safe call) and waits until the widget says
it has handled that result, so polls never overlap or pile up behind a busy UI.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Poller:
    """Runs ``work`` now, then again ``interval()`` seconds after each result is handled."""

    def __init__(self, work: Callable[[], None], interval: Callable[[], float], name: str) -> None:
        self._work = work
        self._interval = interval
        self._stopped = False
        self._handled = threading.Event()
        self._handled.set()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def handled(self) -> None:
        """The widget has shown the last result: the next poll may be scheduled."""
        self._handled.set()

    def poke(self) -> None:
        """Poll now instead of at the end of the current wait."""
        self._wake.set()

    def stop(self) -> None:
        self._stopped = True
        self._handled.set()
        self._wake.set()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stopped:
            self._handled.wait()
            if self._stopped:
                return
            self._handled.clear()
            self._wake.clear()
            try:
                self._work()  # posts its result; errors are the work's to report
            except Exception:  # nothing was posted: don't wait for a handler forever
                self._handled.set()
            self._wake.wait(max(0.05, self._interval()))
