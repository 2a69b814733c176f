"""The data tab's recently opened datasets (a small JSON list in the workspace)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from waitwise_tui.core.atomic import atomic_write_text

if TYPE_CHECKING:
    from waitwise_tui.core.workspace import Workspace


RECENT_LIMIT = 10


def recent_path(workspace: Workspace) -> Path:
    return workspace.state_dir / "data_recent.json"


def load_recent(workspace: Workspace) -> list[str]:
    """Recently opened datasets, newest first; a broken file reads as empty."""
    try:
        raw = json.loads(recent_path(workspace).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(raw, list):
        return []
    return [p for p in raw if isinstance(p, str)][:RECENT_LIMIT]


def add_recent(workspace: Workspace, path: str) -> list[str]:
    """Put ``path`` (made absolute) first in the recents list and save it."""
    absolute = str(Path(path).resolve())
    recents = [absolute] + [p for p in load_recent(workspace) if p != absolute]
    recents = recents[:RECENT_LIMIT]
    workspace.ensure()
    atomic_write_text(recent_path(workspace), json.dumps(recents, indent=2) + "\n")
    return recents
