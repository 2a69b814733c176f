"""The training-run panel: run list with health badges, live chart, demo offer.

A view of the live runs readings: ``ui/live.py`` polls the ``RunMonitor`` on its
poller thread and sends each ``RunsSnapshot`` here as ``RunsUpdated``; charts are built
in a thread worker sized to the widget. New alerts go up as ``RecordEvent`` (stored,
notified, journalled by whoever listens). A run's writer process is looked up in the
latest GPU reading to show its GPU use (the GPU panel labels the process from the same
runs readings).

Run names (paths), metric names, alert texts and read errors come from logs the user
does not control: they are shown through ``core.text.display`` in Rich ``Text`` (never
markup, never a raw control), and widths are measured on the escaped text. Metric and
run names reach the chart escaped too (``core.runs.chart``), since its ANSI output is
parsed back with ``Text.from_ansi``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from waitwise_tui.core import fmt
from waitwise_tui.core.runs.alerts import AlertEvents
from waitwise_tui.core.text import display
from waitwise_tui.ui.messages import ClusterUpdated, RecordEvent, RunsUpdated
from waitwise_tui.ui.prompts import TextPrompt

if TYPE_CHECKING:
    from waitwise_tui.core.jobs.watch import ClusterSnapshot
    from waitwise_tui.core.runs.monitor import RunInfo, RunMonitor, RunsSnapshot
    from waitwise_tui.ui.context import AppContext

SMOOTHING_STEPS = (0.0, 0.6, 0.8, 0.9, 0.95, 0.99)
X_AXES = ("step", "relative", "wall")
ZOOMS = (None, 100, 1_000, 10_000, 100_000)
BADGES = {
    "live": ("● live", "success"),
    "idle": ("○ idle", "text-muted"),
    "stalled": ("◐ stalled", "warning"),
    "finished": ("✔ done", "primary"),
    "crashed": ("✖ crashed", "error"),
    "ended": ("■ ended", "text-muted"),
    "gone": ("⌫ gone", "text-muted"),
}


class TotalScreen(TextPrompt):
    """The ``TextPrompt`` for a run's total step count (for progress and ETA): an empty
    line answers "" (clear the total), escape cancels; its cancel key keeps its id."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="runs.total_cancel")]

    def __init__(self, run_name: str) -> None:
        super().__init__(
            Text(f"Total steps for {display(run_name)} (empty clears):"),
            placeholder="e.g. 100000",
            validate=lambda text: None if parse_total(text) else f"not a positive number: {text!r}",
            empty="answer",
        )
        self.run_name = run_name


def parse_total(text: str) -> float | None:
    """A positive step count typed as ``100000``, ``100_000``, ``100,000`` or ``1e5``."""
    try:
        value = float(text.strip().replace("_", "").replace(",", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


class ChartView(Static):
    """The chart's Static; says when its size changes (Resize does not bubble)."""

    class Resized(Message):
        pass

    def on_resize(self) -> None:
        self.post_message(self.Resized())


class RunsPanel(Widget, can_focus=True):
    """Runs found in the workspace (or given on the command line), plotted live."""

    HELP_TITLE = "Training runs (when the run panel has focus)"
    DEFAULT_CSS = """
    RunsPanel { height: auto; padding: 0 1; }
    RunsPanel:focus { background: $boost; }
    RunsPanel #runs-title { color: $primary; text-style: bold; }
    RunsPanel #runs-list { height: auto; }
    RunsPanel #runs-chart { height: 14; }
    RunsPanel #runs-status { color: $text-muted; height: auto; }
    RunsPanel #runs-empty { color: $text; height: auto; }
    RunsPanel.compact #runs-chart { height: 9; }
    """
    BINDINGS = [
        Binding("up,k", "select(-1)", "Prev run", show=False, id="runs.prev"),
        Binding("down,j", "select(1)", "Next run", show=False, id="runs.next"),
        Binding("m", "next_metric", "Metric", id="runs.metric"),
        Binding("a", "toggle_overlay", "All runs", id="runs.overlay"),
        Binding("s", "smoothing(1)", "Smooth", id="runs.smooth_more"),
        Binding("S", "smoothing(-1)", "Less smooth", show=False, id="runs.smooth_less"),
        Binding("l", "toggle_log", "Log y", id="runs.log_y"),
        Binding("x", "next_x_axis", "X axis", id="runs.x_axis"),
        Binding("o", "toggle_robust", "Outliers", show=False, id="runs.robust"),
        Binding("z", "next_zoom", "Zoom", show=False, id="runs.zoom"),
        Binding("t", "set_total", "Total", show=False, id="runs.total"),
    ]

    def __init__(self, ctx: AppContext, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.ctx = ctx
        self.snapshot: RunsSnapshot | None = None
        self.selected = 0
        self.metric: str | None = None
        self.overlay = False
        self.smoothing_index = 0
        self.x_axis_index = 0
        self.zoom_index = 0
        self.log_y = False
        self.robust_y = True
        self._chart_key: tuple | None = None  # the request whose chart is on screen
        self._chart_asked: tuple | None = None  # the request sent to ctx.live last
        self._shown: dict[str, Text] = {}
        self._alert_events = AlertEvents()
        self.cluster: ClusterSnapshot | None = None  # the Slurm jobs the runs run in

    # -- composition and polling ------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("Training runs", id="runs-title", markup=False)
        yield Static("looking for training logs…", id="runs-empty", markup=False)
        yield Static("", id="runs-list")
        yield ChartView("", id="runs-chart")
        yield Static("", id="runs-status")

    def on_mount(self) -> None:
        self._show_lists(False)
        self.ctx.live.subscribe_runs(self)  # starts polling the runs
        self.ctx.live.subscribe_cluster(self)  # their Slurm jobs: time left, GPU alerts

    def on_unmount(self) -> None:
        self.ctx.live.request_chart(None)
        self.ctx.live.unsubscribe(self)

    @property
    def monitor(self) -> RunMonitor:
        """The app's run monitor (owned by ``ctx.live``)."""
        return self.ctx.live.run_monitor

    # -- rendering ----------------------------------------------------------------

    @on(RunsUpdated)
    def _updated(self, message: RunsUpdated) -> None:
        if message.snapshot is None:
            reason = message.problem or "unknown error"
            self._show("#runs-status", Text(f"run scan failed: {display(reason)}", style="red"))
            return
        self._show_snapshot(message.snapshot)
        if message.chart is not None and message.chart[1] == self._chart_asked:
            ansi, key = message.chart
            self._chart_key = key
            self._show("#runs-chart", Text.from_ansi(ansi, no_wrap=True))

    @on(ClusterUpdated)
    def _cluster_updated(self, message: ClusterUpdated) -> None:
        # This panel is the one recorder of the Slurm watch's alerts (stored once).
        for event in message.events:
            self.post_message(RecordEvent(event))
        if message.snapshot is not None:
            self.cluster = message.snapshot
            if self.snapshot is not None:
                self._render_runs()

    def _slurm_job(self, run: RunInfo) -> str:
        """The run's Slurm job and its time left (" · job 1234 1h10m left"), or ""."""
        cluster = self.cluster
        job_id = cluster.links.get(run.name) if cluster is not None else None
        if cluster is None or job_id is None:
            return ""
        job = cluster.job(job_id)
        left = job.left_s(cluster.time) if job is not None else None
        return f" · job {job_id}" + (f" {fmt.duration(left)} left" if left is not None else "")

    def _show_snapshot(self, snapshot: RunsSnapshot) -> None:
        self.snapshot = snapshot
        # Alerts found while reading a run's history (an old NaN, say) are shown as
        # badges, not announced, stored or journalled again at every start.
        for event in self._alert_events.events(snapshot):
            self.post_message(RecordEvent(event))
        self._render_runs()
        self._request_chart()

    def _show(self, widget_id: str, renderable: Text) -> None:
        """Update a part only when its content changed: every update repaints it."""
        if self._shown.get(widget_id) != renderable:
            self._shown[widget_id] = renderable
            self.query_one(widget_id, Static).update(renderable)

    def _show_lists(self, has_runs: bool) -> None:
        self.query_one("#runs-empty").display = not has_runs
        for widget_id in ("#runs-list", "#runs-chart", "#runs-status"):
            self.query_one(widget_id).display = has_runs

    def _render_runs(self) -> None:
        snapshot = self.snapshot
        runs = snapshot.runs if snapshot else ()
        self._show_lists(bool(runs))
        if not runs:
            where = self.ctx.options.get("run_paths") or [str(self.ctx.workspace.root)]
            waiting = snapshot.waiting if snapshot else ()
            if waiting:
                self._show(
                    "#runs-empty",
                    Text(f"waiting for {display(', '.join(waiting))} to appear…"),
                )
                return
            self._show(
                "#runs-empty",
                Text.assemble(
                    f"No training log found in {display(', '.join(map(str, where)))}.\n",
                    ("Press D", "bold reverse"),
                    " to start a demo run (a small CPU training loop), or start with\n",
                    ("waitwise-tui PATH/TO/LOGS", "bold"),
                    " (TensorBoard, CSV, JSONL, HF trainer_state, text logs).",
                ),
            )
            return
        self.selected = max(0, min(self.selected, len(runs) - 1))
        self.ctx.live.watch_run(runs[self.selected].name)  # whose ETA "read now" uses
        if self.size.width:
            self.set_class(self.size.width < 70, "compact")
        text = Text(no_wrap=True, overflow="ellipsis")
        # Before the first layout the width is unknown; on_resize renders again.
        width = self.query_one("#runs-list").size.width
        # Names as shown: a control character takes four cells once escaped.
        names = [display(run.name) for run in runs]
        name_width = max(8, min(28, max(len(name) for name in names)))
        if width:
            # Narrow panes: the name gives way first, down to a readable stub.
            name_width = max(12, min(name_width, width - 34))
        for index, run in enumerate(runs):
            badge, colour = BADGES.get(run.status, (display(run.status), "text"))
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append("▶ " if index == self.selected else "  ", style="bold")
            line.append(
                _fit_tail(names[index], name_width).ljust(name_width),
                style="bold" if index == self.selected else "",
            )
            line.append(f" {badge:<10}", style=self._colour(colour))
            line.append(f" step {fmt.step(run.last_step)}")
            # Optional fields, most useful first; each is kept only if it fits whole.
            extras: list[tuple[str, str]] = []
            if run.loading is not None:
                # A huge log opened at its end: the curve so far is its last part.
                extras.append((f" (loading history {run.loading * 100:.0f} %)", "dim"))
            if run.progress is not None:
                extras.append((f" {run.progress * 100:.0f}%", ""))
            if run.eta_seconds is not None:
                extras.append((f" ETA {fmt.duration(run.eta_seconds)}", "bold"))
                if run.step_rate:
                    extras.append((f" ({fmt.step_rate(run.step_rate)})", "dim"))
            gpu = self._gpu_usage(run)
            if gpu:
                extras.append((f" · {gpu}", self._colour("accent")))
            job = self._slurm_job(run)
            if job:
                extras.append((job, self._colour("accent")))
            if run.age_seconds is not None:
                extras.append((f" · {fmt.duration(run.age_seconds)} ago", "dim"))
            extras.append((f" · {display(run.format)}", "dim"))
            for part, style in extras:
                if not width or line.cell_len + len(part) <= width:
                    line.append(part, style=style)
            if index:
                text.append("\n")
            if width:
                line.truncate(width, overflow="ellipsis")
            text.append_text(line)
        self._show("#runs-list", text)
        self._render_status()

    def _render_status(self) -> None:
        run = self.current_run()
        if run is None:
            return
        status = Text(no_wrap=False)
        names = [m.name for m in run.metrics]
        metric = self._metric_for(run)
        if metric is not None:
            summary = run.metric(metric)
            status.append(display(metric), style="bold")
            if summary is not None:
                status.append(f" last {_fmt_value(summary.last)} min {_fmt_value(summary.min)}")
        hint = f"  [m] {len(names)} metrics" if len(names) > 1 else ""
        # The first line never wraps (at 80x24 the settings wrapped to a stray line): the
        # settings shorten, then the metrics hint goes, then the line is cut.
        width = self.query_one("#runs-status").content_size.width
        long, short = self._settings()
        used = status.cell_len
        if not width or used + len(hint) + len(long) <= width:
            status.append(hint)
            status.append(long, style="dim")
        elif used + len(hint) + len(short) <= width:
            status.append(hint)
            status.append(short, style="dim")
        else:
            status.append(short, style="dim")
            status.truncate(width, overflow="ellipsis")
        if run.tracker_status or run.details:
            # The tracker's own record: status, params, tags, config, summary.
            parts = [f"{run.format} {run.tracker_status}"] if run.tracker_status else []
            parts += [f"{key}={value}" for key, value in run.details]
            status.append(f"\n{display(' · '.join(parts), limit=400)}", style="dim")
        if run.status_reason:
            status.append(f"\n{run.status}: {display(run.status_reason)}", style="dim")
        for alert in run.alerts:
            status.append(f"\n⚠ {display(alert.message)}", style=self._colour("warning"))
        if run.error:
            status.append(f"\n{display(run.error)}", style=self._colour("error"))
        self._show("#runs-status", status)

    def _settings(self) -> tuple[str, str]:
        """The chart's settings in words, and shortened."""
        options = self.chart_options()
        words = [  # (in words, shortened)
            (f"smooth {options.smoothing:.2f}", f"s{options.smoothing:.2f}"),
            (f"x {options.x_axis}", f"x:{options.x_axis}"),
        ]
        if options.log_y:
            words.append(("log", "log"))
        if not options.robust_y:
            words.append(("outliers", "outl"))
        if options.last_n_steps:
            words.append((f"last {options.last_n_steps}", f"z{options.last_n_steps}"))
        if self.overlay:
            words.append(("all runs", "all"))
        return "  " + " · ".join(w for w, _ in words), "  " + " ".join(s for _, s in words)

    def _colour(self, name: str) -> str:
        """A Rich style for a theme colour name (success, warning, ...)."""
        if name in ("text-muted", "text"):
            return "dim" if name == "text-muted" else ""
        value = getattr(self.app.current_theme, name, None)
        return value or ""

    # -- chart ----------------------------------------------------------------------

    def chart_options(self):
        from waitwise_tui.core.runs.chart import ChartOptions

        return ChartOptions(
            smoothing=SMOOTHING_STEPS[self.smoothing_index],
            log_y=self.log_y,
            x_axis=X_AXES[self.x_axis_index],
            robust_y=self.robust_y,
            last_n_steps=ZOOMS[self.zoom_index],
        )

    def current_run(self) -> RunInfo | None:
        if not self.snapshot or not self.snapshot.runs:
            return None
        return self.snapshot.runs[max(0, min(self.selected, len(self.snapshot.runs) - 1))]

    def _metric_for(self, run: RunInfo) -> str | None:
        names = [m.name for m in run.metrics]
        if not names:
            return None
        if self.metric in names:
            return self.metric
        for preferred in ("loss", "train_loss", "train/loss", "val_loss"):
            if preferred in names:
                return preferred
        loss_like = [n for n in names if "loss" in n.lower()]
        return (loss_like or names)[0]

    def _request_chart(self, force: bool = False) -> None:
        run = self.current_run()
        chart = self.query_one("#runs-chart", Static)
        if run is None or self.app.screen is not self.screen:
            # Live draws one chart: while a screen on top (the cluster view) draws its
            # own, this panel does not take the request back; that screen restores it.
            return
        metric = self._metric_for(run)
        if metric is None:
            self._show("#runs-chart", Text("no numeric metrics yet", style="dim"))
            return
        from waitwise_tui.core.runs.chart import paired_metrics

        metrics = paired_metrics(metric, [m.name for m in run.metrics])
        run_names = [r.name for r in self.snapshot.runs] if self.overlay else [run.name]
        width = max(20, chart.size.width or self.size.width - 2)
        height = max(5, chart.size.height or 10)
        options = self.chart_options()
        key = (tuple(run_names), tuple(metrics), width, height, options, self.app.theme)
        if key == self._chart_asked and not force:
            return
        self._chart_asked = key
        from waitwise_tui.ui.live import ChartRequest

        # Drawn on the runs poller's thread, now and whenever these runs get new points;
        # the chart comes back in RunsUpdated.
        self.ctx.live.request_chart(
            ChartRequest(
                tuple(run_names),
                tuple(metrics),
                width,
                height,
                options,
                tuple(self._line_colours()),
                key,
            )
        )

    def _line_colours(self) -> list[tuple[int, int, int]]:
        from textual.color import Color

        colours = []
        for name in ("primary", "accent", "success", "secondary", "warning", "error"):
            value = self.app.theme_variables.get(name)
            if value:
                colour = Color.parse(value)
                colours.append((colour.r, colour.g, colour.b))
        return colours or [(78, 161, 255), (255, 180, 84)]

    @on(ChartView.Resized)
    def _chart_resized(self) -> None:
        # The chart can change size without the panel doing so (the run list above
        # it grew, the panel was mounted before layout): draw it for the new size.
        self.call_after_refresh(self._request_chart)

    def on_resize(self) -> None:
        self.set_class(self.size.width < 70, "compact")
        self.call_after_refresh(self._render_runs)
        self.call_after_refresh(self._request_chart)

    # -- GPU link ---------------------------------------------------------------------

    def _gpu_usage(self, run: RunInfo) -> str:
        snapshot = self.ctx.live.system
        if not run.writer_pid or snapshot is None:
            return ""
        parts = []
        for gpu in snapshot.gpus:
            for proc in getattr(gpu, "processes", ()) or ():
                if proc.pid == run.writer_pid:
                    used = proc.gpu_memory_bytes
                    mem = f"{used / 2**30:.1f}G" if used is not None else "N/A"
                    util = f" {gpu.util_percent:.0f}%" if gpu.util_percent is not None else ""
                    parts.append(f"GPU{gpu.index} {mem}{util}")
        return " ".join(parts)

    # -- actions ------------------------------------------------------------------------

    def action_select(self, delta: int) -> None:
        if self.snapshot and self.snapshot.runs:
            self.selected = (self.selected + delta) % len(self.snapshot.runs)
            self.metric = None
            self._render_runs()
            self._request_chart()

    def action_next_metric(self) -> None:
        run = self.current_run()
        if run is None:
            return
        names = [m.name for m in run.metrics]
        if not names:
            return
        current = self._metric_for(run)
        index = names.index(current) if current in names else -1
        self.metric = names[(index + 1) % len(names)]
        self._refresh_view()

    def action_toggle_overlay(self) -> None:
        self.overlay = not self.overlay
        self._refresh_view()

    def action_smoothing(self, delta: int) -> None:
        self.smoothing_index = max(0, min(len(SMOOTHING_STEPS) - 1, self.smoothing_index + delta))
        self._refresh_view()

    def action_toggle_log(self) -> None:
        self.log_y = not self.log_y
        self._refresh_view()

    def action_next_x_axis(self) -> None:
        self.x_axis_index = (self.x_axis_index + 1) % len(X_AXES)
        self._refresh_view()

    def action_toggle_robust(self) -> None:
        self.robust_y = not self.robust_y
        self._refresh_view()

    def action_next_zoom(self) -> None:
        self.zoom_index = (self.zoom_index + 1) % len(ZOOMS)
        self._refresh_view()

    def _refresh_view(self) -> None:
        self._render_status()
        self._request_chart()

    def action_set_total(self) -> None:
        run = self.current_run()
        if run is None:
            self.notify("no run selected", severity="warning")
            return

        def done(answer: str | None) -> None:
            if answer is None:
                return  # escape: the total stays as it was
            total = parse_total(answer) if answer else None
            self.monitor.set_total(run.name, total)
            self.notify(
                f"{run.name}: total set to {total:,.0f} steps"
                if total
                else f"{run.name}: total cleared",
                markup=False,
            )

        self.app.push_screen(TotalScreen(run.name), done)

    def start_demo(self) -> None:
        self._start_demo()

    @work(thread=True, exclusive=True, group="runs-demo", exit_on_error=False)
    def _start_demo(self) -> None:
        from waitwise_tui.core.runs.demo import start_demo

        try:
            pid, path = start_demo(self.ctx.workspace)
        except OSError as exc:
            # notify posts Textual's Notify message: thread-safe, no call_from_thread.
            self.notify(f"demo run failed to start: {exc}", severity="error", markup=False)
            return
        self.monitor.add_path(path)
        self.notify(f"demo run started (pid {pid}); curves appear in a few seconds", markup=False)


def _fit_tail(text: str, width: int) -> str:
    """Shorten from the left: the end of a run's path is what tells runs apart."""
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def _fmt_value(value: float | None) -> str:
    if value is None:
        return "N/A"
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}"


__all__ = ["RunsPanel"]
