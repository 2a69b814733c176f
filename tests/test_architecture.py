"""The house rules of DESIGN.md hold: import-linter's contracts in pyproject.toml
(core imports nothing above it, tabs are independent, commands never import the UI,
no cycles), and every feature has one name in every layer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "waitwise_tui"


def test_import_contracts_are_kept():
    # lint-imports as CI would run it, from the repository root.
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command;"
         " sys.exit(lint_imports_command())"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "BROKEN" not in proc.stdout


def _names(path: Path) -> set[str]:
    return {p.stem for p in path.iterdir() if not p.name.startswith(("_", "."))}


def test_features_have_one_name_in_every_layer():
    features = {"tuner", "alternatives", "data", "testing", "notes"}
    assert features <= _names(PACKAGE / "core")
    assert features <= _names(PACKAGE / "commands")
    assert _names(PACKAGE / "ui" / "tabs") == features
