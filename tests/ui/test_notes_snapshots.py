"""Snapshots of the notes tab at 80x24 and 160x48 (fixed date, fixed files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.test_notes_tab import NotesHarness
from waitwise_tui.core.gpu.fake import FakeConfig, FakeNvml
from waitwise_tui.ui.context import Fakes

NOTE = """# 2026-03-14

Run: resnet50-baseline

## Notes

- 09:10 warmup done, loss falling as expected
- 09:20 lowered lr to 3e-4 after the spike at step 1.2k
- [ ] compare with the cosine schedule run
- [ ] check data loader throughput (GPU util dips to 60 %)

```python
lr = 3e-4
```
"""


@pytest.fixture(autouse=True)
def _config(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WAITWISE_CONFIG_DIR", str(tmp_path / "config"))


def _harness(tmp_path: Path) -> NotesHarness:
    root = tmp_path / "ws"
    notes_dir = root / ".waitwise" / "notes"
    notes_dir.mkdir(parents=True)
    (notes_dir / "2026-03-14.md").write_text(NOTE)
    no_gpu = FakeNvml(FakeConfig(init_error="LibraryNotFound"))
    return NotesHarness(root, fakes=Fakes(nvml=no_gpu))


async def _ready(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    pilot.app.tab.editor.cursor_blink = False
    pilot.app.tab.editor.move_cursor((6, 0))
    await pilot.pause()


def test_notes_80x24(tmp_path, snap_compare) -> None:
    assert snap_compare(_harness(tmp_path), terminal_size=(80, 24), run_before=_ready)


def test_notes_160x48(tmp_path, snap_compare) -> None:
    assert snap_compare(_harness(tmp_path), terminal_size=(160, 48), run_before=_ready)


def test_notes_preview_80x24(tmp_path, snap_compare) -> None:
    async def preview(pilot) -> None:
        await _ready(pilot)
        await pilot.press("ctrl+g")
        await pilot.pause()

    assert snap_compare(_harness(tmp_path), terminal_size=(80, 24), run_before=preview)
