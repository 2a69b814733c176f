"""Incremental file tailing shared by the run readers.

``FileTail`` polls one file: it reads only the bytes appended since the last poll and
starts over (``ReadUpdate.reset``) when the file was truncated, replaced (new inode)
or rewritten in place (its first bytes changed). ``LineTail`` adds line splitting on
``\\n`` and ``\\r`` with a hard cap on line length, so a huge line without a newline
never grows memory beyond ``MAX_LINE`` plus one read chunk.
"""

from __future__ import annotations

import contextlib
import gc
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator

from waitwise_tui.core.runs.model import ReadUpdate, RunCandidate

CHUNK = 1 << 20
MAX_LINE = 64 * 1024
# Bytes at the start of a file remembered to notice an in-place rewrite.
HEAD_BYTES = 256
# A poll reading more than this pauses the cyclic GC (see ``gc_paused``).
BULK_BYTES = 4 * CHUNK


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

    def __init__(self, candidate: RunCandidate) -> None:
        self.candidate = candidate
        self._path = candidate.path
        self._offset = 0
        self._ident: tuple[int, int] | None = None
        self._head = b""
        self._gone = False
        self._closed = False

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
        if st.st_size == self._offset:
            return update
        try:
            with open(self._path, "rb") as fh:
                if self._head and fh.read(len(self._head)) != self._head:
                    self._start_over(update)
                fh.seek(self._offset)
                remaining = st.st_size - self._offset
                with gc_paused(remaining > BULK_BYTES):
                    while remaining > 0:
                        data = fh.read(min(CHUNK, remaining))
                        if not data:
                            break
                        remaining -= len(data)
                        self._remember_head(data)
                        self._offset += len(data)
                        self._consume(data, update)
        except OSError as exc:
            update.error = f"cannot read {self._path}: {exc.strerror or exc}"
            return update
        self._finish_poll(update)
        return update

    def close(self) -> None:
        """Stop tailing; later polls return empty updates."""
        self._closed = True

    # -- helpers --------------------------------------------------------------------
    def _start_over(self, update: ReadUpdate) -> None:
        self._offset = 0
        self._head = b""
        update.points.clear()
        update.columns.clear()
        update.reset = True
        self._restart()

    def _remember_head(self, data: bytes) -> None:
        want = self._head_target()
        if len(self._head) < want and self._offset == len(self._head):
            self._head += data[: want - len(self._head)]


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


def split_lines(block: bytes) -> list[bytes]:
    """The non-empty lines of ``block`` that fit ``MAX_LINE`` (ends: ``\\n``, ``\\r``)."""
    return [p for p in block.replace(b"\r", b"\n").split(b"\n") if p and len(p) <= MAX_LINE]
