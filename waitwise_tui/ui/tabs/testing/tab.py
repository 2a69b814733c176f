"""The Tests tab: discover and run the project's pytest suite with live results.

pytest runs in a thread worker through ``core.testing.runner``; its events gather in a
``LiveResults`` batch that reaches the tab as one ``_ResultsArrived`` message at a time
(the next is posted only once the tab took the last batch), so thousands of results cost
a few tree refreshes, not thousands of messages. Watch mode is a ``Poller`` scanning
file times off the loop. ``g`` writes data-quality tests from a saved data profile,
confirming any overwrite with a diff. Every worker reaches the tab by posting a
dataclass message.

Test ids, messages, tracebacks and pytest's output come from the project under test:
they are shown through ``plain`` (never markup; control characters escaped, newlines
kept where the text is multi-line).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from waitwise_tui.core.events import TEST_RUN_FINISHED, Event
from waitwise_tui.core.testing.generate import (
    GenerationPlan,
    ProfileError,
    plan_generation,
    write_plan,
)
from waitwise_tui.core.testing.python_env import PythonEnv, SetupError, find_python
from waitwise_tui.core.testing.runner import (
    FAILING,
    OUTCOMES,
    Collected,
    Finished,
    RunEvent,
    RunRequest,
    TestResult,
    TestRun,
    pytest_targets,
    summary_text,
)
from waitwise_tui.core.testing.watch import Debouncer, scan
from waitwise_tui.core.text import display
from waitwise_tui.ui.context import AppContext
from waitwise_tui.ui.messages import RecordEvent
from waitwise_tui.ui.plain import plain
from waitwise_tui.ui.poller import Poller
from waitwise_tui.ui.tabs import TabCommands, TabWidget

WATCH_S = 1.0
SLOWEST = 10
ICONS = {
    "passed": ("✓", "green"),
    "failed": ("✗", "red"),
    "error": ("E", "red"),
    "skipped": ("s", "yellow"),
    "xfailed": ("x", "yellow"),
    "xpassed": ("X", "yellow"),
}
HELP = (
    "enter run the node under the cursor · r run all · f run failed · F failed first · "
    "c cancel · n/N next/prev failure · s slowest · l output · w watch · k courteous · "
    "g data tests · d detail full-size (escape back)"
)
SHORT = {"xfailed": "xfail", "xpassed": "xpass"}
# Joins a test's id and a subtest's description into the key of the subtest's tree node
# (a character no node id or description shown by pytest holds).
SUB = "\x1f"


def split_nodeid(nodeid: str) -> list[str]:
    """``file::Class::test[param]`` -> ["file", "Class", "test", "[param]"].

    Parameters are never split, whatever they hold (``test[a::b]``), as pytest's own
    node ids nest: the first ``[`` starts them.
    """
    head, bracket, params = nodeid.partition("[")
    parts = head.split("::")
    if bracket:
        parts.append(f"[{params}")
    return parts


def counts_text(counts: dict[str, int]) -> str:
    """Counts under pytest's summary words; subtests and a plugin's words after the six."""
    names = [*OUTCOMES, *(k for k in counts if k not in OUTCOMES)]
    shown = [f"{counts[k]} {SHORT.get(k, k)}" for k in names if counts.get(k)]
    return " ".join(shown) or "no results"


def test_of(key: str) -> str:
    """The test's node id of a tree key (a subtest's key names its test)."""
    return key.partition(SUB)[0]


class LiveResults:
    """One run's events, from pytest's thread to the tab in batches.

    ``add`` (runner thread) keeps each event and posts a signal only when none is in
    flight; ``take`` (event loop) hands over everything gathered so far and lets the next
    signal go. However fast pytest reports, at most one message waits in the queue.
    """

    def __init__(self, signal: Callable[[LiveResults], None]) -> None:
        self._signal = signal
        self._lock = threading.Lock()
        self._events: list[RunEvent] = []
        self._signalled = False

    def add(self, event: RunEvent) -> None:
        with self._lock:
            self._events.append(event)
            if self._signalled:
                return
            self._signalled = True
        self._signal(self)

    def take(self) -> list[RunEvent]:
        with self._lock:
            events, self._events = self._events, []
            self._signalled = False
        return events


@dataclass
class _ResultsArrived(Message, bubble=False):
    """``results`` holds new events of a run (take them with ``results.take()``)."""

    results: LiveResults

    def can_replace(self, message: Message) -> bool:
        # A signal, not a payload: the batch keeps every event, so a newer signal of the
        # same run makes an unhandled older one redundant.
        return isinstance(message, _ResultsArrived) and message.results is self.results


@dataclass
class _RunFinished(Message, bubble=False):
    finished: Finished
    collect_only: bool


@dataclass
class _RunNotStarted(Message, bubble=False):
    """pytest could not be started (no interpreter, no pytest): ``problem`` says why."""

    problem: str
    collect_only: bool


@dataclass
class _WatchScanned(Message, bubble=False):
    """Modification times of the project's files, read at ``when`` by the watch poller
    started ``watch``-th (an older poller's last scan is ignored)."""

    watch: int
    snapshot: dict[str, float]
    when: float


@dataclass
class _PlanReady(Message, bubble=False):
    plan: GenerationPlan


@dataclass
class _Written(Message, bubble=False):
    path: Path


@dataclass
class _Problem(Message, bubble=False):
    """A generation step failed; ``text`` is the error line to show."""

    text: str


class TestsTab(TabWidget):
    """Tree of the project's tests, live counts, and the selected test's details."""

    __test__ = False

    DEFAULT_CSS = """
    TestsTab #tests-status, TestsTab #tests-counts { height: 1; padding: 0 1; }
    TestsTab #tests-body { height: 1fr; }
    TestsTab #tests-tree { width: 1fr; min-width: 30; }
    TestsTab #tests-detail { width: 1fr; border-left: solid $panel; padding: 0 1; }
    TestsTab.-stacked #tests-body { layout: vertical; }
    TestsTab.-stacked #tests-tree { width: 100%; min-width: 0; height: 1fr; min-height: 3; }
    TestsTab.-stacked #tests-detail {
        width: 100%; height: 2fr; border-left: none; border-top: solid $panel;
    }
    TestsTab.-detail-full #tests-tree { display: none; }
    TestsTab.-detail-full #tests-detail { width: 100%; height: 1fr; border: none; }
    """

    # Under this many columns the tree and the detail stack instead of sharing a row
    # (side by side at 80 columns, a traceback got 38 columns and wrapped mid-word).
    STACK_BELOW = 90

    BINDINGS = [
        Binding("r", "run_all", "Run all", id="tests.run_all"),
        Binding("f", "run_failed", "Run failed", id="tests.run_failed"),
        Binding("F", "failed_first", "Failed first", id="tests.failed_first"),
        Binding("c", "cancel", "Cancel", id="tests.cancel"),
        Binding("w", "toggle_watch", "Watch", id="tests.watch"),
        Binding("n", "next_failure", "Next failure", id="tests.next_failure"),
        Binding("N", "prev_failure", "Prev failure", id="tests.prev_failure"),
        Binding("s", "slowest", "Slowest", id="tests.slowest"),
        Binding("l", "show_log", "Output", id="tests.log"),
        Binding("g", "generate", "Data tests", id="tests.generate"),
        Binding("k", "toggle_courteous", "Courteous", id="tests.courteous"),
        Binding("d", "detail_full", "Detail", id="tests.detail"),
        Binding("escape", "detail_back", "Back", show=False, id="tests.detail_back"),
    ]

    def __init__(self, ctx: AppContext, *, id: str | None = None) -> None:
        super().__init__(ctx, id=id)
        self.project = Path(ctx.options.get("project_dir") or ctx.workspace.root).resolve()
        self.env: PythonEnv = find_python(self.project, ctx.settings.tests_python)
        self.courteous = bool(ctx.settings.tests_courteous)
        self._discovered = False  # discovery runs on first activation
        self.watching = False
        # The result shown per test: its failing phase, else its call.
        self.results: dict[str, TestResult] = {}
        # Every report of a test's last run (setup/call/teardown), and its subtests'.
        self.phases: dict[str, list[TestResult]] = {}
        self.subtests: dict[str, dict[str, TestResult]] = {}
        self._ran: set[str] = set()  # tests with a report in the current run
        self._listed: set[str] = set()  # tests collected (or erroring) in this run
        self._run_args: tuple[str, ...] = ()
        self.order: list[str] = []
        self.nodes: dict[str, TreeNode[str]] = {}
        self.state = "discovering"
        self._live: LiveResults | None = None
        self._watcher: Poller | None = None
        self._watches = 0  # pollers started so far; a scan says which one read it
        self._run: TestRun | None = None
        self._run_counts: dict[str, int] = {}
        self._run_seen = 0
        self._run_total = 0
        self._debounce = Debouncer()
        # Tail of pytest's own output (bounded by the runner), shown with l.
        self._last_log = ""
        self._warned = ""

    def compose(self) -> ComposeResult:
        yield Static(id="tests-status")
        yield Static(id="tests-counts")
        with Horizontal(id="tests-body"):
            tree: Tree[str] = Tree(plain(self.project.name), id="tests-tree")
            tree.show_root = False
            tree.auto_expand = False
            yield tree
            with VerticalScroll(id="tests-detail"):
                yield Static(Text(HELP, style="dim"), id="tests-detail-text")

    def on_mount(self) -> None:
        self._show_status()

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < self.STACK_BELOW, "-stacked")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "detail_back":
            # Escape is the app's (leave a field, go to the tab bar) unless the detail
            # is shown full-size.
            return self.has_class("-detail-full")
        return super().check_action(action, parameters)

    def on_unmount(self) -> None:
        self._stop_watching()

    # -- hooks ---------------------------------------------------------------

    def tab_activated(self) -> None:
        self.query_one(Tree).focus()
        if not self._discovered:
            # Discovery starts pytest: do it when the tab is first shown, not at every
            # start of the app (which may never open this tab).
            self._discovered = True
            self._start(collect_only=True)

    @property
    def working(self) -> bool:
        """pytest is running (a test run or a discovery)."""
        return self._run is not None

    def busy_reason(self) -> str | None:
        # Discovery only lists tests; quitting during it loses nothing.
        if self._run is None or self._run.request.collect_only:
            return None
        return "a test run is in progress"

    def before_quit(self) -> None:
        self.watching = False
        self._stop_watching()
        if self._run is not None:
            self._run.cancel()

    # -- running -------------------------------------------------------------

    def _start_tests(self, nodeids: list[str] | tuple[str, ...]) -> None:
        """Run exactly these tests (ids pytest cannot take as arguments included)."""
        args, select = pytest_targets(nodeids)
        self._start(args, select=select)

    def _start(
        self,
        args: tuple[str, ...] = (),
        *,
        collect_only: bool = False,
        select: tuple[str, ...] = (),
    ) -> None:
        if self._run is not None:
            self.notify("a test run is in progress (c cancels it)", severity="warning")
            return
        request = RunRequest(
            self.project,
            self.env.python,
            args,
            collect_only=collect_only,
            courteous=self.courteous,
            extra_env=dict(self.ctx.fakes.tests_env),
            python_env=self.env,
            select=select,
        )
        self._live = LiveResults(lambda live: self.post_message(_ResultsArrived(live)))
        self._run = TestRun(request, self._live.add)
        self._run_counts = dict.fromkeys(OUTCOMES, 0)
        self._run_seen = 0
        self._run_total = 0
        self._ran = set()
        self._listed = set()
        self._run_args = args
        self.state = "collecting" if collect_only else "running"
        if collect_only:
            self.query_one(Tree).clear()
            self.nodes.clear()
            self.order.clear()
            self.results.clear()
            self.phases.clear()
            self.subtests.clear()
        elif not args or args == ("--ff",):
            self._forget_results()
        self._show_counts()
        self._run_worker(self._run, collect_only)

    def _forget_results(self) -> None:
        """A full run or a rediscovery starts from a clean slate."""
        self.results.clear()
        self.phases.clear()
        for nodeid in list(self.subtests):
            self._drop_subtests(nodeid)
        for nodeid in self.order:
            self.nodes[nodeid].set_label(self._label(nodeid, split_nodeid(nodeid)[-1]))

    @work(thread=True, exclusive=True, group="tests-run", exit_on_error=False)
    def _run_worker(self, test_run: TestRun, collect_only: bool) -> None:
        try:
            finished = test_run.run()
        except SetupError as exc:
            self.post_message(_RunNotStarted(str(exc), collect_only))
            return
        self.post_message(_RunFinished(finished, collect_only))

    @on(_ResultsArrived)
    def _results_arrived(self, message: _ResultsArrived) -> None:
        if message.results is self._live:
            self._drain()

    def _drain(self) -> None:
        events = self._live.take() if self._live is not None else []
        if not events:
            return
        tree = self.query_one(Tree)
        for event in events:
            if isinstance(event, Collected):
                self._add_test(tree, event.nodeid)
                self._listed.add(event.nodeid)
                self._run_total += 1
            elif isinstance(event, TestResult):
                self._apply_result(tree, event)
        self._show_counts()

    def _add_test(self, tree: Tree[str], nodeid: str) -> TreeNode[str]:
        node = self.nodes.get(nodeid)
        if node is not None:
            return node
        parent = tree.root
        prefix = ""
        parts = split_nodeid(nodeid)
        for depth, part in enumerate(parts):
            prefix = (
                part if depth == 0 else (prefix + part if part[0] == "[" else f"{prefix}::{part}")
            )
            existing = self.nodes.get(prefix)
            if existing is None:
                if depth == len(parts) - 1:
                    existing = parent.add_leaf(self._label(prefix, part), data=prefix)
                    self.order.append(prefix)
                else:
                    existing = parent.add(plain(part), data=prefix, expand=True)
                self.nodes[prefix] = existing
            parent = existing
        return parent

    def outcome(self, nodeid: str) -> str | None:
        """A test's outcome as shown: failed when any of its subtests failed."""
        result = self.results.get(nodeid)
        subs = self.subtests.get(nodeid, {})
        own = result.outcome if result is not None else None
        if own not in FAILING and any(sub.outcome in FAILING for sub in subs.values()):
            return "failed"
        return own

    def _label(self, nodeid: str, name: str) -> Text:
        if SUB in nodeid:
            test, _, subtest = nodeid.partition(SUB)
            sub = self.subtests.get(test, {}).get(subtest)
            outcome = sub.outcome if sub is not None else None
        else:
            outcome = self.outcome(nodeid)
        icon, style = ICONS.get(outcome or "", ("·", "dim"))
        return Text.assemble((icon, style), " ", plain(name))

    def _drop_subtests(self, nodeid: str) -> None:
        for subtest in self.subtests.pop(nodeid, {}):
            node = self.nodes.pop(f"{nodeid}{SUB}{subtest}", None)
            if node is not None:
                node.remove()

    def _apply_result(self, tree: Tree[str], result: TestResult) -> None:
        nodeid = result.nodeid
        if nodeid not in self._ran:
            # The test's first report in this run: its reports of an earlier run go.
            self._ran.add(nodeid)
            self._listed.add(nodeid)
            self.results.pop(nodeid, None)
            self.phases.pop(nodeid, None)
            self._drop_subtests(nodeid)
        if result.category:
            self._run_counts[result.category] = self._run_counts.get(result.category, 0) + 1
        node = self._add_test(tree, nodeid)
        if result.subtest:
            self.subtests.setdefault(nodeid, {})[result.subtest] = result
            key = f"{nodeid}{SUB}{result.subtest}"
            child = self.nodes.get(key)
            if child is None:
                node.allow_expand = True
                child = node.add_leaf(self._label(key, result.subtest), data=key)
                self.nodes[key] = child
            else:
                child.set_label(self._label(key, result.subtest))
            if result.outcome in FAILING:
                node.expand()  # a failing subtest is shown without a keypress
        else:
            self.phases.setdefault(nodeid, []).append(result)
            previous = self.results.get(nodeid)
            # A failing phase is what the test's line shows; a later one does not hide it.
            if previous is None or previous.outcome not in FAILING:
                self.results[nodeid] = result
            if result.when != "teardown":
                self._run_seen += 1
        node.set_label(self._label(nodeid, split_nodeid(nodeid)[-1]))

    def _prune(self) -> None:
        """Drop the tests a full run or a discovery no longer found (a deleted file)."""
        gone = [n for n in self.order if n not in self._listed]
        for nodeid in gone:
            self._drop_subtests(nodeid)
            self.results.pop(nodeid, None)
            self.phases.pop(nodeid, None)
            node = self.nodes.pop(nodeid)
            parent = node.parent
            node.remove()
            # Folders and classes left empty go too.
            while parent is not None and parent.parent is not None and not parent.children:
                self.nodes.pop(str(parent.data), None)
                grand = parent.parent
                parent.remove()
                parent = grand
        gone_set = set(gone)
        self.order[:] = [n for n in self.order if n not in gone_set]

    @on(_RunFinished)
    def _finished(self, message: _RunFinished) -> None:
        finished, collect_only = message.finished, message.collect_only
        self._drain()
        self._live = None
        self._run = None
        self._last_log = finished.log_tail
        self._run_counts = dict(finished.counts)
        full = collect_only or self._run_args in ((), ("--ff",))
        if full and finished.exit_code in (0, 1, 5) and not finished.reason:
            self._prune()
        if finished.warning and finished.warning != self._warned:
            # Once per problem: a watch loop would otherwise repeat it at every run.
            self._warned = finished.warning
            self.notify(finished.warning, severity="warning")
        if collect_only:
            self.state = (
                f"{len(self.order)} tests found"
                if finished.exit_code in (0, 5)
                else f"collection: {finished.explanation}"
            )
        else:
            self.state = f"exit {finished.exit_code}: {finished.explanation}"
            message = summary_text(finished.counts, finished.duration)
            data = {**finished.counts, "exit_code": finished.exit_code}
            self.post_message(
                RecordEvent(
                    Event(kind=TEST_RUN_FINISHED, source="tests", message=message, data=data)
                )
            )
        self._show_counts()
        tree = self.query_one(Tree)
        if tree.cursor_line < 0 and self.order:
            tree.cursor_line = 0
        if finished.exit_code not in (0, 1, 5):
            self._show_detail_text(
                plain(f"{finished.explanation}\n\n{finished.log_tail}", multiline=True)
            )
        else:
            self._show_detail(tree.cursor_node)

    @on(_RunNotStarted)
    def _setup_failed(self, message: _RunNotStarted) -> None:
        self._live = None
        self._run = None
        self.state = "cannot run"
        self._show_counts()
        self._show_detail_text(plain(message.problem, multiline=True))
        if not message.collect_only:
            # The discovery at start-up only reports inside the tab: a user who never
            # opens it should not get an error toast for a project without pytest.
            self.notify(message.problem, severity="error")

    # -- rendering -----------------------------------------------------------

    def _show_status(self) -> None:
        text = Text.assemble(
            ("python ", "dim"),
            plain(self.env.describe(self.project)),
            ("  courteous ", "dim"),
            "on" if self.courteous else "off",
            ("  watch ", "dim"),
            "on" if self.watching else "off",
        )
        self.query_one("#tests-status", Static).update(text)

    def _show_counts(self) -> None:
        if self._run is not None and self.state == "running":
            progress = f"running {self._run_seen}/{self._run_total or '?'}"
        else:
            progress = self.state
        text = plain(progress, "bold")
        if self.state != "collecting":
            text.append("  " + counts_text(self._run_counts))
        self.query_one("#tests-counts", Static).update(text)

    def _show_detail_text(self, text: Text) -> None:
        self.query_one("#tests-detail-text", Static).update(text)

    def _show_detail(self, node: TreeNode[str] | None) -> None:
        if node is None or node.data is None:
            return
        nodeid = node.data
        if SUB in nodeid:
            test, _, subtest = nodeid.partition(SUB)
            sub = self.subtests.get(test, {}).get(subtest)
            if sub is not None:
                self._show_detail_text(self._result_text(test, [sub]))
            return
        result = self.results.get(nodeid)
        if result is None:
            inside = [
                n for n in self.order if n == nodeid or n.startswith((f"{nodeid}::", f"{nodeid}["))
            ]
            failing = [
                n for n in inside if n in self.results and self.results[n].outcome in FAILING
            ]
            text = plain(nodeid, "bold")
            text.append(f"\n{len(inside)} tests, {len(failing)} failing\nenter: run these")
            self._show_detail_text(text)
            return
        phases = self.phases.get(nodeid, [result])
        # Every failing phase (a teardown error after a failing call too), else the call.
        shown = [r for r in phases if r.outcome in FAILING] or [result]
        shown += [r for r in self.subtests.get(nodeid, {}).values() if r.outcome in FAILING]
        self._show_detail_text(self._result_text(nodeid, shown))

    def _result_text(self, nodeid: str, results: list[TestResult]) -> Text:
        text = plain(nodeid, "bold")
        for index, result in enumerate(results):
            icon, style = ICONS[result.outcome]
            if index:
                text.append("\n")
            head = f"\n{icon} {result.outcome} ({display(result.when)})"
            if result.subtest:
                head += f" subtest {display(result.subtest)}"
            text.append(f"{head} {result.duration:.2f}s", style=style)
            if result.location:
                text.append("\nat ", style="dim")
                text.append_text(plain(result.location))
            if result.message:
                text.append("\n")
                text.append_text(plain(result.message, multiline=True))
            for title, body in (
                ("traceback", result.longrepr),
                ("stdout", result.stdout),
                ("stderr", result.stderr),
            ):
                if body and not (title == "traceback" and body == result.message):
                    text.append(f"\n\n── {title} ──\n", style="dim")
                    text.append_text(plain(body, multiline=True))
        return text

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        self._show_detail(event.node)

    def on_tree_node_selected(self, event: Tree.NodeSelected[str]) -> None:
        if event.node.data is not None:
            # A subtest runs as its test: pytest cannot select one subtest.
            self._start_tests((test_of(event.node.data),))

    # -- actions -------------------------------------------------------------

    def failing(self) -> list[str]:
        """Failing tests in tree order (a test with a failing subtest among them)."""
        return [n for n in self.order if self.outcome(n) in FAILING]

    def action_detail_full(self) -> None:
        """The selected test's detail over the whole tab (escape or d goes back)."""
        if self.has_class("-detail-full"):
            self.action_detail_back()
            return
        self.add_class("-detail-full")
        self.query_one("#tests-detail").focus()

    def action_detail_back(self) -> None:
        self.remove_class("-detail-full")
        self.query_one("#tests-tree").focus()

    def action_run_all(self) -> None:
        self._start()

    def action_run_failed(self) -> None:
        failed = self.failing()
        if not failed:
            self.notify("no failed tests to rerun")
            return
        self._start_tests(failed)

    def action_failed_first(self) -> None:
        self._start(("--ff",))

    def action_cancel(self) -> None:
        if self._run is None:
            self.notify("nothing is running")
            return
        self._run.cancel()
        self.state = "cancelling"
        self._show_counts()

    def _jump(self, step: int) -> None:
        failed = self.failing()
        if not failed:
            self.notify("no failures")
            return
        tree = self.query_one(Tree)
        current = tree.cursor_node.data if tree.cursor_node is not None else None
        current = test_of(current) if current is not None else None
        if current in failed:
            target = failed[(failed.index(current) + step) % len(failed)]
        else:
            target = failed[0] if step > 0 else failed[-1]
        node = self.nodes[target]
        parent = node.parent
        while parent is not None:
            parent.expand()
            parent = parent.parent
        tree.move_cursor(node)

    def action_next_failure(self) -> None:
        self._jump(1)

    def action_prev_failure(self) -> None:
        self._jump(-1)

    def action_slowest(self) -> None:
        ranked = sorted(self.results.values(), key=lambda r: r.duration, reverse=True)[:SLOWEST]
        if not ranked:
            self.notify("no results yet")
            return
        text = Text(f"slowest {len(ranked)}", style="bold")
        for result in ranked:
            text.append(f"\n{result.duration:7.2f}s  {display(result.nodeid)}")
        self._show_detail_text(text)

    def action_show_log(self) -> None:
        if not self._last_log:
            self.notify("no pytest output yet")
            return
        self._show_detail_text(plain(self._last_log, multiline=True))

    def action_toggle_courteous(self) -> None:
        self.courteous = not self.courteous
        self._show_status()

    def action_toggle_watch(self) -> None:
        self.watching = not self.watching
        self._debounce = Debouncer()
        self._show_status()
        self._stop_watching()
        if self.watching:
            self._watches += 1
            watch = self._watches
            self._watcher = Poller(
                lambda: self._watch_scan(watch), lambda: WATCH_S, name="waitwise-tests-watch"
            )
            self._watcher.start()

    def _stop_watching(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None

    def _watch_scan(self, watch: int) -> None:
        """One scan, on the watch poller's thread."""
        snapshot = scan(self.project)
        self.post_message(_WatchScanned(watch, snapshot, time.monotonic()))

    @on(_WatchScanned)
    def _watch_result(self, message: _WatchScanned) -> None:
        if message.watch != self._watches or self._watcher is None or not self.watching:
            return  # watching stopped (or restarted) since this scan began
        self._watcher.handled()  # the next scan starts WATCH_S after this one
        if self._debounce.feed(message.snapshot, message.when) and self._run is None:
            self._start()

    def action_generate(self) -> None:
        from waitwise_tui.ui.tabs.testing.modals import ProfilePrompt

        prompt = ProfilePrompt(
            "Data profile JSON to generate tests from (enter: go, esc: cancel)",
            self._default_profile(),
            placeholder="path/to/profile.json",
        )
        self.app.push_screen(prompt, self._profile_chosen)

    def _default_profile(self) -> str:
        profiles = self.ctx.workspace.profiles_dir
        try:
            newest = max(profiles.glob("*.json"), key=lambda p: p.stat().st_mtime, default=None)
        except OSError:
            newest = None
        if newest is None:
            return ""
        try:
            return str(newest.relative_to(self.project))
        except ValueError:
            return str(newest)

    def _profile_chosen(self, path: str | None) -> None:
        if path:
            self._plan_worker(path)

    @work(thread=True, exclusive=True, group="tests-generate", exit_on_error=False)
    def _plan_worker(self, path: str) -> None:
        profile = Path(path)
        if not profile.is_absolute():
            profile = self.project / profile
        try:
            plan = plan_generation(profile, self.project)
        except ProfileError as exc:
            self.post_message(_Problem(str(exc)))
            return
        self.post_message(_PlanReady(plan))

    @on(_Problem)
    def _problem(self, message: _Problem) -> None:
        self.notify(message.text, severity="error")

    @on(_PlanReady)
    def _plan_ready(self, message: _PlanReady) -> None:
        from waitwise_tui.ui.tabs.testing.modals import DiffConfirm

        plan = message.plan
        if not plan.overwrites:
            self._write_worker(plan)
            return

        def answered(overwrite: bool | None) -> None:
            if overwrite:
                self._write_worker(plan)
            else:
                self.notify("data tests left unchanged")

        self.app.push_screen(DiffConfirm(plan.diff), answered)

    @work(thread=True, exclusive=True, group="tests-generate", exit_on_error=False)
    def _write_worker(self, plan: GenerationPlan) -> None:
        try:
            write_plan(plan)
        except OSError as exc:
            self.post_message(_Problem(f"cannot write data tests: {exc}"))
            return
        self.post_message(_Written(plan.test_path))

    @on(_Written)
    def _written(self, message: _Written) -> None:
        path = message.path
        try:
            shown = path.relative_to(self.project)
        except ValueError:
            shown = path
        self.notify(f"wrote {shown}")
        self._start(collect_only=True)


class TestsCommands(TabCommands):
    """Command palette entries for the tests tab (offered when the tab exists)."""

    __test__ = False

    tab_class = TestsTab
    help_text = "Tests tab"
    entries = (
        ("Tests: run all", "run_all"),
        ("Tests: run failed", "run_failed"),
        ("Tests: run with failed first", "failed_first"),
        ("Tests: cancel the run", "cancel"),
        ("Tests: toggle watch mode", "toggle_watch"),
        ("Tests: toggle courteous mode (no GPU, low priority)", "toggle_courteous"),
        ("Tests: show the slowest tests", "slowest"),
        ("Tests: show pytest's output of the last run", "show_log"),
        ("Tests: generate data-quality tests from a profile", "generate"),
    )
