"""Tests tab benchmark: a 5,000-test run with batched UI updates against per-event updates.

Run: ``python bench/bench_tests_tab.py [--tests N]``. It writes a project with N quick
parametrised tests (default 5000, every 1000th fails) into a temporary directory, then, in
the same run, runs it in the tab inside a Textual ``run_test`` harness twice:

1. the baseline: every event handed to the event loop on its own (``call_from_thread``
   per result, one tree update each), the obvious design;
2. the shipped one: events buffered in a deque that the loop drains every 100 ms.

For each it prints the wall time of discovery + run and the worst gap between 10 ms
timer callbacks on the event loop while pytest runs (goal: < 100 ms), and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))


def make_project(root: Path, count: int) -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n")
    (root / "tests" / "test_many.py").write_text(
        "import pytest\n\n\n"
        f"@pytest.mark.parametrize('i', range({count}))\n"
        "def test_many(i):\n"
        "    assert i % 1000 != 7\n"
    )
    return root


async def measure(project: Path, per_event: bool) -> tuple[float, float, str]:
    from textual.app import App, ComposeResult

    from waitwise_tui.config import Settings
    from waitwise_tui.core.workspace import Workspace
    from waitwise_tui.ui.context import AppContext
    from waitwise_tui.ui.tabs.testing import tab as tests_module

    ctx = AppContext(
        Workspace(project),
        Settings(),
        {"project_dir": str(project)},
        {"tests_env": {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}},
    )

    class Harness(App):
        def compose(self) -> ComposeResult:
            yield tests_module.TestsTab(ctx)

    app = Harness()
    gaps: list[float] = []
    started = time.perf_counter()
    async with app.run_test(size=(80, 24)) as pilot:
        tab = app.query_one(tests_module.TestsTab)
        while tab.working or tab.state == "discovering":
            await pilot.pause(0.05)
        if per_event:

            class PerEvent(deque):
                def append(self, event: object) -> None:
                    super().append(event)
                    app.call_from_thread(tab._drain)

            tab._buffer = PerEvent()
        await pilot.press("r")
        last = time.perf_counter()

        def tick() -> None:
            nonlocal last
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

        timer = app.set_interval(0.01, tick)
        while tab.working:
            await pilot.pause(0.02)
        timer.stop()
        await pilot.pause()
        state = tab.state
    return time.perf_counter() - started, max(gaps), state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = make_project(Path(tmp) / "many", args.tests)
        base_wall, base_gap, base_state = asyncio.run(measure(project, per_event=True))
        wall, gap, state = asyncio.run(measure(project, per_event=False))
    print(f"{args.tests} tests; final state: {state!r} (baseline {base_state!r})")
    for name, w, g in (
        ("per-event updates", base_wall, base_gap),
        ("batched every 100 ms", wall, gap),
    ):
        print(f"{name}: wall {w:6.2f} s, worst loop gap {g * 1000:6.1f} ms")
    print(f"ratio batched/per-event: wall {wall / base_wall:.2f}x, worst gap {gap / base_gap:.2f}x")


if __name__ == "__main__":
    main()
