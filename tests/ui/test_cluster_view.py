"""The Slurm watch in the app: a run linked to a job shows the job and its time left,
the watch's alerts are stored as events and toasted, and the cluster view (palette
command) shows per job, node and GPU the readings and ranks, through plain text.
The cluster side is a fake collector; everything else is the real app."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from fakes import make_app, make_context, write_demo_log
from waits import palette_finds, wait_for

from waitwise_tui.core.jobs.gpus import JobAllocation, NodeReading
from waitwise_tui.core.jobs.watch import SlurmWatch
from waitwise_tui.ui.context import Fakes

GPU = {
    "index": 0,
    "name": "[bold]H100",
    "util_percent": 97,
    "memory_used_bytes": 2 * 1024**3,
    "memory_total_bytes": 80 * 1024**3,
    "power_w": 310.0,
    "power_limit_w": 700.0,
    "temperature_c": 61,
    "throttle_reasons": ["sw_power_cap"],
    "processes": [
        {"pid": 321, "rank": 1, "local_rank": 1, "user": "me", "command": "python \x1b[2Jtrain.py"}
    ],
}


@dataclass
class FakeCollector:
    allocation: JobAllocation
    stopped: bool = False
    ended: bool = False
    errors: list = field(default_factory=list)

    def start(self):
        return self

    def stop(self) -> None:
        self.stopped = True

    def readings(self):
        return {node: NodeReading(node, 0.0, (GPU,)) for node in self.allocation.nodes}

    def series(self):
        return {}


class LinkedWatch(SlurmWatch):
    """Every run's writer is pid 1, in job 77 (a frozen monitor finds no writer)."""

    def poll(self, runs):
        return super().poll([replace(run, writer_pid=1, eta_seconds=99_999.0) for run in runs])


def context(tmp_path: Path):
    import time

    log = write_demo_log(tmp_path / "runs" / "mlp" / "metrics.jsonl")
    ctx = make_context(tmp_path, run_paths=[str(log)])
    made: list[FakeCollector] = []

    def collector(alloc):
        made.append(FakeCollector(alloc))
        return made[-1]

    now = time.time()
    watch = LinkedWatch(
        make_collector=collector,
        read_allocation=lambda job_id: JobAllocation(
            job_id, "RUNNING", ("[red]n1",), {}, now, now + 3600 * 2 + 600, 3 * 3600.0
        ),
        job_of_pid={1: "77"}.get,
        list_running=lambda: ["77", "88"],
    )
    ctx.fakes = Fakes(**{**ctx.fakes.__dict__, "slurm_watch": watch})
    ctx.settings.slurm = {"gpu_watch_seconds": 0.1}
    return ctx, made


async def test_a_linked_run_shows_its_job_and_its_time_limit_alert_is_stored(
    tmp_path: Path,
) -> None:
    ctx, _made = context(tmp_path)
    app = make_app(ctx, tabs=())
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(
            pilot,
            lambda: any("job 77 2h" in str(w.render()) for w in app.query("#runs-list")),
            "the job on the run's line",
        )

        def stored() -> list:
            if not ctx.workspace.db_path.exists():
                return []
            with sqlite3.connect(ctx.workspace.db_path) as conn:
                try:
                    return conn.execute(
                        "SELECT message FROM events WHERE source = 'slurm'"
                    ).fetchall()
                except sqlite3.OperationalError:  # created, its tables not yet
                    return []

        rows = await wait_for(pilot, stored, "the time-limit event in the database")
        assert len(rows) == 1 and "Slurm job 77 will hit the time limit" in rows[0][0]
        assert any("time limit" in n.message for n in app._notifications)


@pytest.mark.slow
async def test_the_cluster_view_shows_every_job_node_gpu_and_rank_as_plain_text(
    tmp_path: Path,
) -> None:
    ctx, made = context(tmp_path)
    app = make_app(ctx, tabs=())
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"Cluster GPUs")
        await palette_finds(pilot, "Cluster GPUs of my Slurm jobs")
        await pilot.press("enter")

        def body() -> str:
            from waitwise_tui.ui.monitor.cluster import ClusterScreen

            if not isinstance(app.screen, ClusterScreen):
                return ""
            return str(app.screen.query_one("#cluster-body").render())

        text = await wait_for(pilot, lambda: "Slurm job 88" in body() and body(), "both jobs")
        assert "Slurm job 77 · run " in text  # linked to the run
        assert "[red]n1" in text and "[bold]H100" in text  # names as they are
        assert "util 97%" in text and "power 310/700 W" in text and "sw_power_cap" in text
        assert "rank 1 (local 1)" in text and "\\x1b[2J" in text and "\x1b" not in text
        picked = next(c for c in made if c.allocation.job_id == "88")
        await pilot.press("escape")
        # Closed: the job only the view picked is no longer streamed; the linked one is.
        await wait_for(pilot, lambda: picked.stopped, "the picked job's stream to stop")
        linked = [c for c in made if c.allocation.job_id == "77"]
        assert linked and not linked[-1].stopped


@pytest.mark.slow
async def test_the_cluster_view_picks_single_jobs_charts_the_linked_run_and_saves_stacks(
    tmp_path: Path,
) -> None:
    ctx, _made = context(tmp_path)
    app = make_app(ctx, tabs=())
    async with app.run_test(size=(120, 40)) as pilot:
        from waitwise_tui.ui.monitor.cluster import ClusterScreen

        app.push_screen(ClusterScreen(ctx))
        screen = await wait_for(
            pilot, lambda: isinstance(app.screen, ClusterScreen) and app.screen, "the view"
        )

        def body() -> str:
            return "".join(str(w.render()) for w in screen.query("#cluster-body"))

        await wait_for(pilot, lambda: "Slurm job 88" in body(), "both jobs")
        assert screen._ids == ["77", "88"]
        # Job 77 is highlighted: its linked run's loss curve is drawn below.
        await wait_for(
            pilot,
            lambda: "loss" in str(screen.query_one("#cluster-chart").render()),
            "the linked run's chart",
        )
        # Pick job 88 alone: only it is shown; 77 stays streamed (linked), not shown.
        await pilot.press("down", "space")
        await wait_for(pilot, lambda: "Slurm job 77" not in body(), "only the picked job")
        assert "Slurm job 88" in body() and screen.picked == {"88"}
        await pilot.press("a")
        await wait_for(pilot, lambda: "Slurm job 77" in body(), "all jobs again")
        # s: py-spy of every rank of job 88 (pid 321 in no job here), a note either way.
        await pilot.press("s")
        notes = ctx.workspace.notes_dir
        note = await wait_for(
            pilot, lambda: next(iter(notes.glob("stacks-88-*.md")), None), "the stacks note"
        )
        text = note.read_text()
        assert "# Python stacks of Slurm job 88" in text and "## rank 1 on [red]n1" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ClusterScreen), "closed")
        assert ctx.live.chart_request is None or ctx.live.chart_request.key[0] != "cluster"
