"""The cluster view against the real local Slurm cluster (.ci/slurm/up): a running
job's GPU, read by a real ``srun --overlap`` step running ``gpu --json`` over the fake
NVML, shows in the ClusterScreen with the rank of a process of the job."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakes import make_app, make_context
from waits import wait_for

pytestmark = [pytest.mark.usefixtures("slurm"), pytest.mark.slow, pytest.mark.xdist_group("slurm")]

BATCH = """#!/bin/sh
RANK=5 LOCAL_RANK=0 SLURM_PROCID=5 sleep 100 &
child=$!
echo "$child ${CUDA_VISIBLE_DEVICES%%,*}" > pids.tmp && mv pids.tmp pids
wait $child
"""


async def test_a_running_jobs_gpu_shows_with_its_rank_in_the_cluster_view(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "batch.sh").write_text(BATCH)
    out = subprocess.run(
        [
            "sbatch",
            "--parsable",
            "--gres=gpu:1",
            "--time=2",
            f"--chdir={tmp_path}",
            f"--output={tmp_path}/out.log",
            str(tmp_path / "batch.sh"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    job = out.stdout.strip().split(";")[0]
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "pids").exists():  # the job's start, before any UI
            assert time.monotonic() < deadline, "the job did not start"
            time.sleep(0.1)
        pid = int((tmp_path / "pids").read_text().split()[0])
        # The step inherits this environment: the fake NVML sees the job's process.
        monkeypatch.setenv("WAITWISE_FAKE_NVML", "2x0")
        monkeypatch.setenv("WAITWISE_FAKE_NVML_PIDS", str(tmp_path / "pids"))
        ctx = make_context(tmp_path / "ws")
        ctx.settings.slurm = {
            "gpu_command": [sys.executable, "-m", "waitwise_tui"],
            "gpu_watch_seconds": 0.3,
        }
        app = make_app(ctx, tabs=())
        async with app.run_test(size=(120, 40)) as pilot:
            from waitwise_tui.ui.monitor.cluster import ClusterScreen

            app.push_screen(ClusterScreen(ctx))

            def body() -> str:
                if not isinstance(app.screen, ClusterScreen):
                    return ""
                return "".join(str(w.render()) for w in app.screen.query("#cluster-body"))

            text = await wait_for(
                pilot,
                lambda: f"pid {pid} rank 5" in body() and body(),
                "the job's rank",
                timeout=60,
            )
            assert f"Slurm job {job}" in text and "sleep 100" in text
            await pilot.press("escape")
    finally:
        subprocess.run(["scancel", job], check=False)
