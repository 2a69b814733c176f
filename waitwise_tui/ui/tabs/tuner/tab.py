"""The Tuner tab: studies, their trial queue, leaderboard, plots, job logs and the
Slurm cluster view (the user's own Slurm jobs, waitwise's or not).

The tab shows snapshots and sends commands; core decides. A ``Poller`` thread runs
``core.tuner.control.poll`` (one runner round through the ``WorkspaceTuner``, which owns
the runner and its lock, then a ``TunerSnapshot`` read from the workspace database) and
posts it as a message; commands (open, pause, launch, cancel, retry, scancel) run in
``@work(thread=True)`` workers that post their ``Outcome`` back. Everything shown comes
from the database, so it survives a restart. Finished trials and jobs go up as
``RecordEvent``.

Nearly everything shown is outside text: study names, trial parameters, job commands
and output, Slurm's job names, states, reasons and node lists, error messages. Table
cells and labels get it as ``plain`` (a Rich ``Text`` of ``core.text.display``), never
a ``str`` (DataTable, Static and Select read a ``str`` as markup) and never with a raw
control character; job output lines are escaped before the ``Log`` sees them.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import (
    ContentSwitcher,
    DataTable,
    Log,
    Select,
    Static,
)

from waitwise_tui.core.jobs.slurm_cli import SlurmJob
from waitwise_tui.core.text import display
from waitwise_tui.core.tuner import control
from waitwise_tui.core.tuner.control import Outcome, Polled, Severity
from waitwise_tui.core.tuner.readmodel import (
    JOBS,
    LOG_LINES,
    QUEUE_STATE_WIDTH,
    JobLog,
    JobsStatus,
    StudyStatus,
    TunerSnapshot,
    read_job_log,
)
from waitwise_tui.core.tuner.service import (
    ACTIVE,
    FINISHED,
    PAUSED,
    Study,
    Trial,
    WorkspaceTuner,
)
from waitwise_tui.ui.messages import RecordEvent
from waitwise_tui.ui.plain import plain
from waitwise_tui.ui.poller import Poller
from waitwise_tui.ui.screens import ConfirmScreen
from waitwise_tui.ui.tabs import TabCommands, TabWidget
from waitwise_tui.ui.tabs.tuner.modals import TunerPrompt

if TYPE_CHECKING:
    from waitwise_tui.ui.context import AppContext

VIEWS = ("queue", "board", "plots", "log", "cluster")
_CELL_LIMIT = 120  # characters of outside text in one table cell (a 1 MB parameter...)


@dataclass
class TunerPolled(Message):
    """A poll's result: what to show (None: nothing to show yet) or why it failed."""

    polled: Polled
    error: str | None = None


@dataclass
class TunerLogRead(Message):
    log: JobLog


@dataclass
class TunerPlotted(Message):
    text: str


@dataclass
class TunerNotice(Message):
    """A command's one line for the user; the next poll shows what it changed."""

    message: str
    severity: Severity = "information"


@dataclass
class TunerStudyOpened(Message):
    study_id: int
    name: str


@dataclass
class TunerStudyChanged(Message):
    """The study file's parameter space changed: ask before starting a new study."""

    answer: str
    problem: str


class PlotView(Static, can_focus=True):
    """The plots pane; focusable so the tab's keys keep working while it shows."""


class TunerTab(TabWidget):
    """Tab widget: picker + status line over a switcher of queue/leaderboard/plots/log."""

    DEFAULT_CSS = """
    TunerTab #tuner-top { height: 1; }
    TunerTab #tuner-picker { width: 22; }
    TunerTab #tuner-status { width: 1fr; padding: 0 1; }
    TunerTab ContentSwitcher { height: 1fr; }
    TunerTab DataTable { height: 1fr; }
    TunerTab #tuner-plots { height: 1fr; }
    TunerTab #tuner-log { height: 1fr; }
    TunerTab #tuner-cluster { height: 1fr; }
    """

    BINDINGS = [
        Binding("o", "open_study", "Open study", id="tuner.open_study"),
        Binding("n", "launch", "Launch N", id="tuner.launch"),
        Binding("p", "toggle_pause", "Pause", id="tuner.toggle_pause"),
        Binding("c", "cancel", "Cancel", id="tuner.cancel"),
        Binding("r", "retry", "Retry", id="tuner.retry"),
        Binding("l", "view_log", "Log", id="tuner.view_log"),
        Binding("v", "cycle_view", "View", id="tuner.cycle_view"),
        Binding("s", "next_study", "Study", id="tuner.next_study"),
        Binding("k", "cluster", "Cluster", id="tuner.cluster"),
        Binding("x", "next_param", "Scatter param", show=False, id="tuner.next_param"),
        Binding("plus", "parallel(1)", "Parallel+", show=False, id="tuner.parallel_up"),
        Binding("minus", "parallel(-1)", "Parallel-", show=False, id="tuner.parallel_down"),
    ]

    def __init__(self, ctx: AppContext, *, id: str | None = None) -> None:
        super().__init__(ctx, id=id)
        self._clock: Callable[[], float] = ctx.fakes.clock or time.time
        # Free GPUs are judged from the app's live GPU readings: no NVML of its own.
        self._gpu_probe = ctx.fakes.gpu_probe or ctx.live.gpu_probe
        # The one owner of this workspace's runner (and of the lock around its database).
        self._tuner = WorkspaceTuner(
            ctx.workspace,
            ctx.settings.runner_options(),
            gpu_probe=self._gpu_probe,
            clock=self._clock,
        )
        self._selected: int | None = None
        self._view = TunerSnapshot()
        self._queue_rows: dict[str, tuple[Text, ...]] = {}
        self._board_rows: list[tuple[Text, ...]] = []
        self._log_job: int | None = None
        self._log_shown: tuple[int, tuple[str, ...]] | None = None  # what the Log holds
        self._status_shown: tuple[Any, ...] | None = None
        self._param_index = 0
        self._plot_key: tuple[Any, ...] | None = None
        self._picker_options: list[tuple[Text, int]] = []
        self._poller: Poller | None = None
        # Set on the event loop, read by the poll thread: squeue only while it shows.
        self._cluster_wanted = False
        self._cluster_rows: list[tuple[str, tuple[Text, ...]]] = []
        self._cluster_jobs: dict[str, SlurmJob] = {}  # shown rows' jobs, by Slurm id

    # -- layout ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="tuner-top"):
            yield Select[int]([], prompt="no study", compact=True, id="tuner-picker")
            yield Static(id="tuner-status")
        with ContentSwitcher(initial="tuner-queue"):
            yield DataTable(id="tuner-queue", cursor_type="row", zebra_stripes=True)
            yield DataTable(id="tuner-board", cursor_type="row")
            yield PlotView(id="tuner-plots")
            yield Log(id="tuner-log", max_lines=LOG_LINES * 4)
            yield DataTable(id="tuner-cluster", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        queue = self.query_one("#tuner-queue", DataTable)
        for label, key in (
            ("#", "n"),
            ("params", "params"),
            ("where", "where"),
            ("gpu", "gpu"),
            ("time", "time"),
            ("value", "value"),
        ):
            queue.add_column(label, key=key)
            if key == "n":
                queue.add_column("state", key="state", width=QUEUE_STATE_WIDTH)
        board = self.query_one("#tuner-board", DataTable)
        for label, key in (("rank", "rank"), ("#", "n"), ("value", "value"), ("params", "params")):
            board.add_column(label, key=key)
        cluster = self.query_one("#tuner-cluster", DataTable)
        for label in ("slurm id", "state", "reason", "elapsed", "node", "gpus", "name", "job"):
            cluster.add_column(label, key=label)
        self._set_status(Text("no study yet: press o to open a study file", style="dim"))
        self._poller = Poller(
            self._poll_once, lambda: self.ctx.settings.interval, name="waitwise-tuner"
        )
        self._poller.start()

    def on_unmount(self) -> None:
        if self._poller is not None:
            self._poller.stop()

    def tab_activated(self) -> None:
        self.query_one("#tuner-queue", DataTable).focus()

    def before_quit(self) -> None:
        # Jobs are detached and keep running; only the database handle is ours.
        if self._poller is not None:
            self._poller.stop()
        self._tuner.close()

    # -- polling ----------------------------------------------------------------------

    def _poll(self) -> None:
        """Poll now rather than at the end of the current interval (thread-safe)."""
        if self._poller is not None:
            self._poller.poke()

    def _poll_once(self) -> None:
        """One runner round and database read, on the poller's thread."""
        try:
            polled = control.poll(self._tuner, self._selected, cluster=self._cluster_wanted)
        except Exception as exc:  # the tab keeps going; the problem is shown once
            self.post_message(TunerPolled(Polled(), f"tuner: {exc}"))
            return
        if polled.snapshot is None and not polled.events and self._poller is not None:
            self._poller.handled()  # no workspace database yet: nothing to show
            return
        self.post_message(TunerPolled(polled))

    @on(TunerPolled)
    def _polled(self, message: TunerPolled) -> None:
        try:
            for event in message.polled.events:
                self.post_message(RecordEvent(event))
            if message.error:
                self._set_status(plain(message.error, "red"))
            snapshot = message.polled.snapshot
            # Read before another study was picked: the poke after the pick brings its own.
            stale = (
                snapshot is not None
                and snapshot.selected is not None
                and self._selected is not None
                and snapshot.selected != self._selected
            )
            if snapshot is not None and not stale:
                self._render_view(snapshot)
        finally:  # the next poll waits for this; never leave it waiting
            if self._poller is not None:
                self._poller.handled()

    # -- rendering --------------------------------------------------------------------

    def _render_view(self, view: TunerSnapshot) -> None:
        self._view = view
        if self._selected is None and view.study is not None:
            self._selected = view.study.id
        self._render_picker(view)
        self._render_status(view)
        self._render_queue(view)
        self._render_board(view)
        self._render_cluster(view)
        switcher = self.query_one(ContentSwitcher)
        if switcher.current == "tuner-plots":
            self._request_plot()
        if switcher.current == "tuner-log" and self._log_job is not None:
            self._read_log(self._log_job)

    def _render_picker(self, view: TunerSnapshot) -> None:
        options: list[tuple[Text, int]] = [(plain(s.name, limit=200), s.id) for s in view.studies]
        options.append((Text("plain jobs"), JOBS))
        if options == self._picker_options:
            return
        self._picker_options = options
        picker = self.query_one("#tuner-picker", Select)
        with picker.prevent(Select.Changed):
            picker.set_options(options)
            if self._selected is not None:
                picker.value = self._selected

    def _set_status(self, text: Text) -> None:
        # Each poll renders the status; an update re-lays the line, so only on a change.
        shown = (text.plain, str(text.style), text.spans)
        if shown != self._status_shown:
            self._status_shown = shown
            self.query_one("#tuner-status", Static).update(text)

    def _render_status(self, view: TunerSnapshot) -> None:
        if self.query_one(ContentSwitcher).current == "tuner-cluster":
            cluster = view.cluster
            if cluster is not None and cluster.error:
                self._set_status(plain(f"Slurm: {cluster.error}", "red"))
            elif cluster is not None and cluster.rows is not None:
                self._set_status(
                    Text(
                        f"your Slurm jobs: {cluster.running} running · {cluster.pending} pending"
                        " · c cancels"
                    )
                )
            return
        if view.problems:
            self._set_status(plain(" · ".join(view.problems), "yellow"))
            return
        status = view.status
        if isinstance(status, JobsStatus):
            self._set_status(Text(f"plain jobs: {status.total} ({status.active} active)"))
            return
        if not isinstance(status, StudyStatus):
            return
        text = Text()
        style = {ACTIVE: "green", PAUSED: "yellow", FINISHED: "dim"}.get(status.state, "")
        text.append(status.state, style=style)
        text.append(
            f" {status.ended}/{status.max_trials} · {status.running} running"
            f" · par {status.parallel}"
        )
        if status.best_value is not None:
            text.append(" · best ")
            text.append(status.best_value, style="bold")
            text.append(f" #{status.best_number}")
        self._set_status(text)

    def _render_queue(self, view: TunerSnapshot) -> None:
        table = self.query_one("#tuner-queue", DataTable)
        rows = {row.key: _cells(*row.cells()) for row in view.queue}
        old = self._queue_rows
        if rows == old:
            return  # the usual poll: nothing to redraw or measure
        if list(rows) != list(old):
            cursor = table.cursor_row
            table.clear()
            for key, cells in rows.items():
                table.add_row(*cells, key=key)
            if rows:
                table.move_cursor(row=min(cursor, len(rows) - 1), animate=False)
        else:
            columns = [c.key for c in table.ordered_columns]
            for key, cells in rows.items():
                for column, new, before in zip(columns, cells, old[key], strict=True):
                    if new != before:
                        table.update_cell(key, column, new, update_width=True)
        self._queue_rows = rows
        _measure_soon(table)

    def _render_board(self, view: TunerSnapshot) -> None:
        rows = [_cells(*row.cells()) for row in view.board]
        if rows == self._board_rows:
            return
        self._board_rows = rows
        table = self.query_one("#tuner-board", DataTable)
        table.clear()
        for row in rows:
            table.add_row(*row)
        _measure_soon(table)

    def _render_cluster(self, view: TunerSnapshot) -> None:
        if view.cluster is None or view.cluster.rows is None:
            return
        # squeue's fields are outside text too (the job name is anyone's choice); the
        # row key keeps the raw id for scancel.
        rows = [(row.job.job_id, _cells(*row.cells())) for row in view.cluster.rows]
        if rows == self._cluster_rows:
            return
        self._cluster_rows = rows
        self._cluster_jobs = {row.job.job_id: row.job for row in view.cluster.rows}
        table = self.query_one("#tuner-cluster", DataTable)
        cursor = table.cursor_row
        table.clear()
        for key, cells in rows:
            table.add_row(*cells, key=key)
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1), animate=False)
        _measure_soon(table)

    # -- plots and logs (thread workers) ---------------------------------------------

    def _request_plot(self) -> None:
        view = self._view
        study = view.study
        plots = self.query_one("#tuner-plots", Static)
        if study is None or self._selected == JOBS:
            plots.update(Text("no study selected", style="dim"))
            return
        done = view.plot_points()
        names = [p.name for p in study.spec.params]
        param = names[self._param_index % len(names)] if names else None
        size = plots.content_size
        key = (study.id, tuple(n for n, _, _ in done), param, size.width, size.height)
        if key == self._plot_key:
            return
        self._plot_key = key
        self._plot(
            done,
            study.spec.metric,
            study.spec.direction == "minimize",
            param,
            size.width,
            size.height,
        )

    @work(thread=True, exclusive=True, group="tuner-plot", exit_on_error=False)
    def _plot(
        self,
        done: list[tuple[int, dict[str, Any], float]],
        metric: str,
        minimize: bool,
        param: str | None,
        width: int,
        height: int,
    ) -> None:
        from waitwise_tui.ui.tabs.tuner.views import render_plots

        text = render_plots(
            done, metric=metric, minimize=minimize, param=param, width=width, height=height
        )
        self.post_message(TunerPlotted(text))

    @on(TunerPlotted)
    def _plotted(self, message: TunerPlotted) -> None:
        self.query_one("#tuner-plots", Static).update(Text.from_ansi(message.text))

    @work(thread=True, exclusive=True, group="tuner-log", exit_on_error=False)
    def _read_log(self, job_id: int) -> None:
        self.post_message(TunerLogRead(read_job_log(self.ctx.workspace, job_id)))

    @on(TunerLogRead)
    def _log_read(self, message: TunerLogRead) -> None:
        job_log = message.log
        if job_log.job_id != self._log_job:
            return
        if (job_log.job_id, job_log.lines) == self._log_shown:
            return  # read again at each poll: rewrite (and repaint) only what changed
        self._log_shown = (job_log.job_id, job_log.lines)
        log = self.query_one("#tuner-log", Log)
        log.clear()
        log.write_line(f"--- job {job_log.job_id} ({job_log.label})")
        # The job's output: the Log widget blanks only some C0 controls and keeps ESC.
        log.write_lines(
            [display(line, multiline=True) for line in job_log.lines] or ["(no output yet)"]
        )

    # -- selection helpers ------------------------------------------------------------

    def _selected_key(self) -> str | None:
        table = self.query_one("#tuner-queue", DataTable)
        if table.row_count == 0:
            return None
        with contextlib.suppress(Exception):
            return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        return None

    def _selected_trial(self) -> Trial | None:
        key = self._selected_key()
        if key is None or not key.startswith("t"):
            return None
        return self._view.trial(int(key[1:]))

    def _selected_job_id(self) -> int | None:
        key = self._selected_key()
        if key is None:
            return None
        if key.startswith("j"):
            return int(key[1:])
        trial = self._selected_trial()
        return trial.job_id if trial else None

    # -- actions ----------------------------------------------------------------------

    @on(Select.Changed, "#tuner-picker")
    def _picked(self, event: Select.Changed) -> None:
        if isinstance(event.value, int):
            self._choose(event.value)

    def _choose(self, value: int) -> None:
        self._selected = value
        self._queue_rows = {}
        self._plot_key = None
        self._poll()

    def action_next_study(self) -> None:
        values = [value for _, value in self._picker_options]
        if not values:
            return
        index = values.index(self._selected) + 1 if self._selected in values else 0
        choice = values[index % len(values)]
        picker = self.query_one("#tuner-picker", Select)
        with picker.prevent(Select.Changed):
            picker.value = choice
        self._choose(choice)

    def action_cycle_view(self) -> None:
        switcher = self.query_one(ContentSwitcher)
        current = (switcher.current or "tuner-queue").removeprefix("tuner-")
        self._show(VIEWS[(VIEWS.index(current) + 1) % len(VIEWS)])

    def _show(self, view: str) -> None:
        switcher = self.query_one(ContentSwitcher)
        switcher.current = f"tuner-{view}"
        self._cluster_wanted = view == "cluster"
        if view == "cluster":
            self._set_status(Text("asking Slurm for your jobs…", style="dim"))
            self._poll()
        else:
            self._render_status(self._view)
        if view == "plots":
            self._plot_key = None
            self.call_after_refresh(self._request_plot)
        elif view == "log" and self._log_job is not None:
            self._read_log(self._log_job)
        self.query_one(f"#tuner-{view}").focus()

    def action_view_log(self) -> None:
        job_id = self._selected_job_id()
        if job_id is None:
            self.notify("select a trial or job first", severity="warning")
            return
        self._log_job = job_id
        self._log_shown = None
        self.query_one("#tuner-log", Log).clear()
        self._show("log")

    def action_next_param(self) -> None:
        self._param_index += 1
        self._plot_key = None
        self._request_plot()

    def action_open_study(self) -> None:
        def opened(answer: str | None) -> None:
            if answer:
                self._open_study(answer, fork=False)

        self.app.push_screen(
            TunerPrompt("Study file (relative to the workspace):", placeholder="study.toml"),
            opened,
        )

    @work(thread=True, exclusive=True, group="tuner-action", exit_on_error=False)
    def _open_study(self, answer: str, fork: bool) -> None:
        from waitwise_tui.core.tuner.service import StudyChanged
        from waitwise_tui.core.tuner.space import StudyFileError

        try:
            study = control.open_study_file(self._tuner, answer, fork=fork)
        except StudyFileError as exc:
            self.post_message(TunerNotice(str(exc), "error"))
            return
        except StudyChanged as exc:
            self.post_message(TunerStudyChanged(answer, str(exc)))
            return
        self.post_message(TunerStudyOpened(study.id, study.name))

    @on(TunerStudyOpened)
    def _study_opened(self, message: TunerStudyOpened) -> None:
        self.notify(f"study {message.name} running", markup=False)
        self._choose(message.study_id)

    @on(TunerStudyChanged)
    def _offer_fork(self, message: TunerStudyChanged) -> None:
        def decided(fork: bool | None) -> None:
            if fork:
                self._open_study(message.answer, fork=True)

        self.app.push_screen(
            ConfirmScreen(Text(f"{display(message.problem)}.\nStart it as a new study?")),
            decided,
        )

    @on(TunerNotice)
    def _noticed(self, message: TunerNotice) -> None:
        self.notify(message.message, severity=message.severity, markup=False)

    def _tell(self, outcome: Outcome | None) -> None:
        """On a worker thread: post a command's outcome and poll to show its effect."""
        if outcome is not None:
            self.post_message(TunerNotice(outcome.message, outcome.severity))
        self._poll()

    def _current_study(self) -> Study | None:
        study = self._view.study
        if study is None or self._selected == JOBS:
            self.notify("no study selected", severity="warning")
            return None
        return study

    def action_launch(self) -> None:
        study = self._current_study()
        if study is None:
            return

        def launch(answer: str | None) -> None:
            if answer is None:
                return
            count = control.parse_count(answer)
            if count is None:
                self.notify(f"not a positive number: {answer}", severity="error", markup=False)
                return
            target = control.launch_target(study, len(self._view.trials), count)
            self._update(study.id, state=ACTIVE, max_trials=target)

        self.app.push_screen(
            TunerPrompt(f"Launch how many more trials of {study.name}?", str(study.spec.parallel)),
            launch,
        )

    def action_toggle_pause(self) -> None:
        study = self._current_study()
        if study is None:
            return
        state = control.toggled_state(study)
        if state is None:
            self.notify("study finished: press n to launch more trials", severity="warning")
            return
        self._update(study.id, state=state)

    def action_parallel(self, delta: int) -> None:
        study = self._current_study()
        if study is not None:
            self._update(study.id, parallel=max(1, study.spec.parallel + delta))

    @work(thread=True, exclusive=False, group="tuner-action", exit_on_error=False)
    def _update(self, study_id: int, **changes: Any) -> None:
        control.change_study(self._tuner, study_id, **changes)
        self._poll()

    def action_cluster(self) -> None:
        self._show("cluster")

    def action_cancel(self) -> None:
        if self.query_one(ContentSwitcher).current == "tuner-cluster":
            self._cancel_cluster_job()
            return
        trial = self._selected_trial()
        job_id = self._selected_job_id()
        if job_id is None:
            self.notify("select a trial or job first", severity="warning")
            return
        self._control("cancel", trial, job_id)

    def action_retry(self) -> None:
        trial = self._selected_trial()
        job_id = self._selected_job_id()
        if job_id is None:
            self.notify("select a trial or job first", severity="warning")
            return
        self._control("retry", trial, job_id)

    def _cancel_cluster_job(self) -> None:
        table = self.query_one("#tuner-cluster", DataTable)
        if table.row_count == 0:
            self.notify("no Slurm job selected", severity="warning")
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        job = self._cluster_jobs.get(str(key))
        if job is None:
            return
        refusal = control.cluster_refusal(job)
        if refusal is not None:
            self.notify(refusal, severity="warning", markup=False)
            return

        def decided(yes: bool | None) -> None:
            if yes:
                self._scancel(job.job_id)

        shown_id = display(job.job_id, limit=40)
        shown_state = display(job.state.lower(), limit=40)
        name = display(job.name, limit=200)
        self.app.push_screen(
            ConfirmScreen(Text(f"Cancel Slurm job {shown_id} ({name}, {shown_state})?")), decided
        )

    @work(thread=True, exclusive=False, group="tuner-action", exit_on_error=False)
    def _scancel(self, slurm_id: str) -> None:
        self._tell(control.cancel_cluster_job(self._tuner, slurm_id))

    @work(thread=True, exclusive=False, group="tuner-action", exit_on_error=False)
    def _control(self, what: str, trial: Trial | None, job_id: int) -> None:
        command = control.cancel if what == "cancel" else control.retry
        self._tell(command(self._tuner, job_id, trial))


class TunerCommands(TabCommands):
    """Command palette entries for the tuner tab (offered when the tab exists)."""

    tab_class = TunerTab
    help_text = "Tuner tab"
    entries = (
        ("Tuner: open study file", "open_study"),
        ("Tuner: launch more trials", "launch"),
        ("Tuner: pause or resume the study", "toggle_pause"),
        ("Tuner: next study", "next_study"),
        ("Tuner: next view (queue, leaderboard, plots, log, cluster)", "cycle_view"),
        ("Tuner: Slurm cluster view (your Slurm jobs)", "cluster"),
    )


def _measure_soon(table: DataTable) -> None:
    """Make ``table`` measure its new or changed cells. DataTable measures column
    widths only when its own message queue runs empty (its Idle), and rows added from
    another widget's handler post it nothing: seen on a loaded machine, a queue kept
    its columns at their labels' widths ("faile", "mode=#") for 45 s. A callback
    message gives it that Idle."""
    table.call_later(lambda: None)


def _cells(*texts: str) -> tuple[Text, ...]:
    """A table row of outside text: shown as it is, never read as markup or control."""
    return tuple(plain(text, limit=_CELL_LIMIT) for text in texts)
