"""Snapshots of the Tests tab after a run of the fixture project (no timings on screen)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tests_tab import Harness, make_project, settle

from waitwise_tui.ui.tabs.testing.tab import TestsTab


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    return Harness(tmp_path, make_project(tmp_path))


async def run_all(pilot) -> None:
    tab = pilot.app.query_one(TestsTab)
    await settle(pilot, tab)
    await pilot.press("r")
    await settle(pilot, tab)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_after_a_run(snap_compare, harness: Harness, size: tuple[int, int]) -> None:
    assert snap_compare(harness, terminal_size=size, run_before=run_all)
