"""The Tuner tab: studies, their trial queue, leaderboard, plots, job logs and the
Slurm cluster view (the user's own Slurm jobs, waitwise's or not).

A thread worker drives the runner (``TunerService.tick``: poll jobs, collect results,
ask for new trials) and reads a ``TunerView`` snapshot from the workspace database;
the widget only renders snapshots. Everything shown comes from the database, so it
survives a restart. Finished trials and jobs go up as ``RecordEvent``.

Nearly everything shown is outside text: study names, trial parameters, job commands
and output, Slurm's job names, states, reasons and node lists, error messages. Table
cells and labels get it as ``plain`` (a Rich ``Text`` of ``core.text.display``), never
a ``str`` (DataTable, Static and Select read a ``str`` as markup) and never with a raw
control character; job output lines are escaped before the ``Log`` sees them.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
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

from waitwise_tui.core import fmt
from waitwise_tui.core.jobs.model import Job
from waitwise_tui.core.jobs.slurm import SlurmConfig, SlurmQueue
from waitwise_tui.core.jobs.slurm_cli import SlurmError, SlurmJob
from waitwise_tui.core.text import display
from waitwise_tui.core.tuner.service import (
    ACTIVE,
    FINISHED,
    PAUSED,
    Study,
    Trial,
    TunerService,
    best_trial,
    list_studies,
    list_trials,
    open_service,
    update_study,
)
from waitwise_tui.ui.messages import RecordEvent
from waitwise_tui.ui.plain import plain
from waitwise_tui.ui.poller import Poller
from waitwise_tui.ui.screens import ConfirmScreen
from waitwise_tui.ui.tabs import TabCommands, TabWidget
from waitwise_tui.ui.tabs.tuner.modals import TunerPrompt

if TYPE_CHECKING:
    from waitwise_tui.ui.context import AppContext

JOBS = -1  # picker value of the plain-jobs list
VIEWS = ("queue", "board", "plots", "log", "cluster")
_LOG_TAIL_BYTES = 64 * 1024
_LOG_LINES = 500
_CELL_LIMIT = 120  # characters of outside text in one table cell (a 1 MB parameter...)


@dataclass(frozen=True)
class TunerView:
    """What the tab shows, read in one go off the event loop."""

    studies: list[Study] = field(default_factory=list)
    study: Study | None = None
    trials: list[Trial] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    now: float = 0.0
    problems: list[str] = field(default_factory=list)  # backends that failed to answer
    cluster: list[SlurmJob] | None = None  # squeue --me, read while the view shows
    cluster_error: str = ""
    ours: dict[str, int] = field(default_factory=dict)  # Slurm id -> waitwise job id


class TunerPolled(Message):
    def __init__(self, view: TunerView | None, events: list[Any], error: str | None) -> None:
        super().__init__()
        self.view = view
        self.events = events
        self.error = error


class TunerLogRead(Message):
    def __init__(self, job_id: int, lines: list[str]) -> None:
        super().__init__()
        self.job_id = job_id
        self.lines = lines


class TunerPlotted(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


def format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)


def format_params(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={format_value(v)}" for k, v in params.items())


def where_cell(backend: str, backend_id: str | None) -> str:
    """``local``, ``slurm`` (not submitted yet) or ``slurm 1234``."""
    return f"{backend} {backend_id}" if backend_id else backend


def state_cell(state: str, backend_state: str) -> str:
    """Our state, or Slurm's own word while Slurm has the job (pending, completing)."""
    if backend_state and state in ("queued", "running"):
        return backend_state.lower()
    return state


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
        backends = ctx.backends
        self._clock: Callable[[], float] = backends.get("tuner_clock", time.time)
        self._gpu_probe = backends.get("gpu_probe")
        self._service: TunerService | None = None
        # The database connection is shared by the worker threads; one at a time.
        self._lock = threading.Lock()
        self._selected: int | None = None
        self._view = TunerView()
        self._queue_rows: dict[str, tuple[Text, ...]] = {}
        self._board_rows: list[tuple[Text, ...]] = []
        self._log_job: int | None = None
        self._log_shown: tuple[int, list[str]] | None = None  # what the Log holds
        self._status_shown: tuple[Any, ...] | None = None
        self._param_index = 0
        self._plot_key: tuple[Any, ...] | None = None
        self._picker_options: list[tuple[Text, int]] = []
        self._poller: Poller | None = None
        # Set on the event loop, read by the poll worker: squeue only while it shows.
        self._cluster_wanted = False
        self._cluster_rows: list[tuple[str, tuple[Text, ...]]] = []
        self._cluster_jobs: dict[str, SlurmJob] = {}  # shown rows' jobs, by Slurm id
        self._own_queue: SlurmQueue | None = None

    # -- layout ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="tuner-top"):
            yield Select[int]([], prompt="no study", compact=True, id="tuner-picker")
            yield Static(id="tuner-status")
        with ContentSwitcher(initial="tuner-queue"):
            yield DataTable(id="tuner-queue", cursor_type="row", zebra_stripes=True)
            yield DataTable(id="tuner-board", cursor_type="row")
            yield PlotView(id="tuner-plots")
            yield Log(id="tuner-log", max_lines=_LOG_LINES * 4)
            yield DataTable(id="tuner-cluster", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        queue = self.query_one("#tuner-queue", DataTable)
        for label, key in (
            ("#", "n"),
            ("state", "state"),
            ("params", "params"),
            ("where", "where"),
            ("gpu", "gpu"),
            ("time", "time"),
            ("value", "value"),
        ):
            queue.add_column(label, key=key)
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
        with self._lock:
            if self._service is not None:
                self._service.conn.close()
                self._service = None

    # -- polling ----------------------------------------------------------------------

    def _open(self, create: bool) -> TunerService | None:
        if self._service is None:
            if not create and not self.ctx.workspace.db_path.exists():
                return None
            self._service = open_service(
                self.ctx.workspace,
                self.ctx.settings.runner_options(),
                gpu_probe=self._gpu_probe,
                clock=self._clock,
            )
        return self._service

    def _poll(self) -> None:
        """Poll now rather than at the end of the current interval."""
        if self._poller is not None:
            self._poller.poke()

    def _poll_once(self) -> None:
        """One runner round and database read, on the poller's thread."""
        view: TunerView | None = None
        events: list[Any] = []
        error: str | None = None
        try:
            with self._lock:
                service = self._open(create=False)
                if service is not None:
                    events = service.tick()
                    view = self._read_view(service)
                elif self._cluster_wanted:
                    view = self._cluster_only_view()
        except Exception as exc:  # the tab keeps going; the problem is shown once
            error = f"tuner: {exc}"
        if view is None and not events and error is None and self._poller is not None:
            self._poller.handled()  # no workspace database yet: nothing to show
            return
        self.post_message(TunerPolled(view, events, error))

    def _read_view(self, service: TunerService) -> TunerView:
        studies = list_studies(service.conn)
        chosen = self._selected
        if chosen is None and studies:
            chosen = studies[-1].id
        study = next((s for s in studies if s.id == chosen), None)
        trials = list_trials(service.conn, study.id) if study else []
        jobs: list[Job] = []
        if chosen == JOBS:
            in_trials = {t.job_id for s in studies for t in list_trials(service.conn, s.id)}
            jobs = [j for j in service.backend.store.list() if j.id not in in_trials]
        cluster: list[SlurmJob] | None = None
        cluster_error = ""
        ours: dict[str, int] = {}
        if self._cluster_wanted:
            cluster, cluster_error = self._read_cluster(service.backend.backend("slurm").queue)
            ours = {j.backend_id: j.id for j in service.backend.store.list() if j.backend_id}
        return TunerView(
            studies,
            study,
            trials,
            jobs,
            self._clock(),
            problems=service.backend.problems(),
            cluster=cluster,
            cluster_error=cluster_error,
            ours=ours,
        )

    def _read_cluster(self, queue: SlurmQueue) -> tuple[list[SlurmJob] | None, str]:
        try:
            return queue.recent(), ""
        except SlurmError as exc:
            return None, str(exc)

    def _cluster_only_view(self) -> TunerView:
        """No workspace database yet: the cluster view still shows the user's jobs."""
        if self._own_queue is None:
            config, _problems = SlurmConfig.from_table(self.ctx.settings.slurm)
            self._own_queue = SlurmQueue(config)
        cluster, error = self._read_cluster(self._own_queue)
        return TunerView(now=self._clock(), cluster=cluster, cluster_error=error)

    @on(TunerPolled)
    def _polled(self, message: TunerPolled) -> None:
        try:
            for event in message.events:
                self.post_message(RecordEvent(event))
            if message.error:
                self._set_status(plain(message.error, "red"))
            if message.view is not None:
                self._render_view(message.view)
        finally:  # the next poll waits for this; never leave it waiting
            if self._poller is not None:
                self._poller.handled()

    # -- rendering --------------------------------------------------------------------

    def _render_view(self, view: TunerView) -> None:
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

    def _render_picker(self, view: TunerView) -> None:
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

    def _render_status(self, view: TunerView) -> None:
        if self.query_one(ContentSwitcher).current == "tuner-cluster":
            if view.cluster_error:
                self._set_status(plain(f"Slurm: {view.cluster_error}", "red"))
            elif view.cluster is not None:
                pending = sum(1 for j in view.cluster if j.state == "PENDING")
                running = sum(1 for j in view.cluster if j.state == "RUNNING")
                self._set_status(
                    Text(f"your Slurm jobs: {running} running · {pending} pending · c cancels")
                )
            return
        if view.problems:
            self._set_status(plain(" · ".join(view.problems), "yellow"))
            return
        if self._selected == JOBS:
            active = sum(1 for j in view.jobs if j.active)
            self._set_status(Text(f"plain jobs: {len(view.jobs)} ({active} active)"))
            return
        study = view.study
        if study is None:
            return
        spec = study.spec
        ended = sum(1 for t in view.trials if t.state not in ("queued", "running"))
        running = sum(1 for t in view.trials if t.state == "running")
        best = best_trial(study, view.trials)
        text = Text()
        style = {ACTIVE: "green", PAUSED: "yellow", FINISHED: "dim"}.get(study.state, "")
        text.append(study.state, style=style)
        text.append(f" {ended}/{spec.max_trials} · {running} running · par {spec.parallel}")
        if best is not None:
            text.append(" · best ")
            text.append(format_value(best.value), style="bold")
            text.append(f" #{best.number}")
        self._set_status(text)

    def _queue_cells(self, view: TunerView) -> dict[str, tuple[Text, ...]]:
        rows: dict[str, tuple[Text, ...]] = {}
        if self._selected == JOBS:
            for job in view.jobs:
                end = job.finished if job.finished is not None else view.now
                elapsed = end - job.started if job.started else None
                reason = f" ({job.reason})" if job.reason else ""
                rows[f"j{job.id}"] = _cells(
                    str(job.id),
                    state_cell(job.state, job.backend_state),
                    (job.name or " ".join(job.argv)) + reason,
                    where_cell(job.backend, job.backend_id),
                    job.gpus or "-",
                    fmt.duration(elapsed, missing=""),
                    "" if job.exit_code is None else f"exit {job.exit_code}",
                )
            return rows
        for trial in view.trials:
            end = trial.finished if trial.finished is not None else view.now
            elapsed = end - trial.started if trial.started else None
            if trial.value is not None:
                value = format_value(trial.value)
            elif trial.state in ("queued", "running") and trial.backend == "slurm":
                value = trial.job_reason  # Slurm's pending reason, a failed submission
            else:
                value = trial.reason
            rows[f"t{trial.id}"] = _cells(
                str(trial.number),
                state_cell(trial.state, trial.backend_state),
                format_params(trial.params),
                where_cell(trial.backend, trial.backend_id),
                trial.gpus or "-",
                fmt.duration(elapsed, missing=""),
                value,
            )
        return rows

    def _render_queue(self, view: TunerView) -> None:
        table = self.query_one("#tuner-queue", DataTable)
        rows = self._queue_cells(view)
        old = self._queue_rows
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
                        table.update_cell(key, column, new)
        self._queue_rows = rows

    def _render_board(self, view: TunerView) -> None:
        study = view.study
        done = [t for t in view.trials if t.state == "done" and t.value is not None]
        if study is not None and self._selected != JOBS:
            sign = 1.0 if study.spec.direction == "minimize" else -1.0
            done.sort(key=lambda t: (sign * (t.value or 0.0), t.number))
        else:
            done = []
        rows = [
            _cells(str(rank), str(t.number), format_value(t.value), format_params(t.params))
            for rank, t in enumerate(done, start=1)
        ]
        if rows == self._board_rows:
            return
        self._board_rows = rows
        table = self.query_one("#tuner-board", DataTable)
        table.clear()
        for row in rows:
            table.add_row(*row)

    def _render_cluster(self, view: TunerView) -> None:
        if view.cluster is None:
            return
        jobs = sorted(view.cluster, key=_cluster_order)
        # squeue's fields are outside text too (the job name is anyone's choice); the
        # row key keeps the raw id for scancel.
        rows = [
            (
                j.job_id,
                _cells(
                    j.job_id,
                    j.state.lower(),
                    j.reason if j.state == "PENDING" else "",
                    j.elapsed,
                    j.nodes,
                    str(j.gpus or ""),
                    j.name,
                    str(view.ours.get(j.job_id, "")),
                ),
            )
            for j in jobs
        ]
        if rows == self._cluster_rows:
            return
        self._cluster_rows = rows
        self._cluster_jobs = {j.job_id: j for j in jobs}
        table = self.query_one("#tuner-cluster", DataTable)
        cursor = table.cursor_row
        table.clear()
        for key, cells in rows:
            if key not in table.rows:  # squeue listed an id twice: show it once
                table.add_row(*cells, key=key)
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1), animate=False)

    # -- plots and logs (thread workers) ---------------------------------------------

    def _request_plot(self) -> None:
        view = self._view
        study = view.study
        plots = self.query_one("#tuner-plots", Static)
        if study is None or self._selected == JOBS:
            plots.update(Text("no study selected", style="dim"))
            return
        done = [(t.number, t.params, t.value) for t in view.trials if t.value is not None]
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
        path = self.ctx.workspace.jobs_dir / str(job_id) / "stdout.log"
        try:
            with open(path, "rb") as handle:
                handle.seek(0, 2)
                size = handle.tell()
                handle.seek(max(0, size - _LOG_TAIL_BYTES))
                data = handle.read()
        except OSError:
            data = b""
        lines = data.decode("utf-8", errors="replace").splitlines()[-_LOG_LINES:]
        self.post_message(TunerLogRead(job_id, lines))

    @on(TunerLogRead)
    def _log_read(self, message: TunerLogRead) -> None:
        log = self.query_one("#tuner-log", Log)
        if message.job_id != self._log_job:
            return
        if (message.job_id, message.lines) == self._log_shown:
            return  # read again at each poll: rewrite (and repaint) only what changed
        self._log_shown = (message.job_id, message.lines)
        log.clear()
        log.write_line(f"--- job {message.job_id} (.waitwise/jobs/{message.job_id}/stdout.log)")
        # The job's output: the Log widget blanks only some C0 controls and keeps ESC.
        log.write_lines(
            [display(line, multiline=True) for line in message.lines] or ["(no output yet)"]
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
        return next((t for t in self._view.trials if t.id == int(key[1:])), None)

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
        from waitwise_tui.core.tuner.service import StudyChanged, open_study
        from waitwise_tui.core.tuner.space import StudyFileError, load_study_file

        path = Path(answer).expanduser()
        if not path.is_absolute():
            path = self.ctx.workspace.root / path
        try:
            spec = load_study_file(path)
            with self._lock:
                service = self._open(create=True)
                assert service is not None
                study = open_study(service.conn, spec, answer, fork=fork)
        except StudyFileError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            return
        except StudyChanged as exc:
            self.app.call_from_thread(self._offer_fork, answer, str(exc))
            return
        self.app.call_from_thread(self.notify, f"study {study.name} running", markup=False)
        self.app.call_from_thread(self._choose, study.id)

    def _offer_fork(self, answer: str, problem: str) -> None:
        def decided(fork: bool | None) -> None:
            if fork:
                self._open_study(answer, fork=True)

        self.app.push_screen(
            ConfirmScreen(Text(f"{display(problem)}.\nStart it as a new study?")), decided
        )

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
            try:
                count = int(answer)
            except ValueError:
                count = 0
            if count < 1:
                self.notify(f"not a positive number: {answer}", severity="error", markup=False)
                return
            # A finished study's budget is used up: extend from what it has.
            target = max(study.spec.max_trials, len(self._view.trials)) + count
            self._update(study.id, state=ACTIVE, max_trials=target)

        self.app.push_screen(
            TunerPrompt(f"Launch how many more trials of {study.name}?", str(study.spec.parallel)),
            launch,
        )

    def action_toggle_pause(self) -> None:
        study = self._current_study()
        if study is None:
            return
        if study.state == ACTIVE:
            self._update(study.id, state=PAUSED)
        elif study.state == PAUSED:
            self._update(study.id, state=ACTIVE)
        else:
            self.notify("study finished: press n to launch more trials", severity="warning")

    def action_parallel(self, delta: int) -> None:
        study = self._current_study()
        if study is not None:
            self._update(study.id, parallel=max(1, study.spec.parallel + delta))

    @work(thread=True, exclusive=False, group="tuner-action", exit_on_error=False)
    def _update(self, study_id: int, **changes: Any) -> None:
        with self._lock:
            if self._service is not None:
                update_study(self._service.conn, study_id, **changes)
        self.app.call_from_thread(self._poll)

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
        slurm_id, state = job.job_id, job.state.lower()
        shown_id, shown_state = display(slurm_id, limit=40), display(state, limit=40)
        if state not in ("pending", "running", "suspended", "requeued", "configuring"):
            self.notify(
                f"Slurm job {shown_id} already ended ({shown_state})",
                severity="warning",
                markup=False,
            )
            return

        def decided(yes: bool | None) -> None:
            if yes:
                self._scancel(slurm_id)

        name = display(job.name, limit=200)
        self.app.push_screen(
            ConfirmScreen(Text(f"Cancel Slurm job {shown_id} ({name}, {shown_state})?")), decided
        )

    @work(thread=True, exclusive=False, group="tuner-action", exit_on_error=False)
    def _scancel(self, slurm_id: str) -> None:
        from waitwise_tui.core.jobs.slurm import cancel_slurm_job

        try:
            with self._lock:
                service = self._service
                ours = None
                if service is not None:
                    ours = next(
                        (j for j in service.backend.store.list() if j.backend_id == slurm_id),
                        None,
                    )
                if service is not None and ours is not None and ours.active:
                    service.backend.cancel(ours.id, "cancelled")
                else:
                    cancel_slurm_job(slurm_id)
        except SlurmError as exc:
            self.app.call_from_thread(
                self.notify, f"not cancelled: {exc}", severity="error", markup=False
            )
            return
        self.app.call_from_thread(
            self.notify, f"Slurm job {display(slurm_id, limit=40)} cancelled", markup=False
        )
        self.app.call_from_thread(self._poll)

    @work(thread=True, exclusive=False, group="tuner-action", exit_on_error=False)
    def _control(self, what: str, trial: Trial | None, job_id: int) -> None:
        with self._lock:
            service = self._service
            if service is None:
                return
            if what == "cancel":
                try:
                    ok = service.backend.cancel(job_id, "cancelled")
                except SlurmError as exc:
                    self.app.call_from_thread(
                        self.notify, f"not cancelled: {exc}", severity="error", markup=False
                    )
                    return
            elif trial is not None:
                ok = service.retry_trial(trial)
            else:
                ok = service.backend.retry(job_id)
        label = f"trial {trial.number}" if trial else f"job {job_id}"
        if ok:
            self.app.call_from_thread(self.notify, f"{what}: {label}")
        else:
            self.app.call_from_thread(
                self.notify, f"cannot {what} {label} in its current state", severity="warning"
            )
        self.app.call_from_thread(self._poll)


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


def _cells(*texts: str) -> tuple[Text, ...]:
    """A table row of outside text: shown as it is, never read as markup or control."""
    return tuple(plain(text, limit=_CELL_LIMIT) for text in texts)


def _cluster_order(job: SlurmJob) -> tuple[int, int]:
    """Running, then pending, then ended jobs; newest first within each."""
    rank = {"RUNNING": 0, "PENDING": 1}.get(job.state, 2)
    return rank, -int(job.job_id) if job.job_id.isdigit() else 0
