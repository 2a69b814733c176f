"""The Tests tab in a harness app: discovery, runs, failures, cancel, watch, generate."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from textual.app import App, ComposeResult
from textual.widgets import Input, Static, Tree
from waits import palette_finds, wait_for

from waitwise_tui.config import Settings
from waitwise_tui.core.events import TEST_RUN_FINISHED, Event
from waitwise_tui.core.workspace import Workspace
from waitwise_tui.ui.context import AppContext, Fakes
from waitwise_tui.ui.messages import RecordEvent
from waitwise_tui.ui.tabs.testing.modals import DiffConfirm, ProfilePrompt
from waitwise_tui.ui.tabs.testing.tab import TestsCommands, TestsTab, split_nodeid

FIXTURE = Path(__file__).parents[1] / "fixtures" / "sample_project"
FAST_ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


def make_project(root: Path) -> Path:
    """A copy of the fixture project with a ``.venv`` that runs this interpreter."""
    project = root / "sample"
    shutil.copytree(FIXTURE, project)
    python = project / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    return project


class Harness(App):
    COMMANDS = App.COMMANDS | {TestsCommands}

    def __init__(self, root: Path, project: Path) -> None:
        super().__init__()
        self.ctx = AppContext(
            Workspace(root), Settings(), {"project_dir": str(project)}, Fakes(tests_env=FAST_ENV)
        )
        self.recorded: list[Event] = []

    def compose(self) -> ComposeResult:
        yield TestsTab(self.ctx, id="tests")

    def on_mount(self) -> None:
        self.query_one(TestsTab).tab_activated()

    def on_record_event(self, message: RecordEvent) -> None:
        self.recorded.append(message.event)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    return make_project(tmp_path)


async def settle(pilot, tab: TestsTab, timeout: float = 30.0) -> None:
    """Wait until no run is in progress and its results are drawn."""
    await wait_for(
        pilot, lambda: not (tab.working or tab.state == "discovering"), "the run's end", timeout
    )


def text_of(app: App, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


def test_split_nodeid() -> None:
    assert split_nodeid("t.py::C::test_a[1-x]") == ["t.py", "C", "test_a", "[1-x]"]
    assert split_nodeid("t.py::test_b") == ["t.py", "test_b"]


@pytest.mark.slow
async def test_discover_run_and_jump_between_failures(tmp_path: Path, project: Path) -> None:
    app = Harness(tmp_path, project)
    async with app.run_test(size=(80, 24)) as pilot:
        tab = app.query_one(TestsTab)
        await settle(pilot, tab)
        assert tab.state == "10 tests found"
        assert tab.busy_reason() is None
        assert ".venv/bin/python (project .venv)" in text_of(app, "#tests-status")
        assert "tests/test_basic.py::TestGroup::test_small[2]" in tab.nodes

        await pilot.press("r")
        await settle(pilot, tab)
        assert tab.state == "exit 1: some tests failed"
        assert app.recorded[-1].data["passed"] == 4
        counts = text_of(app, "#tests-counts")
        assert "4 passed 2 failed 1 skipped 1 error 1 xfail 1 xpass" in counts
        (event,) = app.recorded
        assert event.kind == TEST_RUN_FINISHED
        assert event.source == "tests"
        assert event.message.startswith("4 passed, 2 failed, 1 skipped, 1 error")
        assert event.data["exit_code"] == 1
        assert event.data["failed"] == 2

        tree = app.query_one(Tree)
        await pilot.press("n")
        assert tree.cursor_node.data == "tests/test_basic.py::test_fails"
        detail = text_of(app, "#tests-detail-text")
        assert "assert [1, 2] == [1, 3]" in detail
        assert "some output before failing" in detail
        await pilot.press("n", "n")
        assert tree.cursor_node.data == "tests/test_basic.py::TestGroup::test_small[3]"
        await pilot.press("n")
        assert tree.cursor_node.data == "tests/test_basic.py::test_fails"
        await pilot.press("N")
        assert tree.cursor_node.data == "tests/test_basic.py::TestGroup::test_small[3]"

        await pilot.press("f")
        await settle(pilot, tab)
        assert app.recorded[-1].data["failed"] == 2
        assert app.recorded[-1].data["error"] == 1
        assert app.recorded[-1].data["passed"] == 0

        await pilot.press("s")
        assert text_of(app, "#tests-detail-text").startswith("slowest 10")
        await pilot.press("l")
        assert "short test summary info" in text_of(app, "#tests-detail-text")


@pytest.mark.slow
async def test_enter_runs_the_node_under_the_cursor(tmp_path: Path, project: Path) -> None:
    app = Harness(tmp_path, project)
    async with app.run_test(size=(160, 48)) as pilot:
        tab = app.query_one(TestsTab)
        await settle(pilot, tab)
        tree = app.query_one(Tree)
        tree.move_cursor(tab.nodes["tests/test_noisy.py"])
        await pilot.press("enter")
        await settle(pilot, tab)
        assert tab.state == "exit 0: all tests passed"
        assert app.recorded[-1].data["passed"] == 1


@pytest.mark.slow
async def test_cancel_a_hanging_run_and_toggle_courteous(tmp_path: Path, project: Path) -> None:
    app = Harness(tmp_path, project)
    async with app.run_test(size=(80, 24)) as pilot:
        tab = app.query_one(TestsTab)
        await settle(pilot, tab)
        await pilot.press("k")
        assert "courteous off" in text_of(app, "#tests-status")
        tab._start(("-m", "hang", "tests/test_hang.py"))
        await wait_for(pilot, lambda: "tests/test_hang.py::test_hangs" in tab.nodes)
        assert tab.busy_reason() == "a test run is in progress"
        await pilot.press("r")  # refused while running
        await pilot.press("c")
        await settle(pilot, tab)
        assert tab.state == "exit 2: cancelled"
        assert app.recorded[-1].data["exit_code"] == 2


@pytest.mark.slow
async def test_watch_reruns_after_a_change(tmp_path: Path, project: Path) -> None:
    app = Harness(tmp_path, project)
    async with app.run_test(size=(80, 24)) as pilot:
        tab = app.query_one(TestsTab)
        await settle(pilot, tab)
        await pilot.press("w")
        assert "watch on" in text_of(app, "#tests-status")
        # The first scan is the baseline a change is seen against.
        await wait_for(pilot, lambda: tab._debounce._last is not None, "the watch's first scan")
        target = project / "tests" / "test_noisy.py"
        os.utime(target, (target.stat().st_atime, target.stat().st_mtime + 10))
        await wait_for(pilot, lambda: app.recorded, "the run the change started")
        await pilot.press("w")
        await settle(pilot, tab)
        assert "watch off" in text_of(app, "#tests-status")


async def test_missing_project_is_one_clear_line(tmp_path: Path) -> None:
    app = Harness(tmp_path, tmp_path / "gone")
    async with app.run_test(size=(80, 24)) as pilot:
        tab = app.query_one(TestsTab)
        await settle(pilot, tab)
        assert tab.state == "cannot run"
        assert text_of(app, "#tests-detail-text").endswith("does not exist")


@pytest.mark.slow
async def test_generate_data_tests_confirms_overwrite(tmp_path: Path, project: Path) -> None:
    (project / "d.csv").write_text("a\n1\n2\n")
    profile = {"path": "d.csv", "duplicate_rows": 0, "columns": [{"name": "a", "min": 1, "max": 2}]}
    profiles = Workspace(tmp_path).profiles_dir
    profiles.mkdir(parents=True)
    (profiles / "d.json").write_text(json.dumps(profile))
    app = Harness(tmp_path, project)
    expectations = project / "tests" / "test_data_quality_expectations.json"
    async with app.run_test(size=(80, 24)) as pilot:
        tab = app.query_one(TestsTab)
        await settle(pilot, tab)
        await pilot.press("g")
        assert isinstance(app.screen, ProfilePrompt)
        assert app.screen.query_one(Input).value == str(profiles / "d.json")
        await pilot.press("enter")
        await wait_for(pilot, expectations.exists)
        await settle(pilot, tab)
        assert "tests/test_data_quality.py::test_numeric_range[a]" in tab.nodes

        profile["columns"][0]["max"] = 9
        (profiles / "d.json").write_text(json.dumps(profile))
        await pilot.press("g", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DiffConfirm))
        assert "+      9" in app.screen.diff
        await pilot.press("n")
        assert json.loads(expectations.read_text())["ranges"]["a"] == [1, 2]
        await pilot.press("g", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DiffConfirm))
        await pilot.press("y")
        await wait_for(pilot, lambda: json.loads(expectations.read_text())["ranges"]["a"] == [1, 9])
        await settle(pilot, tab)


@pytest.mark.slow
async def test_palette_runs_the_suite(tmp_path: Path, project: Path) -> None:
    app = Harness(tmp_path, project)
    async with app.run_test(size=(80, 24)) as pilot:
        tab = app.query_one(TestsTab)
        await settle(pilot, tab)
        await pilot.press("ctrl+p")
        await pilot.press(*"tests run all")
        await palette_finds(pilot, "run all")
        await pilot.press("enter")
        await settle(pilot, tab)
        assert tab.state == "exit 1: some tests failed"
        assert app.recorded[-1].data["passed"] == 4


VERDICTS = Path(__file__).parents[1] / "fixtures" / "verdicts"


def make_case(root: Path, *cases: str) -> Path:
    """A project of the verdict fixtures ``cases``, with a ``.venv`` running this Python."""
    project = root / "case"
    for case in cases:
        shutil.copytree(VERDICTS / case, project, dirs_exist_ok=True)
    python = project / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    return project


def test_split_nodeid_keeps_parameters_whole() -> None:
    assert split_nodeid("t.py::test_url[a[b]::c]") == ["t.py", "test_url", "[a[b]::c]"]
    assert split_nodeid("t.py::C::test_x[one::two]") == ["t.py", "C", "test_x", "[one::two]"]


@pytest.mark.slow
async def test_subtests_are_children_and_a_failing_one_fails_its_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    app = Harness(tmp_path, make_case(tmp_path, "subtests"))
    async with app.run_test(size=(100, 30)) as pilot:
        tab = app.query_one(TestsTab)
        await settle(pilot, tab)
        assert tab.state == "4 tests found"
        await pilot.press("r")
        await settle(pilot, tab)
        parent = "test_subtests.py::test_one_fails"
        counts = text_of(app, "#tests-counts")
        # Tests and subtests counted apart, as pytest's summary does; progress counted
        # tests only.
        assert (tab._run_seen, tab._run_total) == (4, 4)
        assert "1 failed" in counts
        assert "subtests passed" in counts
        children = [str(child.data) for child in tab.nodes[parent].children]
        assert len(children) == 3
        assert f"{parent}\x1f[check] (i=1)" in children
        assert tab.outcome(parent) == "failed"
        assert tab.failing() == [parent]

        await pilot.press("n")
        tree = app.query_one(Tree)
        assert tree.cursor_node.data == parent
        detail = text_of(app, "#tests-detail-text")
        assert "subtest [check] (i=1)" in detail
        assert "assert 1 != 1" in detail
        assert "at test_subtests.py:13" in detail

        await pilot.press("f")
        await settle(pilot, tab)
        assert tab.state == "exit 1: some tests failed"
        # The rerun replaced the subtests; none are doubled.
        assert len(tab.nodes[parent].children) == 3
        assert tab.failing() == [parent]


@pytest.mark.slow
async def test_ids_teardown_detail_and_deleted_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    project = make_case(tmp_path, "ids", "teardown")
    app = Harness(tmp_path, project)
    async with app.run_test(size=(100, 30)) as pilot:
        tab = app.query_one(TestsTab)
        await settle(pilot, tab)
        odd = "test_ids.py::test_url[a[b]::c]"
        assert tab.nodes[odd].parent is tab.nodes["test_ids.py::test_url"]
        tree = app.query_one(Tree)
        tree.move_cursor(tab.nodes[odd])
        await pilot.press("enter")
        await settle(pilot, tab)
        assert tab.state == "exit 0: all tests passed"
        assert app.recorded[-1].data["passed"] == 1

        await pilot.press("r")
        await settle(pilot, tab)
        tree.move_cursor(tab.nodes["test_teardown.py::test_fails_then_teardown_fails"])
        await pilot.pause()
        detail = text_of(app, "#tests-detail-text")
        assert "AssertionError: the call failed" in detail
        assert "RuntimeError: teardown broke" in detail

        (project / "test_ids.py").unlink()
        await pilot.press("r")
        await settle(pilot, tab)
        assert not [n for n in tab.nodes if n.startswith("test_ids.py")]
        assert "test_teardown.py::test_fine" in tab.nodes


@given(
    st.lists(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True), min_size=2, max_size=4),
    st.one_of(st.none(), st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)),
)
def test_split_nodeid_keeps_the_parts(names: list[str], params: str | None) -> None:
    # Parameters may hold anything, "::" and "[" included.
    nodeid = "::".join([f"{names[0]}.py", *names[1:]]) + ("" if params is None else f"[{params}]")
    parts = split_nodeid(nodeid)
    head = "::".join(p for p in parts if not p.startswith("["))
    brackets = [p for p in parts if p.startswith("[")]
    assert head + "".join(brackets) == nodeid
    assert len(brackets) <= 1


def rendered_lines(widget) -> list[str]:
    return [widget.render_line(y).text.rstrip() for y in range(widget.size.height)]


@pytest.mark.slow
async def test_at_80_columns_the_detail_stacks_and_goes_full_size(
    tmp_path: Path, project: Path
) -> None:
    app = Harness(tmp_path, project)
    async with app.run_test(size=(80, 24)) as pilot:
        tab = app.query_one(TestsTab)
        await settle(pilot, tab)
        await pilot.press("r")
        await settle(pilot, tab)
        tree = app.query_one(Tree)
        await pilot.press("n")
        assert tree.cursor_node.data == "tests/test_basic.py::test_fails"
        await pilot.pause()
        assert tab.has_class("-stacked")
        detail = app.query_one("#tests-detail")
        assert detail.size.width >= 70
        assert tree.region.bottom <= detail.region.y  # above, not beside

        # Every word of the traceback that fits a line is on one line, not cut.
        shown = app.query_one("#tests-detail-text", Static)
        await wait_for(pilot, lambda: shown.size.height > 1, "the detail drawn")
        lines = rendered_lines(shown)
        words = set(text_of(app, "#tests-detail-text").split())
        assert "assert" in words
        on_screen = {w for line in lines for w in line.split()}
        cut = [w for w in words if len(w) < shown.size.width and w not in on_screen]
        assert cut == []

        height = detail.size.height
        await pilot.press("d")
        await pilot.pause()
        assert tab.has_class("-detail-full")
        assert not tree.display
        assert detail.size.height > height
        assert detail.size.width >= 70
        await pilot.press("escape")
        await pilot.pause()
        assert not tab.has_class("-detail-full")
        assert tree.display and app.focused is tree


async def test_wide_tab_keeps_the_detail_beside_the_tree(tmp_path: Path, project: Path) -> None:
    app = Harness(tmp_path, project)
    async with app.run_test(size=(120, 30)) as pilot:
        tab = app.query_one(TestsTab)
        await settle(pilot, tab)
        assert not tab.has_class("-stacked")
        tree, detail = app.query_one(Tree), app.query_one("#tests-detail")
        assert tree.region.right <= detail.region.x
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: tab.has_class("-stacked"), "stacked after a resize")
