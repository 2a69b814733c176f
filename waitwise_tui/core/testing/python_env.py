"""Which Python runs a project's tests, and what that interpreter can do.

The order is the one a user expects: the active ``$VIRTUAL_ENV``, then ``.venv/`` or
``venv/`` inside the project, then the configured ``tests_python`` setting, then the
interpreter running waitwise itself. Probing an interpreter (is pytest there? is
pytest-timeout?) starts it once; the answer is cached per path and modification time.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_BIN = "Scripts" if os.name == "nt" else "bin"
_EXE = "python.exe" if os.name == "nt" else "python"

_PROBE = (
    "import importlib.util as u, json, sys; "
    "print(json.dumps({'pytest': u.find_spec('pytest') is not None, "
    "'timeout': u.find_spec('pytest_timeout') is not None, "
    "'version': sys.version.split()[0]}))"
)


@dataclass(frozen=True)
class PythonEnv:
    python: str
    source: str  # "$VIRTUAL_ENV", ".venv", "venv", "setting tests_python", "waitwise's own"

    def describe(self, root: Path | None = None) -> str:
        """The interpreter path (relative to ``root`` when inside it) and why it was chosen."""
        shown = self.python
        if root is not None:
            with contextlib.suppress(ValueError):
                shown = str(Path(self.python).relative_to(root))
        return f"{shown} ({self.source})"


@dataclass(frozen=True)
class Capabilities:
    has_pytest: bool
    has_pytest_timeout: bool
    version: str


class SetupError(Exception):
    """A test run cannot start (no project, no interpreter, no pytest); the message says why."""


def find_python(
    project: Path, configured: str = "", environ: Mapping[str, str] | None = None
) -> PythonEnv:
    """Pick the interpreter for ``project`` (see the module docstring for the order)."""
    env = os.environ if environ is None else environ
    venv = env.get("VIRTUAL_ENV", "")
    if venv and (Path(venv) / _BIN / _EXE).exists():
        return PythonEnv(str(Path(venv) / _BIN / _EXE), "$VIRTUAL_ENV")
    for name in (".venv", "venv"):
        candidate = project / name / _BIN / _EXE
        if candidate.exists():
            return PythonEnv(str(candidate), name)
    if configured:
        return PythonEnv(configured, "setting tests_python")
    return PythonEnv(sys.executable, "waitwise's own")


def probe(python: str) -> Capabilities:
    """What ``python`` offers; raises SetupError when it cannot be run."""
    try:
        mtime = os.stat(python).st_mtime
    except OSError as exc:
        raise SetupError(f"Python interpreter {python} not found") from exc
    return _probe_cached(python, mtime)


@lru_cache(maxsize=16)
def _probe_cached(python: str, mtime: float) -> Capabilities:
    try:
        proc = subprocess.run(
            [python, "-c", _PROBE], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SetupError(f"cannot run Python interpreter {python}: {exc}") from exc
    try:
        found = json.loads(proc.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError) as exc:
        detail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise SetupError(f"{python} is not a working Python: {detail}") from exc
    return Capabilities(bool(found["pytest"]), bool(found["timeout"]), str(found["version"]))


def require_pytest(python: str) -> Capabilities:
    """Probe ``python`` and raise a clear SetupError when pytest is missing."""
    caps = probe(python)
    if not caps.has_pytest:
        raise SetupError(
            f"pytest is not installed for {python}; install it there (python -m pip install pytest)"
        )
    return caps
