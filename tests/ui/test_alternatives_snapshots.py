"""Snapshot tests of the Alternatives tab (harness app, fixed fixtures)."""

from __future__ import annotations

from pathlib import Path

from tests.ui.test_alternatives_tab import AltHarness, seed


def test_snapshot_80x24(tmp_path: Path, snap_compare) -> None:
    assert snap_compare(AltHarness(seed(tmp_path)), terminal_size=(80, 24))


def test_snapshot_160x48_selected_and_filtered(tmp_path: Path, snap_compare) -> None:
    assert snap_compare(
        AltHarness(seed(tmp_path)),
        terminal_size=(160, 48),
        press=["down", "space", "f", *"status:to-read", "enter"],
    )


def test_snapshot_form_80x24(tmp_path: Path, snap_compare) -> None:
    assert snap_compare(AltHarness(seed(tmp_path)), terminal_size=(80, 24), press=["e"])
