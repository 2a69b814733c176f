"""The cluster view: the GPUs of the user's running Slurm jobs, per job, node and GPU.

A modal opened from the command palette ("Cluster GPUs of my Slurm jobs"). It is a view
of ``ui/live.py``'s Slurm watch: on mount it picks every running job of the user
(``Live.pick_jobs(None)``) and subscribes to ``ClusterUpdated``; on unmount it drops the
pick and leaves, so the jobs' streams stop unless a run is linked to them. It records no
events (the runs panel does).

Node names, GPU names, throttle reasons, users and commands come from the cluster: they
reach the screen through ``ui/plain.py``, never as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from waitwise_tui.core import fmt
from waitwise_tui.ui.messages import ClusterUpdated
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


def render_cluster(snapshot: ClusterSnapshot | None, problem: str | None) -> Text:
    if snapshot is None:
        if problem:
            return plain(problem, "red")
        return Text("asking Slurm for your running jobs…", style="dim")
    text = Text()
    if not snapshot.jobs:
        text.append("No running Slurm job of yours.", style="dim")
    for index, job in enumerate(snapshot.jobs):
        if index:
            text.append("\n\n")
        text.append_text(render_job(job, snapshot.time))
    if problem:
        text.append("\n")
        text.append_text(plain(problem, "red"))
    return text


class ClusterScreen(ModalScreen[None]):
    """The GPUs of every running Slurm job of the user, refreshed with the watch."""

    DEFAULT_CSS = """
    ClusterScreen { align: center middle; }
    ClusterScreen > Vertical {
        width: 95%; height: 90%; border: thick $primary; background: $surface;
        padding: 0 1;
    }
    ClusterScreen #cluster-title { text-style: bold; color: $primary; }
    ClusterScreen VerticalScroll { height: 1fr; }
    """
    BINDINGS = [Binding("escape,q", "close", "Close", id="cluster.close")]

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.snapshot: ClusterSnapshot | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                "Cluster GPUs of my Slurm jobs  (esc closes)", id="cluster-title", markup=False
            )
            with VerticalScroll():
                yield Static(render_cluster(None, None), id="cluster-body")

    def on_mount(self) -> None:
        self.ctx.live.pick_jobs(None)  # every running job of the user
        self.ctx.live.subscribe_cluster(self)

    def on_unmount(self) -> None:
        self.ctx.live.pick_jobs(())
        self.ctx.live.unsubscribe(self)

    @on(ClusterUpdated)
    def _updated(self, message: ClusterUpdated) -> None:
        if message.snapshot is not None:
            self.snapshot = message.snapshot
        self.query_one("#cluster-body", Static).update(
            render_cluster(self.snapshot, message.problem)
        )

    def action_close(self) -> None:
        self.dismiss(None)
