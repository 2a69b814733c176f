"""The workspace: the project directory the app runs in, and the paths inside its
``.waitwise/`` folder. The folder is created only when something is first written
there (``ensure``)."""

from __future__ import annotations

import os
from pathlib import Path


class Workspace:
    """Paths inside a project's ``.waitwise/`` folder. Creating it is always explicit."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    @property
    def state_dir(self) -> Path:
        return self.root / ".waitwise"

    def ensure(self) -> Path:
        """Create ``.waitwise/`` (call only right before writing into it)."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        return self.state_dir

    @property
    def db_path(self) -> Path:
        return self.state_dir / "waitwise.db"

    @property
    def jobs_dir(self) -> Path:
        return self.state_dir / "jobs"

    @property
    def spaces_dir(self) -> Path:
        return self.state_dir / "spaces"

    @property
    def notes_dir(self) -> Path:
        return self.state_dir / "notes"

    @property
    def profiles_dir(self) -> Path:
        return self.state_dir / "profiles"

    @property
    def alternatives_path(self) -> Path:
        return self.state_dir / "alternatives.toml"

    @property
    def demo_dir(self) -> Path:
        return self.state_dir / "demo"

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"
