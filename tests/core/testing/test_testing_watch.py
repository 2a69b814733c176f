"""Watch mode: which files count, and one rerun per burst of changes."""

from __future__ import annotations

from pathlib import Path

from waitwise_tui.core.testing.watch import Debouncer, scan


def test_scan_skips_environments(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("")
    (tmp_path / "notes.txt").write_text("")
    for skipped in (".venv", ".git", "__pycache__", ".waitwise"):
        (tmp_path / skipped).mkdir()
        (tmp_path / skipped / "b.py").write_text("")
    assert list(scan(tmp_path)) == ["pkg/a.py"]


def test_debouncer_waits_for_quiet() -> None:
    debounce = Debouncer(quiet_s=1.0)
    assert not debounce.feed({"a.py": 1.0}, now=0.0)  # first scan is the baseline
    assert not debounce.feed({"a.py": 2.0}, now=1.0)  # changed: wait for quiet
    assert not debounce.feed({"a.py": 3.0}, now=1.5)  # changed again: wait longer
    assert not debounce.feed({"a.py": 3.0}, now=2.0)
    assert debounce.feed({"a.py": 3.0}, now=2.6)
    assert not debounce.feed({"a.py": 3.0}, now=5.0)  # fires once per burst
    assert not debounce.feed({"a.py": 3.0, "b.py": 1.0}, now=6.0)
    assert debounce.feed({"a.py": 3.0, "b.py": 1.0}, now=7.0)
