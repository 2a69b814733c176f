"""Cost per poll of the cluster collector (core/jobs/gpus.py).

Run: python bench/bench_cluster_gpus.py   (fake NVML; the srun part needs a Slurm
cluster with a GPU gres, e.g. .ci/slurm/up, and is skipped without one).

- node side: CPU seconds per streamed line of ``gpu --json --watch`` (8 GPUs, 50
  processes), against the same process's CPU for one snapshot of ``gpu --json``;
- watcher side: rejoining and parsing one line split into srun's 1 KiB pieces;
- srun: the time from starting an ``--overlap`` step on a running job to its first line
  (once per stream start, not per poll), against a bare ``srun --overlap true``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from waitwise_tui.core.jobs.gpus import LineJoiner, srun_argv  # noqa: E402

CMD = [sys.executable, "-m", "waitwise_tui"]
ENV = os.environ | {"WAITWISE_FAKE_NVML": "8x50", "PYTHONPATH": str(ROOT)}


def cpu_of(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def node_side(lines: int = 40, every: float = 0.1) -> None:
    one = psutil.Popen([*CMD, "gpu", "--json"], env=ENV, stdout=subprocess.PIPE)
    start = time.perf_counter()
    one.communicate()
    # the single snapshot's whole run (start-up, import, two samples)
    single_wall = time.perf_counter() - start
    proc = psutil.Popen(
        [*CMD, "gpu", "--json", "--watch", str(every)], env=ENV, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.stdout.readline()
    base = cpu_of(proc)
    sizes = []
    for _ in range(lines):
        sizes.append(len(proc.stdout.readline()))
    per_line = (cpu_of(proc) - base) / lines
    proc.terminate()
    proc.wait()
    print(f"node: {per_line * 1000:.1f} ms CPU per line ({sum(sizes) / len(sizes) / 1024:.1f} KiB)")
    print(f"      one-shot gpu --json (start-up included): {single_wall * 1000:.0f} ms wall")
    print(f"      at the default 5 s: {per_line / 5 * 100:.2f} % of one core")


def watcher_side(repeat: int = 200) -> None:
    proc = subprocess.Popen(
        [*CMD, "gpu", "--json", "--watch", "0.1"], env=ENV, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    proc.terminate()
    proc.wait()
    pieces = [f"0: {line[i : i + 1024]}\n" for i in range(0, len(line), 1024)]
    joiner = LineJoiner()
    start = time.process_time()
    for _ in range(repeat):
        for piece in pieces:
            joiner.feed(piece)
    per = (time.process_time() - start) / repeat
    print(f"watcher: {per * 1000:.2f} ms CPU to rejoin and parse one line ({len(pieces)} pieces)")


def srun_side() -> None:
    if shutil.which("sbatch") is None:
        print("srun: skipped (no Slurm)")
        return
    job = subprocess.run(
        [
            "sbatch",
            "--parsable",
            "--gres=gpu:1",
            "--time=2",
            "--output=/dev/null",
            "--wrap",
            "sleep 60",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if not job.isdigit():
        print("srun: skipped (sbatch failed)")
        return
    try:
        while (
            "RUNNING"
            not in subprocess.run(
                ["squeue", "-h", "-j", job, "-o", "%T"], capture_output=True, text=True
            ).stdout
        ):
            time.sleep(0.2)
        start = time.perf_counter()
        subprocess.run(["srun", f"--jobid={job}", "--overlap", "true"], check=False)
        bare = time.perf_counter() - start
        start = time.perf_counter()
        proc = subprocess.Popen(
            srun_argv(job, 1, CMD, 5), env=ENV, stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        proc.stdout.readline()
        first = time.perf_counter() - start
        proc.terminate()
        proc.wait()
        print(
            f"srun: first line after {first * 1000:.0f} ms;"
            f" bare srun --overlap true {bare * 1000:.0f} ms"
        )
    finally:
        subprocess.run(["scancel", job], check=False)


if __name__ == "__main__":
    node_side()
    watcher_side()
    srun_side()
