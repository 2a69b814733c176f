"""Incremental file tailing shared by the run readers.

``FileTail`` polls one file: it reads only the bytes appended since the last poll and
starts over (``ReadUpdate.reset``) when the file was truncated, replaced (new inode)
or rewritten in place (its first bytes changed).

Tail first: a reader that can find a record boundary from any offset (``tail_first``)
opens a file bigger than ``TAIL_FIRST_BYTES`` at its end: the first poll reads the
header (``_tail_prefix``) and the last ``TAIL_WINDOW`` bytes from the first boundary
in them (``_sync``), so the latest state is shown at once. Each later poll reads up to
``HISTORY_STEP`` bytes of the history before that point with a second reader of the
same kind, passes its scalars on as ``ReadUpdate.history`` columns as they are read
and reports ``ReadUpdate.loading``; when the history is complete, one poll hands over
(``reset`` with ``handover``: the history passed on so far is now the whole run) and
the tail goes on as usual. Nothing here holds the history: the consumer builds it up
(the monitor into bounded series), so memory never grows with the file.

``LineTail`` adds line splitting on
``\\n`` and ``\\r`` with a hard cap on line length, so a huge line without a newline
never grows memory beyond ``MAX_LINE`` plus one read chunk.
"""

from __future__ import annotations

import contextlib
import gc
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import BinaryIO

from waitwise_tui.core.alloc import keep_freed_memory
from waitwise_tui.core.runs.model import Column, Point, ReadUpdate, RunCandidate

CHUNK = 1 << 20
MAX_LINE = 64 * 1024
# Bytes at the start of a file remembered to notice an in-place rewrite.
HEAD_BYTES = 256
# A poll reading more than this pauses the cyclic GC (see ``gc_paused``).
BULK_BYTES = 4 * CHUNK
# Files above this size open tail first (for readers that support it).
TAIL_FIRST_BYTES = 64 << 20
# How much of the end of such a file the first poll reads.
TAIL_WINDOW = 4 << 20
# How much history each later poll reads behind the tail.
HISTORY_STEP = 64 << 20


@contextlib.contextmanager
def gc_paused(active: bool = True) -> Iterator[None]:
    """Pause the cyclic garbage collector while a bulk read allocates millions of objects.

    Each young-generation collection would otherwise walk the freshly built rows and
    points again and again (it more than doubles the time of reading a big log). The
    objects made here hold no cycles, so nothing is lost by collecting later. The
    collector is turned back on only by the caller that turned it off.
    """
    paused = active and gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


class FileTail(ABC):
    """Base tail: subclasses implement ``_consume`` (new bytes) and ``_restart``."""

    # Readers that implement ``_sync`` set this to open big files tail first.
    tail_first = False

    def __init__(self, candidate: RunCandidate) -> None:
        self.candidate = candidate
        self._path = candidate.path
        self._offset = 0
        self._ident: tuple[int, int] | None = None
        self._head = b""
        self._gone = False
        self._closed = False
        # Tail-first state: the reader of the history, what it read, where the tail began.
        self._history: FileTail | None = None
        self._cut = 0
        # True for the one poll that handed over the filled-in history.
        self.filled = False

    # -- subclass hooks -------------------------------------------------------------
    @abstractmethod
    def _consume(self, data: bytes, update: ReadUpdate) -> None:
        """Handle ``data``, the bytes that follow everything consumed so far."""

    def _restart(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Forget all parse state (the file is read again from byte 0)."""

    def _finish_poll(self, update: ReadUpdate) -> None:  # noqa: B027 - optional hook
        """Called once per poll after new bytes were consumed (progress etc.)."""

    def _head_target(self) -> int:
        """How many leading bytes identify this file's content (for rewrite checks)."""
        return HEAD_BYTES

    def _tail_prefix(self, head: bytes) -> int | None:
        """How many leading bytes of ``head`` to parse before the tail (a header);
        None when the file cannot be opened tail first."""
        return 0

    def _sync(self, window: bytes) -> int | None:
        """Where in ``window`` (bytes from an arbitrary offset) a record starts."""
        return None

    def _skipped(self, nbytes: int, sample: bytes) -> None:  # noqa: B027 - optional hook
        """The tail skips ``nbytes`` of history; ``sample`` is the tail (to estimate
        counters such as a row index until the history is read)."""

    # -- public API -----------------------------------------------------------------
    def poll(self) -> ReadUpdate:
        """Read what was appended since the last poll; never raises on bad content."""
        update = ReadUpdate()
        if self._closed:
            return update
        try:
            st = os.stat(self._path)
        except FileNotFoundError:
            if not self._gone and self._ident is not None:
                update.gone = True
            self._gone = True
            return update
        except OSError as exc:
            update.error = f"cannot stat {self._path}: {exc.strerror or exc}"
            return update
        ident = (st.st_dev, st.st_ino)
        if self._gone and self._ident is not None:
            # The file came back after a delete: it is a new file.
            self._ident = None
            self._start_over(update)
        self._gone = False
        if self._ident is not None and (ident != self._ident or st.st_size < self._offset):
            self._start_over(update)
        self._ident = ident
        if st.st_size == self._offset and self._history is None:
            return update
        self.filled = False
        try:
            with open(self._path, "rb") as fh:
                if self._head and fh.read(len(self._head)) != self._head:
                    self._start_over(update)
                opened = False
                if not self._offset and self.tail_first and st.st_size > TAIL_FIRST_BYTES:
                    opened = self._open_tail_first(fh, st.st_size)
                if st.st_size > self._offset:
                    self._read_to(fh, st.st_size, update)
                    self._finish_poll(update)
                if opened:
                    # This poll shows the tail at once; the history follows from the next.
                    update.loading = (0, self._cut)
                elif self._history is not None:
                    self._fill(fh, update)
        except OSError as exc:
            update.error = f"cannot read {self._path}: {exc.strerror or exc}"
            return update
        return update

    def _read_to(self, fh: BinaryIO, end: int, update: ReadUpdate) -> None:
        """Consume the bytes from ``self._offset`` to ``end``."""
        fh.seek(self._offset)
        remaining = end - self._offset
        bulk = remaining > BULK_BYTES
        if bulk:
            keep_freed_memory()  # chunk temporaries reuse pages (see ``core.alloc``)
        with gc_paused(bulk):
            while remaining > 0:
                data = fh.read(min(CHUNK, remaining))
                if not data:
                    break
                remaining -= len(data)
                self._remember_head(data)
                self._offset += len(data)
                self._consume(data, update)

    # -- tail first -----------------------------------------------------------------
    def _open_tail_first(self, fh: BinaryIO, size: int) -> bool:
        """Start reading at the first record boundary of the file's last bytes;
        False when the file has no boundary there (it is read from the start)."""
        fh.seek(0)
        head = fh.read(self._head_target())
        prefix = self._tail_prefix(head)
        if prefix is None:
            return False
        guess = max(prefix, size - TAIL_WINDOW)
        fh.seek(guess)
        window = fh.read(size - guess)
        start = self._sync(window)
        if start is None:
            return False
        history = type(self)(self.candidate)
        history.tail_first = False
        self._history = history
        self._cut = guess + start
        self._head = head
        if prefix:
            header = ReadUpdate()
            self._consume(head[:prefix], header)
        self._skipped(self._cut - prefix, window[start:])
        self._offset = self._cut
        return True

    def _fill(self, fh: BinaryIO, update: ReadUpdate) -> None:
        """Pass on the next ``HISTORY_STEP`` bytes of history; hand over when done.

        When the history reaches the cut, the history reader also reads what this tail
        read after it, so its parse state (a line count, a row index) is exact and the
        history passed on is the whole run; it then takes this tail's place.
        """
        history = self._history
        assert history is not None
        part = ReadUpdate()
        end = min(self._cut, history._offset + HISTORY_STEP)
        history._read_to(fh, end, part)
        if history._offset >= self._cut:
            history._read_to(fh, self._offset, part)
        history._finish_poll(part)
        update.history.extend(part.columns)
        update.history.extend(as_columns(part.points))
        if history._offset < self._cut:
            update.loading = (history._offset, self._cut)
            return
        keep = {"_ident", "_gone", "_closed", "tail_first"}
        self.__dict__.update({k: v for k, v in history.__dict__.items() if k not in keep})
        self._history = None
        update.points.clear()
        update.columns.clear()
        update.reset = True
        update.handover = True
        self.filled = True

    def close(self) -> None:
        """Stop tailing; later polls return empty updates."""
        self._closed = True

    # -- helpers --------------------------------------------------------------------
    def _start_over(self, update: ReadUpdate) -> None:
        self._offset = 0
        self._head = b""
        self._history = None
        update.points.clear()
        update.columns.clear()
        update.history.clear()
        update.reset = True
        self._restart()

    def _remember_head(self, data: bytes) -> None:
        want = self._head_target()
        if len(self._head) < want and self._offset == len(self._head):
            self._head += data[: want - len(self._head)]


def as_columns(points: list[Point]) -> list[Column]:
    """``points`` as one column per metric, each in log order."""
    if not points:
        return []
    import numpy as np

    grouped: dict[str, list[Point]] = {}
    for point in points:
        grouped.setdefault(point.metric, []).append(point)
    return [
        Column(
            metric,
            np.array([p.step for p in group], dtype="float64"),
            np.array([p.value for p in group], dtype="float64"),
            np.array([np.nan if p.wall_time is None else p.wall_time for p in group]),
        )
        for metric, group in grouped.items()
    ]


class LineTail(FileTail):
    """A tail that hands complete lines to ``_lines`` and the pending one to ``_partial``.

    Lines end at ``\\n`` or ``\\r`` (progress bars redraw with ``\\r``). A line longer
    than ``MAX_LINE`` is skipped whole, without buffering it.
    """

    def __init__(self, candidate: RunCandidate) -> None:
        super().__init__(candidate)
        self._rem = b""
        self._skipping = False

    @abstractmethod
    def _lines(self, lines: list[bytes], update: ReadUpdate) -> None:
        """Handle complete lines (without their line ends), in file order."""

    def _partial(self, rem: bytes, update: ReadUpdate) -> None:
        """Look at the incomplete last line (a progress bar being redrawn)."""

    def _restart(self) -> None:
        self._rem = b""
        self._skipping = False
        self._restart_lines()

    def _restart_lines(self) -> None:
        """Forget parse state kept by the subclass."""

    def _take(self, chunks: list[bytes]) -> tuple[bytes, int, int]:
        """The complete lines of the pending bytes plus ``chunks``: ``buf[start:end]``.

        The span ends at a line end (or is empty); the incomplete rest is kept for the
        next call, and the end of an overlong line being skipped is left out. The
        span is returned as offsets so that a big block is not copied once more.
        """
        one = len(chunks) == 1 and not self._rem
        buf = chunks[0] if one else b"".join([self._rem, *chunks])
        end = max(buf.rfind(b"\n"), buf.rfind(b"\r")) + 1
        start = 0
        rem = buf[end:]
        if self._skipping and end:
            # The span starts with the end of an overlong line that was dropped.
            ends = [i for i in (buf.find(b"\n", 0, end), buf.find(b"\r", 0, end)) if i >= 0]
            start = min(ends) + 1
            self._skipping = False
        elif self._skipping:
            rem = b""
        if len(rem) > MAX_LINE:
            rem = b""
            self._skipping = True
        self._rem = rem
        return buf, start, end

    def _consume(self, data: bytes, update: ReadUpdate) -> None:
        buf, start, end = self._take([data])
        lines = split_lines(buf[start:end])
        if lines:
            self._lines(lines, update)

    def _finish_poll(self, update: ReadUpdate) -> None:
        if self._rem and not self._skipping:
            self._partial(self._rem, update)

    def _sync(self, window: bytes) -> int | None:
        # A line starts after the first line end of the window.
        ends = [i for i in (window.find(b"\n"), window.find(b"\r")) if i >= 0]
        return min(ends) + 1 if ends else None

    @staticmethod
    def _estimate_lines(nbytes: int, sample: bytes) -> int:
        """About how many lines ``nbytes`` of history hold, judged by ``sample``."""
        lines = sample.count(b"\n") or 1
        return round(nbytes * lines / max(len(sample), 1))


def split_lines(block: bytes) -> list[bytes]:
    """The non-empty lines of ``block`` that fit ``MAX_LINE`` (ends: ``\\n``, ``\\r``)."""
    return [p for p in block.replace(b"\r", b"\n").split(b"\n") if p and len(p) <= MAX_LINE]
