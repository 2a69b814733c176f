"""GPU alerts and log alerts in the TUI, next to ``watch``: a GPU alert tied to a real
writer process reaches the toast and the database; ``watch`` and the TUI on one growing
log raise the same alerts, alert for alert, and each is stored once."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import subprocess
import sys

import pytest
from fakes import make_app, make_context, tabs_ready
from hooks import Watch, history
from waits import wait_for

from waitwise_tui.core.gpu.fake import FakeConfig, FakeNvml
from waitwise_tui.ui.monitor.runs import RunsPanel

WRITER = """
import sys, time
f = open(sys.argv[1], "a")
f.write('{"step": 20, "loss": 0.05}\\n'); f.flush()
time.sleep(120)
"""


def stored_alerts(workspace) -> list[tuple]:
    conn = sqlite3.connect(workspace / ".waitwise" / "waitwise.db")
    try:
        query = "SELECT source, data FROM events WHERE kind = 'alert' ORDER BY id"
        return [(r[0], json.loads(r[1])["alert"]) for r in conn.execute(query)]
    finally:
        conn.close()


@pytest.mark.slow
async def test_a_full_gpu_under_a_real_writer_is_one_alert(tmp_path):
    log = tmp_path / "run.jsonl"
    history(log)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(log)])
    try:
        ctx = make_context(tmp_path, gpus=None, run_paths=[str(log)], frozen_runs=False)
        nvml = FakeNvml(
            FakeConfig(gpus=1, processes=1, util=80, memory_fill=0.97, pids=(writer.pid,))
        )
        ctx.fakes = dataclasses.replace(ctx.fakes, nvml=nvml)
        app = make_app(ctx, tabs=())
        async with app.run_test(size=(120, 40)) as pilot:
            await tabs_ready(pilot)
            panel = app.query_one(RunsPanel)
            await wait_for(
                pilot,
                lambda: (
                    panel.snapshot and any(r.writer_pid == writer.pid for r in panel.snapshot.runs)
                ),
                "the run and its writer",
            )
            toast = await wait_for(
                pilot,
                lambda: [n for n in app._notifications if "memory at 97 %" in n.message],
                "the GPU memory alert",
            )
            await wait_for(pilot, lambda: stored_alerts(tmp_path), "the stored alert")
            # More readings of the same full GPU: the same episode, no new alert.
            since = app.live.system.time
            await wait_for(pilot, lambda: app.live.system.time > since + 0.3, "more readings")
            assert len(toast) == 1
            assert stored_alerts(tmp_path) == [("run", "gpu_memory")]
    finally:
        writer.kill()
        writer.wait()


@pytest.mark.slow
async def test_watch_and_the_tui_raise_the_same_alerts_and_store_each_once(tmp_path):
    log = tmp_path / "run.jsonl"
    history(log)
    ctx = make_context(tmp_path, gpus=None, run_paths=[str(log)], frozen_runs=False)
    app = make_app(ctx, tabs=())
    announced = []
    async with app.run_test(size=(120, 40)) as pilot:
        original = app._announce
        app._announce = lambda event: (announced.append(event), original(event))
        await tabs_ready(pilot)
        panel = app.query_one(RunsPanel)
        await wait_for(pilot, lambda: panel.snapshot and panel.snapshot.runs, "the run")
        watch = Watch(tmp_path, str(log), "--no-notify")
        try:
            with log.open("a") as f:
                f.write('{"step": 20, "loss": NaN}\n{"step": 21, "loss": NaN}\n')
            await wait_for(pilot, lambda: watch.lines and announced, "the NaN in both")
            with log.open("a") as f:
                for step in range(22, 40):
                    f.write(f'{{"step": {step}, "loss": {0.05 * 1000 ** (step - 21)}}}\n')
                f.write('{"step": 40, "loss": Infinity}\n')
            await wait_for(
                pilot,
                lambda: (
                    any(e.data.get("step") == 40 for e in announced)
                    and any(line["data"].get("step") == 40 for line in watch.lines)
                ),
                "the infinite loss in both",
            )
        finally:
            assert watch.stop() == 0
    tui = [(e.data["alert"], e.data["metric"], e.data["step"]) for e in announced]
    cli = [(w["alert"], w["data"]["metric"], w["data"]["step"]) for w in watch.lines]
    assert tui == cli  # alert for alert, in order
    assert len(tui) >= 2
    assert len(stored_alerts(tmp_path)) == len(tui)  # each stored once, by whoever was first
