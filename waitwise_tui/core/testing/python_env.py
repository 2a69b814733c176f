"""Which Python runs a project's tests, why that one, and what that interpreter can do.

The order is the one a user expects:

1. an explicit choice: ``--python`` on the CLI, else the ``tests_python`` setting
   (an interpreter path, a command on ``PATH`` or an environment directory);
2. the project's own environment: ``.venv/`` or ``venv/`` inside it, the environment a
   uv project names in ``$UV_PROJECT_ENVIRONMENT``, the interpreter pdm records in
   ``.pdm-python``, a poetry project's environment in poetry's cache (found by poetry's
   own naming, without starting poetry), the conda environment ``environment.yml``
   names (looked up among the conda installation's ``envs/``), then ``$CONDA_PREFIX``
   when it is not the environment waitwise runs from;
3. ``$VIRTUAL_ENV``, only when it is not waitwise's own environment: the README's install
   line activates waitwise's venv, and its pytest knows nothing of the project;
4. the interpreter running waitwise, last.

Probing an interpreter (is pytest there? pytest-timeout? the project's own package?)
starts it once; the answer is cached per path, modification time (of the interpreter
and of its site-packages) and project.
"""

from __future__ import annotations

import base64
import contextlib
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

_BIN = "Scripts" if os.name == "nt" else "bin"
_EXE = "python.exe" if os.name == "nt" else "python"

# Kinds of choice, which decide the advice when something is missing.
EXPLICIT = "explicit"
PROJECT = "project"
ACTIVE = "active"
OWN = "own"

_PROBE = (
    "import importlib.util as u, json, sys; "
    "name = sys.argv[1] if len(sys.argv) > 1 else ''; "
    "print(json.dumps({'pytest': u.find_spec('pytest') is not None, "
    "'timeout': u.find_spec('pytest_timeout') is not None, "
    "'project': (u.find_spec(name) is not None) if name else None, "
    "'version': sys.version.split()[0]}))"
)


@dataclass(frozen=True)
class PythonEnv:
    python: str
    # Why this one, in words: "--python", "setting tests_python", "project .venv",
    # "project venv", "uv environment", "pdm interpreter", "conda environment NAME",
    # "active conda environment", "active virtualenv", "waitwise's own Python".
    source: str
    kind: str = OWN
    # The environment's tool when the project declares one: "uv", "poetry", "pdm",
    # "hatch", "conda" or "" (plain pip).
    tool: str = ""

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
    # Whether the project's own package imports from this Python (None: not known).
    has_project: bool | None = None


class SetupError(Exception):
    """A test run cannot start (no project, no interpreter, no pytest); the message says why."""


def _interpreter(env_dir: Path) -> Path | None:
    candidate = env_dir / _BIN / _EXE
    return candidate if candidate.exists() else None


def _same_env(prefix: str, own_prefix: str) -> bool:
    try:
        return Path(prefix).resolve() == Path(own_prefix).resolve()
    except OSError:
        return False


def _pyproject(project: Path) -> dict:
    try:
        return tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def project_tool(project: Path) -> str:
    """The environment manager the project declares, from its lock or config files."""
    if (project / "uv.lock").exists():
        return "uv"
    if (project / "poetry.lock").exists():
        return "poetry"
    if (project / ".pdm-python").exists() or (project / "pdm.lock").exists():
        return "pdm"
    tool = _pyproject(project).get("tool", {})
    for name in ("uv", "poetry", "pdm", "hatch"):
        if isinstance(tool, dict) and name in tool:
            return name
    if any((project / n).exists() for n in ("environment.yml", "environment.yaml")):
        return "conda"
    return ""


def project_package(project: Path) -> str:
    """The import name of the project's own package (from pyproject.toml), or ""."""
    name = _pyproject(project).get("project", {}).get("name", "")
    if not isinstance(name, str) or not name:
        return ""
    module = re.sub(r"[-.]+", "_", name).lower()
    if not module.isidentifier():
        return ""
    # Only a name the project's own layout confirms: a distribution name need not be
    # the import name (scikit-learn imports as sklearn).
    places = (project / module, project / f"{module}.py", project / "src" / module)
    return module if any(p.exists() for p in places) else ""


def _conda_env_name(project: Path) -> str:
    for filename in ("environment.yml", "environment.yaml"):
        try:
            text = (project / filename).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        match = re.search(r"^name:\s*['\"]?([\w.-]+)['\"]?\s*$", text, re.MULTILINE)
        if match:
            return match.group(1)
    return ""


def _conda_envs_dirs(env: Mapping[str, str]) -> list[Path]:
    """``envs/`` directories of the conda installation the environment points at."""
    roots: list[Path] = []
    exe = env.get("CONDA_EXE", "")
    if exe:
        roots.append(Path(exe).parent.parent)
    prefix = env.get("CONDA_PREFIX", "")
    if prefix:
        path = Path(prefix)
        roots.append(path.parent.parent if path.parent.name == "envs" else path)
    return [root / "envs" for root in roots]


def _poetry_env(project: Path, env: Mapping[str, str]) -> Path | None:
    """The newest environment poetry made for ``project`` in its cache, if any.

    Poetry names it ``<name>-<hash>-py<X.Y>``: the hash is of the project's real path.
    """
    data = _pyproject(project)
    tool = data.get("tool", {})
    poetry = tool.get("poetry", {}) if isinstance(tool, dict) else {}
    name = poetry.get("name") or data.get("project", {}).get("name") or ""
    if not isinstance(name, str) or not name:
        return None
    sanitized = re.sub(r'[ $`!*@"\\\r\n\t]', "_", name.lower())[:42]
    real = os.path.normcase(os.path.realpath(project))
    digest = base64.urlsafe_b64encode(hashlib.sha256(real.encode()).digest()).decode()[:8]
    home = Path(env.get("HOME") or Path.home())
    cache = env.get("XDG_CACHE_HOME") or str(
        home / ("Library/Caches" if sys.platform == "darwin" else ".cache")
    )
    where = Path(env.get("POETRY_VIRTUALENVS_PATH") or Path(cache) / "pypoetry" / "virtualenvs")
    try:
        found = sorted(where.glob(f"{glob.escape(sanitized)}-{glob.escape(digest)}-py*"))
    except OSError:
        return None
    pythons = [p for p in map(_interpreter, found) if p is not None]
    return max(pythons, key=lambda p: p.stat().st_mtime, default=None)


def _project_env(project: Path, env: Mapping[str, str], tool: str) -> PythonEnv | None:
    for name in (".venv", "venv"):
        python = _interpreter(project / name)
        if python is not None:
            return PythonEnv(str(python), f"project {name}", PROJECT, tool)
    uv_env = env.get("UV_PROJECT_ENVIRONMENT", "")
    if uv_env and tool == "uv":
        python = _interpreter(project / uv_env)
        if python is not None:
            return PythonEnv(str(python), "uv environment", PROJECT, tool)
    with contextlib.suppress(OSError, UnicodeDecodeError):
        recorded = (project / ".pdm-python").read_text(encoding="utf-8").strip()
        if recorded and Path(recorded).exists():
            return PythonEnv(recorded, "pdm interpreter", PROJECT, "pdm")
    if tool == "poetry":
        python = _poetry_env(project, env)
        if python is not None:
            return PythonEnv(str(python), "poetry environment", PROJECT, tool)
    name = _conda_env_name(project)
    if name:
        for envs in _conda_envs_dirs(env):
            python = _interpreter(envs / name)
            if python is not None:
                return PythonEnv(str(python), f"conda environment {name}", PROJECT, "conda")
    return None


def _explicit(configured: str, project: Path, source: str, tool: str) -> PythonEnv:
    path = Path(configured).expanduser()
    if not path.is_absolute() and os.sep not in configured:
        found = shutil.which(configured)
        if found:
            return PythonEnv(found, source, EXPLICIT, tool)
    elif not path.is_absolute():
        path = project / path
    if path.is_dir():
        # An environment directory rather than its interpreter.
        python = _interpreter(path)
        if python is not None:
            return PythonEnv(str(python), source, EXPLICIT, tool)
    return PythonEnv(str(path), source, EXPLICIT, tool)


def find_python(
    project: Path,
    configured: str = "",
    environ: Mapping[str, str] | None = None,
    *,
    configured_source: str = "setting tests_python",
    own_prefix: str | None = None,
) -> PythonEnv:
    """Pick the interpreter for ``project`` (see the module docstring for the order).

    ``configured`` is the explicit choice (``--python`` or the setting), named by
    ``configured_source``; ``own_prefix`` is the environment waitwise itself runs from.
    """
    env = os.environ if environ is None else environ
    own = sys.prefix if own_prefix is None else own_prefix
    tool = project_tool(project)
    if configured:
        return _explicit(configured, project, configured_source, tool)
    found = _project_env(project, env, tool)
    if found is not None:
        return found
    conda = env.get("CONDA_PREFIX", "")
    if conda and not _same_env(conda, own):
        python = _interpreter(Path(conda))
        if python is not None:
            return PythonEnv(str(python), "active conda environment", ACTIVE, "conda")
    venv = env.get("VIRTUAL_ENV", "")
    if venv and not _same_env(venv, own):
        python = _interpreter(Path(venv))
        if python is not None:
            return PythonEnv(str(python), "active virtualenv", ACTIVE, tool)
    return PythonEnv(sys.executable, "waitwise's own Python", OWN, tool)


def probe(python: str, project: Path | None = None) -> Capabilities:
    """What ``python`` offers (run in ``project``); raises SetupError when it cannot run."""
    try:
        mtime = os.stat(python).st_mtime
    except OSError as exc:
        raise SetupError(f"Python interpreter {python} not found") from exc
    # An installation into the environment changes its site-packages, not its python.
    sites = Path(python).parent.parent.glob("lib/python*/site-packages")
    with contextlib.suppress(OSError):
        mtime = max([mtime, *(site.stat().st_mtime for site in sites)])
    return _probe_cached(python, mtime, str(project) if project is not None else "")


@lru_cache(maxsize=16)
def _probe_cached(python: str, mtime: float, project: str) -> Capabilities:
    package = project_package(Path(project)) if project else ""
    try:
        proc = subprocess.run(
            [python, "-c", _PROBE, *([package] if package else [])],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            # The project directory is on sys.path under ``python -m pytest`` too.
            cwd=project or None,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SetupError(f"cannot run Python interpreter {python}: {exc}") from exc
    try:
        found = json.loads(proc.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError) as exc:
        detail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise SetupError(f"{python} is not a working Python: {detail}") from exc
    has_project = found.get("project")
    return Capabilities(
        bool(found["pytest"]),
        bool(found["timeout"]),
        str(found["version"]),
        None if has_project is None else bool(has_project),
    )


def install_hint(env: PythonEnv, what: str = "pytest") -> str:
    """The command that installs ``what`` ("pytest", or "-e ." for the project) into
    ``env``, in the way the project manages that environment."""
    if env.kind == OWN:
        return (
            "create the project's own environment (python -m venv .venv && "
            f".venv/bin/python -m pip install {what}), or choose one with --python "
            "or the tests_python setting"
        )
    editable = what == "-e ."
    if env.tool == "uv" and env.kind == PROJECT:
        return "uv sync" if editable else "uv add --dev pytest"
    if env.tool == "poetry":
        return "poetry install" if editable else "poetry add --group dev pytest"
    if env.tool == "pdm" and env.kind == PROJECT:
        return "pdm install" if editable else "pdm add -dG test pytest"
    if env.tool == "conda" and not editable:
        return f"conda install --prefix {Path(env.python).parent.parent} pytest"
    return f"{env.python} -m pip install {what}"


def require_pytest(python: str, project: Path | None = None) -> Capabilities:
    """Probe ``python`` and raise a clear SetupError when pytest is missing."""
    caps = probe(python, project)
    if not caps.has_pytest:
        raise SetupError(
            f"pytest is not installed for {python}; install it there (python -m pip install pytest)"
        )
    return caps


def check_env(env: PythonEnv, project: Path) -> tuple[Capabilities, str]:
    """Probe ``env`` for a run in ``project``: its capabilities and a warning ("" when none).

    Raises SetupError, naming the fix for that environment, when pytest is missing.
    """
    caps = probe(env.python, project)
    if not caps.has_pytest:
        raise SetupError(
            f"pytest is not installed for {env.describe(project)}; {install_hint(env)}"
        )
    warning = ""
    if caps.has_project is False:
        package = project_package(project)
        warning = (
            f"the project's package {package} does not import from {env.describe(project)}; "
            f"install it there: {install_hint(env, '-e .')}"
        )
    return caps, warning
