"""Which Python runs a project's tests, with real virtual environments made per test.

The environments are made with ``python -m venv --without-pip`` (a fraction of a
second); the ones that need pytest get a ``.pth`` file naming the site directory of the
pytest running this suite, instead of an installation.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from waitwise_tui.cli import main
from waitwise_tui.core.testing.python_env import SetupError, check_env, find_python
from waitwise_tui.core.testing.runner import RunRequest, TestRun

SITE_WITH_PYTEST = Path(pytest.__file__).resolve().parents[1]


def make_venv(path: Path, *, with_pytest: bool) -> Path:
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, timeout=60
    )
    if with_pytest:
        (site,) = path.glob("lib/python*/site-packages")
        (site / "waitwise_test_pytest.pth").write_text(f"{SITE_WITH_PYTEST}\n")
    return path / "bin" / "python"


def make_project(path: Path) -> Path:
    (path / "tests").mkdir(parents=True)
    (path / "tests" / "test_one.py").write_text("def test_one():\n    assert True\n")
    return path


def test_project_venv_wins_over_an_active_virtualenv(tmp_path: Path) -> None:
    active = tmp_path / "active"
    make_venv(active, with_pytest=False)
    project = make_project(tmp_path / "proj")
    python = make_venv(project / ".venv", with_pytest=False)
    chosen = find_python(project, "", {"VIRTUAL_ENV": str(active)}, own_prefix=sys.prefix)
    assert (chosen.python, chosen.source) == (str(python), "project .venv")
    assert chosen.describe(project) == ".venv/bin/python (project .venv)"


def test_active_virtualenv_only_when_it_is_not_waitwises_own(tmp_path: Path) -> None:
    active = tmp_path / "active"
    python = make_venv(active, with_pytest=False)
    project = make_project(tmp_path / "proj")
    environ = {"VIRTUAL_ENV": str(active)}
    chosen = find_python(project, "", environ, own_prefix=sys.prefix)
    assert (chosen.python, chosen.source) == (str(python), "active virtualenv")
    # The README's install line activates waitwise's own venv: that one is not chosen
    # as if it were the user's (it falls to the last resort, named as such).
    own = find_python(project, "", environ, own_prefix=str(active))
    assert (own.python, own.source) == (sys.executable, "waitwise's own Python")


def test_explicit_choice_comes_first(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    make_venv(project / ".venv", with_pytest=False)
    other = tmp_path / "other"
    python = make_venv(other, with_pytest=False)
    # An environment directory, an interpreter path, or a command on PATH.
    assert find_python(project, str(other), {}).python == str(python)
    chosen = find_python(project, str(python), {}, configured_source="--python")
    assert (chosen.python, chosen.source) == (str(python), "--python")
    by_name = find_python(project, Path(sys.executable).name, {})
    assert Path(by_name.python).name == Path(sys.executable).name
    assert by_name.source == "setting tests_python"


def test_conda_environment_the_project_declares(tmp_path: Path) -> None:
    base = tmp_path / "conda"
    python = make_venv(base / "envs" / "mlproj", with_pytest=False)
    project = make_project(tmp_path / "proj")
    (project / "environment.yml").write_text("name: mlproj\ndependencies:\n  - python\n")
    environ = {"CONDA_EXE": str(base / "bin" / "conda"), "CONDA_PREFIX": str(base)}
    chosen = find_python(project, "", environ, own_prefix=sys.prefix)
    assert (chosen.python, chosen.source) == (str(python), "conda environment mlproj")
    # Without the declaration, the active conda environment (not waitwise's own).
    (project / "environment.yml").unlink()
    active = find_python(project, "", {"CONDA_PREFIX": str(base / "envs" / "mlproj")})
    assert active.source == "active conda environment"


def test_missing_pytest_names_the_fix_for_that_environment(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    python = make_venv(project / ".venv", with_pytest=False)
    chosen = find_python(project, "", {})
    with pytest.raises(SetupError) as plain_venv:
        check_env(chosen, project)
    assert str(plain_venv.value) == (
        "pytest is not installed for .venv/bin/python (project .venv); "
        f"{python} -m pip install pytest"
    )
    (project / "uv.lock").write_text("version = 1\n")
    with pytest.raises(SetupError, match=r"; uv add --dev pytest$"):
        check_env(find_python(project, "", {}), project)


def test_run_uses_the_project_venv_and_warns_when_its_package_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path / "proj")
    python = make_venv(project / ".venv", with_pytest=True)
    (project / "src" / "mypkg").mkdir(parents=True)
    (project / "src" / "mypkg" / "__init__.py").write_text("")
    (project / "pyproject.toml").write_text('[project]\nname = "mypkg"\nversion = "0"\n')
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    # The user's shell has waitwise's own venv active, as the README's install line does.
    monkeypatch.setenv("VIRTUAL_ENV", sys.prefix)
    code = main(["test", "--project", str(project), "--json"])
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert code == 0
    assert (last["python"], last["python_source"]) == (str(python), "project .venv")
    assert last["counts"] == {"passed": 1}
    assert last["warning"].startswith("the project's package mypkg does not import from")
    assert last["warning"].endswith(f"install it there: {python} -m pip install -e .")
    # Once the package imports (here through a .pth file), the warning goes.
    (site,) = (project / ".venv").glob("lib/python*/site-packages")
    (site / "mypkg.pth").write_text(f"{project / 'src'}\n")
    env = find_python(project, "", {})
    finished = TestRun(RunRequest(project, env.python, python_env=env)).run()
    assert finished.exit_code == 0
    assert finished.warning == ""


def test_poetry_environment_in_poetrys_cache(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    (project / "pyproject.toml").write_text('[tool.poetry]\nname = "My Proj"\nversion = "0"\n')
    (project / "poetry.lock").write_text("")
    cache = tmp_path / "virtualenvs"
    # Poetry's own name: the lowered name (spaces as _) and the project path's hash.
    digest = base64.urlsafe_b64encode(
        hashlib.sha256(os.path.realpath(project).encode()).digest()
    ).decode()[:8]
    python = make_venv(cache / f"my_proj-{digest}-py3.11", with_pytest=False)
    make_venv(cache / "my_proj-AAAAAAAA-py3.11", with_pytest=False)  # another checkout's
    chosen = find_python(project, "", {"POETRY_VIRTUALENVS_PATH": str(cache)})
    assert (chosen.python, chosen.source) == (str(python), "poetry environment")
    with pytest.raises(SetupError, match=r"; poetry add --group dev pytest$"):
        check_env(chosen, project)
