"""Start-up stays cheap and the core stays UI-free: checked in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def loaded_after(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return set(json.loads(out))


CORE_MODULES = [
    "waitwise_tui.core",
    "waitwise_tui.core.atomic",
    "waitwise_tui.core.db",
    "waitwise_tui.core.events",
    "waitwise_tui.config",
]


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_does_not_load_textual_or_rich(module):
    loaded = loaded_after(f"import {module}")
    assert "textual" not in loaded
    assert "rich" not in loaded


def test_every_core_module_is_ui_free():
    # Import the whole core package tree in one interpreter.
    statement = (
        "import pkgutil, importlib, waitwise_tui.core as c\n"
        "for m in pkgutil.walk_packages(c.__path__, 'waitwise_tui.core.'):\n"
        "    importlib.import_module(m.name)"
    )
    loaded = loaded_after(statement)
    assert "textual" not in loaded
    assert "rich" not in loaded


def test_cli_loads_no_heavy_modules():
    loaded = loaded_after("import waitwise_tui.cli")
    for heavy in ("pandas", "hyperopt", "plotext", "numpy", "textual", "pynvml"):
        assert heavy not in loaded, heavy


def test_app_module_loads_no_heavy_modules():
    loaded = loaded_after("import waitwise_tui.ui.app")
    for heavy in ("pandas", "hyperopt", "plotext", "pynvml"):
        assert heavy not in loaded, heavy
