"""One open note: its path, what its buffer was last synced with, and serialised file work.

The editor's buffer is "dirty" while it differs from ``saved_text``. ``fingerprint`` is
the disk state that ``saved_text`` came from; a save compares the disk against it and
keeps a changed disk version as a conflict copy. A lock serialises every operation, so
saves, reloads, renames and deletes from different worker threads never interleave.
"""

from __future__ import annotations

import contextlib
import os
import threading
from datetime import datetime
from pathlib import Path

from waitwise_tui.core.atomic import atomic_write_text
from waitwise_tui.core.notes.store import (
    Fingerprint,
    LoadedNote,
    NoteError,
    NotUtf8Error,
    SaveResult,
    disk_changed,
    load_note,
    save_note,
)


class NoteDoc:
    """A note file and the state its editor buffer derives from (thread-safe)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.fingerprint: Fingerprint | None = None
        self.saved_text = ""
        self.readonly_reason: str | None = None
        self._version = 0
        self._lock = threading.Lock()

    def load(self) -> LoadedNote:
        """Read the file; its text becomes the synced state."""
        with self._lock:
            loaded = load_note(self.path)
            self._take(loaded)
            return loaded

    def adopt(self, loaded: LoadedNote) -> bool:
        """Take a reload read earlier, unless a save wrote the file since. True: taken."""
        with self._lock:
            if disk_changed(self.path, loaded.fingerprint):
                return False
            if loaded.fingerprint is None:
                # Deleted on disk: the buffer no longer matches any file, so it is unsaved.
                self.fingerprint = None
                self.saved_text = ""
                return True
            self._take(loaded)
            return True

    def _take(self, loaded: LoadedNote) -> None:
        self.fingerprint = loaded.fingerprint
        self.saved_text = loaded.text
        self.readonly_reason = loaded.readonly_reason

    def save(
        self, text: str, *, now: datetime | None = None, version: int | None = None
    ) -> SaveResult | None:
        """Write ``text`` (conflict copy first if the disk changed). Raises OSError/NoteError.

        ``version`` orders saves started from different threads: a save whose version is
        not above the last written one is stale and skipped (returns None).
        """
        with self._lock:
            if self.readonly_reason:
                raise NotUtf8Error(self.readonly_reason)
            if version is not None and version <= self._version:
                return None
            result = save_note(self.path, text, self.fingerprint, now=now)
            self.fingerprint = result.fingerprint
            self.saved_text = text
            if version is not None:
                self._version = version
            return result

    def create(self, text: str) -> None:
        """Write a new note; refuses to replace an existing file."""
        with self._lock:
            if self.path.exists():
                raise NoteError(f"note {self.path.stem!r} already exists")
            atomic_write_text(self.path, text)

    def changed_on_disk(self) -> bool:
        with self._lock:
            return disk_changed(self.path, self.fingerprint)

    def rename(self, target: Path) -> None:
        """Move the note to ``target`` (never over an existing note)."""
        target = Path(target)
        with self._lock:
            if target.exists():
                raise NoteError(f"note {target.stem!r} already exists")
            if self.fingerprint is not None or self.path.exists():
                os.rename(self.path, target)
            self.path = target

    def delete(self) -> None:
        with self._lock:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
            self.fingerprint = None
            self.saved_text = ""
