"""The cluster view: the GPUs of the user's running Slurm jobs, per job, node and GPU.

A modal opened from the command palette ("Cluster GPUs of my Slurm jobs"). It is a view
of ``ui/live.py``'s Slurm watch: on mount it watches every running job of the user
(``Live.pick_jobs(None)``) and subscribes to ``ClusterUpdated``. The list on the left
holds those jobs (``ClusterSnapshot.running``, plus the ones linked to a run); space
picks single jobs, and then only they (and the linked ones) are streamed; ``a`` goes
back to all. The highlighted job's linked run has its loss curve below the readings,
drawn by the runs poller like the run panel's (``Live.request_chart``; the panel's own
request is put back on close). ``s`` collects every rank's Python stacks of the
highlighted job with py-spy (``core.jobs.stacks``, on a thread) into a note: the key
that answers "possible collective hang". On unmount it drops the pick and leaves, so
the jobs' streams stop unless a run is linked to them. It records no events (the runs
panel does).

Node names, GPU names, throttle reasons, users and commands come from the cluster: they
reach the screen through ``ui/plain.py``, never as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from waitwise_tui.core import fmt
from waitwise_tui.ui.messages import ClusterUpdated, RunsUpdated
from waitwise_tui.ui.plain import plain

if TYPE_CHECKING:
    from waitwise_tui.core.jobs.watch import ClusterJob, ClusterSnapshot
    from waitwise_tui.ui.context import AppContext


def _num(value: Any, spec: str, suffix: str = "") -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "N/A"
    return f"{value:{spec}}{suffix}"


def render_job(job: ClusterJob, now: float) -> Text:
    """One job: its header, then per node its GPUs and their processes with ranks."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"Slurm job {job.job_id}", style="bold")
    if job.run:
        text.append(" · run ")
        text.append_text(plain(job.run, "bold"))
    text.append(" · ")
    text.append_text(plain(job.state))
    left = job.left_s(now)
    if left is not None:
        text.append(f" · {fmt.duration(left)} left")
    for node in job.nodes or sorted(job.readings):
        text.append("\n  ")
        text.append_text(plain(node, "bold"))
        reading = job.readings.get(node)
        if reading is None:
            text.append("  waiting for the first reading…", style="dim")
            continue
        if reading.error:
            text.append("  ")
            text.append_text(plain(reading.error, "red"))
        if not reading.gpus:
            text.append("  no GPU of this job", style="dim")
        for gpu in reading.gpus:
            text.append(f"\n    gpu{_num(gpu.get('index'), 'd')} ")
            text.append_text(plain(gpu.get("name") or "", "dim"))
            used, total = gpu.get("memory_used_bytes"), gpu.get("memory_total_bytes")
            text.append(
                f" util {_num(gpu.get('util_percent'), '.0f', '%')}"
                f" mem {fmt.size(used if isinstance(used, (int, float)) else None)}"
                f"/{fmt.size(total if isinstance(total, (int, float)) else None)}"
                f" power {_num(gpu.get('power_w'), '.0f')}"
                f"/{_num(gpu.get('power_limit_w'), '.0f', ' W')}"
                f" {_num(gpu.get('temperature_c'), '.0f', '°C')}"
            )
            throttle = gpu.get("throttle_reasons") or []
            if isinstance(throttle, list) and throttle:
                text.append(" throttle ", style="yellow")
                text.append_text(plain(", ".join(map(str, throttle)), "yellow"))
            for proc in gpu.get("processes") or ():
                if isinstance(proc, dict):
                    text.append("\n      ")
                    text.append_text(_process(proc))
    for problem in job.problems:
        text.append("\n  ")
        text.append_text(plain(problem, "red"))
    if "possible_hang" in job.alerts:
        text.append("\n  possible collective hang: ", style="bold red")
        text.append("s collects every rank's Python stacks into a note", style="red")
    return text


def _process(proc: dict[str, Any]) -> Text:
    rank, local = proc.get("rank"), proc.get("local_rank")
    who = f"rank {rank}" if isinstance(rank, int) else "rank ?"
    if isinstance(local, int):
        who += f" (local {local})"
    line = Text(f"pid {_num(proc.get('pid'), 'd')} {who} ")
    line.append_text(plain(proc.get("user") or "N/A", "dim"))
    line.append(" ")
    line.append_text(plain(proc.get("command") or ""))
    return line


def render_cluster(
    snapshot: ClusterSnapshot | None, problem: str | None, shown: frozenset[str] | None = None
) -> Text:
    """Every watched job, or those in ``shown`` (the picked ones)."""
    if snapshot is None:
        if problem:
            return plain(problem, "red")
        return Text("asking Slurm for your running jobs…", style="dim")
    text = Text()
    jobs = [j for j in snapshot.jobs if shown is None or j.job_id in shown]
    if not jobs:
        text.append("No running Slurm job of yours.", style="dim")
    for index, job in enumerate(jobs):
        if index:
            text.append("\n\n")
        text.append_text(render_job(job, snapshot.time))
    if problem:
        text.append("\n")
        text.append_text(plain(problem, "red"))
    return text


def job_ids(snapshot: ClusterSnapshot) -> list[str]:
    """The jobs to pick from: the user's running ones and every watched one."""
    ids = set(snapshot.running) | {job.job_id for job in snapshot.jobs}
    return sorted(ids, key=lambda i: int(i) if i.isdigit() else 0)


def loss_metric(names: list[str]) -> str | None:
    """The metric the job's chart shows: the run's loss, else its first metric."""
    for preferred in ("loss", "train_loss", "train/loss", "val_loss"):
        if preferred in names:
            return preferred
    loss_like = [n for n in names if "loss" in n.lower()]
    return (loss_like or names or [None])[0]


@dataclass
class StacksCollected(Message):
    """``s`` finished: the note written, or why not."""

    job_id: str
    path: str | None
    ranks: int
    failed: int
    problem: str | None = None


class ClusterScreen(ModalScreen[None]):
    """The GPUs of the user's running Slurm jobs (all, or those picked), refreshed with
    the watch, with the highlighted job's loss curve."""

    DEFAULT_CSS = """
    ClusterScreen { align: center middle; }
    ClusterScreen > Vertical {
        width: 95%; height: 90%; border: thick $primary; background: $surface;
        padding: 0 1;
    }
    ClusterScreen #cluster-title { text-style: bold; color: $primary; }
    ClusterScreen #cluster-jobs { width: 22; height: 1fr; }
    ClusterScreen VerticalScroll { height: 1fr; }
    ClusterScreen #cluster-chart { height: 10; }
    """
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="cluster.close"),
        Binding("space", "toggle_pick", "Pick job", id="cluster.pick"),
        Binding("a", "pick_all", "All jobs", id="cluster.all"),
        Binding("s", "stacks", "Stacks to note", id="cluster.stacks"),
    ]

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.snapshot: ClusterSnapshot | None = None
        self.problem: str | None = None
        self.picked: set[str] = set()
        self._ids: list[str] = []
        self._listed: tuple = ()
        self._chart_asked: tuple | None = None
        self._saved_request: Any = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                "Cluster GPUs of my Slurm jobs  (space picks · a all · s stacks · esc)",
                id="cluster-title",
                markup=False,
            )
            with Horizontal():
                yield OptionList(id="cluster-jobs")
                with Vertical():
                    with VerticalScroll():
                        yield Static(render_cluster(None, None), id="cluster-body")
                    yield Static("", id="cluster-chart")

    def on_mount(self) -> None:
        self._saved_request = self.ctx.live.chart_request
        self.ctx.live.pick_jobs(None, listing=True)  # every running job of the user
        self.ctx.live.subscribe_cluster(self)
        self.ctx.live.subscribe_runs(self, start=False)

    def on_unmount(self) -> None:
        self.ctx.live.pick_jobs(())
        self.ctx.live.unsubscribe(self)
        self.ctx.live.request_chart(self._saved_request)

    # -- readings ---------------------------------------------------------------------

    @on(ClusterUpdated)
    def _updated(self, message: ClusterUpdated) -> None:
        if message.snapshot is not None:
            self.snapshot = message.snapshot
        self.problem = message.problem
        self._refresh_view()

    @on(RunsUpdated)
    def _runs_updated(self, message: RunsUpdated) -> None:
        if message.chart is not None and message.chart[1] == self._chart_asked:
            self.query_one("#cluster-chart", Static).update(
                Text.from_ansi(message.chart[0], no_wrap=True)
            )
        elif self._chart_asked is None:
            self._request_chart()

    def _shown(self) -> frozenset[str] | None:
        return frozenset(self.picked) if self.picked else None

    def _refresh_view(self) -> None:
        self.query_one("#cluster-body", Static).update(
            render_cluster(self.snapshot, self.problem, self._shown())
        )
        self._refresh_list()
        self._request_chart()

    def _refresh_list(self) -> None:
        if self.snapshot is None:
            return
        ids = job_ids(self.snapshot)
        jobs = self.snapshot
        options = self.query_one("#cluster-jobs", OptionList)
        highlighted = self.highlighted_job()
        labels = []
        for job_id in ids:
            job = jobs.job(job_id)
            mark = "●" if job_id in self.picked else " "
            label = Text(f"{mark} {job_id}")
            if job is not None and job.run:
                label.append(" ")
                label.append_text(plain(job.run, "dim"))
            labels.append(label)
        shown = (ids, tuple(self.picked), tuple(label.plain for label in labels))
        if shown != self._listed:
            self._listed = shown
            options.clear_options()
            options.add_options(
                [Option(label, id=job_id) for label, job_id in zip(labels, ids, strict=True)]
            )
            if ids:
                index = ids.index(highlighted) if highlighted in ids else 0
                options.highlighted = index
        self._ids = ids

    def highlighted_job(self) -> str | None:
        options = self.query_one("#cluster-jobs", OptionList)
        index = options.highlighted
        if index is None or not self._ids or index >= len(self._ids):
            return None
        return self._ids[index]

    @on(OptionList.OptionHighlighted, "#cluster-jobs")
    def _highlighted(self) -> None:
        self._request_chart()

    # -- the chart of the highlighted job's run ---------------------------------------

    def _request_chart(self) -> None:
        from waitwise_tui.core.runs.chart import ChartOptions, paired_metrics
        from waitwise_tui.ui.live import ChartRequest

        chart = self.query_one("#cluster-chart", Static)
        job = self.snapshot.job(self.highlighted_job() or "") if self.snapshot else None
        runs = self.ctx.live.runs
        run = runs.run(job.run) if job is not None and job.run and runs is not None else None
        metric = loss_metric([m.name for m in run.metrics]) if run is not None else None
        if run is None or metric is None:
            if self._chart_asked is not None:
                self._chart_asked = None
                self.ctx.live.request_chart(self._saved_request)
            chart.update(Text("no run linked to this job" if job else "", style="dim"))
            return
        metrics = paired_metrics(metric, [m.name for m in run.metrics])
        width, height = max(20, chart.size.width), max(5, chart.size.height)
        options = ChartOptions()
        key = ("cluster", run.name, tuple(metrics), width, height, self.app.theme)
        if key == self._chart_asked:
            return
        self._chart_asked = key
        self.ctx.live.request_chart(
            ChartRequest((run.name,), tuple(metrics), width, height, options, COLOURS, key)
        )

    # -- keys -------------------------------------------------------------------------

    def _pick(self) -> None:
        ids = tuple(sorted(self.picked)) if self.picked else None
        self.ctx.live.pick_jobs(ids, listing=True)
        self._refresh_view()

    def action_toggle_pick(self) -> None:
        job_id = self.highlighted_job()
        if job_id is None:
            return
        self.picked ^= {job_id}
        self._pick()

    def action_pick_all(self) -> None:
        self.picked.clear()
        self._pick()

    def action_stacks(self) -> None:
        job_id = self.highlighted_job()
        job = self.snapshot.job(job_id) if self.snapshot and job_id else None
        if job is None:
            self.notify("no watched job highlighted", severity="warning")
            return
        why = "possible collective hang" if "possible_hang" in job.alerts else ""
        self.notify(f"collecting Python stacks of job {job.job_id}…")
        self._collect_stacks(job, why)

    @work(thread=True, exit_on_error=False, group="stacks")
    def _collect_stacks(self, job: ClusterJob, why: str) -> None:
        import shutil

        from waitwise_tui.core.jobs import stacks
        from waitwise_tui.core.jobs.slurm import SlurmConfig

        config, _problems = SlurmConfig.from_table(self.ctx.settings.slurm)
        try:
            path, dumps = stacks.collect_into_note(
                self.ctx.workspace.notes_dir,
                job.job_id,
                job.readings,
                why=why,
                transport=config.gpu_transport,
                pyspy=[shutil.which("py-spy") or "py-spy"],
                timeout=config.command_timeout,
            )
        except (OSError, ValueError) as exc:
            self.post_message(StacksCollected(job.job_id, None, 0, 0, str(exc)))
            return
        failed = sum(not d.ok for d in dumps)
        self.post_message(StacksCollected(job.job_id, str(path), len(dumps), failed))

    @on(StacksCollected)
    def _stacks_collected(self, message: StacksCollected) -> None:
        if message.path is None:
            self.notify(f"stacks not saved: {message.problem}", severity="error")
            return
        from pathlib import Path

        name = Path(message.path).stem
        if message.ranks == 0:
            self.notify(
                f"no rank of job {message.job_id} seen yet: note {name}", severity="warning"
            )
        elif message.failed:
            self.notify(
                f"stacks of {message.ranks - message.failed}/{message.ranks} ranks of job"
                f" {message.job_id} in note {name} (py-spy failed on {message.failed})",
                severity="warning",
            )
        else:
            self.notify(f"stacks of {message.ranks} ranks of job {message.job_id} in note {name}")

    def action_close(self) -> None:
        self.dismiss(None)


COLOURS = ((78, 161, 255), (255, 180, 84))
