"""Notice changed Python files in a project, for the tests tab's watch mode.

``scan`` reads the modification times of ``*.py`` files (skipping virtualenvs, VCS
and cache folders); ``Debouncer`` turns a stream of scans into one rerun once the
files have been quiet for a moment, so saving five files reruns the tests once.
"""

from __future__ import annotations

import os
from pathlib import Path

SKIP_DIRS = frozenset(
    {".venv", "venv", ".git", "__pycache__", ".waitwise", ".pytest_cache", "node_modules", ".tox"}
)


def scan(root: Path) -> dict[str, float]:
    """Modification time of every ``*.py`` file under ``root``, by relative path."""
    found: dict[str, float] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                try:
                    found[os.path.relpath(path, root)] = os.stat(path).st_mtime
                except OSError:  # deleted between listing and stat
                    continue
    return found


class Debouncer:
    """Feed it scans with their time; ``feed`` is True once a change has settled."""

    def __init__(self, quiet_s: float = 1.0) -> None:
        self.quiet_s = quiet_s
        self._last: dict[str, float] | None = None
        self._changed_at: float | None = None

    def feed(self, snapshot: dict[str, float], now: float) -> bool:
        if self._last is not None and snapshot != self._last:
            self._changed_at = now
        self._last = snapshot
        if self._changed_at is not None and now - self._changed_at >= self.quiet_s:
            self._changed_at = None
            return True
        return False
