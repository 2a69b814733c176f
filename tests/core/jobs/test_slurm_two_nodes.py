"""The cluster view on a real two-node job: a cluster of its own in the test's tmp dir
(``WAITWISE_SLURM_NODES=2 .ci/slurm/up``: nodes n1 and n2, one ``slurmd -N`` each on
this host, two gres GPUs each), never the shared one in ``$SLURM_CONF``.

``sbatch -N2 --gres=gpu:1`` runs one task per node; each task starts a child (with the
task's ``SLURM_PROCID``) and lists it, with its GPU, in a pids file of its node. Both
"nodes" are this host, so the collector's step reads its node's file through a small
wrapper (``$SLURMD_NODENAME`` picks it): the fake NVML on n1 shows n1's process only.
The collector (one ``srun --nodes=2 --label`` step) and ``jobs gpus ID --json`` are
both checked. Skipped where Slurm is not installed or we are not root (failed instead
under ``WAITWISE_REQUIRE_SLURM=1``); the cluster is always torn down.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from slurm_env import REQUIRE_ENV
from waits import wait_until

from waitwise_tui.core.jobs.gpus import JobGpuCollector, read_allocation, to_rows

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
UP = ROOT / ".ci" / "slurm" / "up"
DOWN = ROOT / ".ci" / "slurm" / "down"
DAEMONS = ("slurmctld", "slurmd", "munged", "sbatch", "srun", "scontrol")

TASK = (
    'sleep 110 & f="pids.$SLURMD_NODENAME"; '
    'echo "$! ${CUDA_VISIBLE_DEVICES%%,*}" > "$f.tmp" && mv "$f.tmp" "$f"; wait'
)
BATCH = f"""#!/bin/sh
srun --ntasks-per-node=1 sh -c '{TASK}'
"""
# The collector's command: the app, with the fake NVML reading this node's pids file.
COMMAND = [
    "sh",
    "-c",
    'WAITWISE_FAKE_NVML_PIDS="$0.$SLURMD_NODENAME" exec "$@"',
    "",  # the pids path prefix, filled in per test
    sys.executable,
    "-m",
    "waitwise_tui",
]


def missing() -> str | None:
    absent = [name for name in DAEMONS if shutil.which(name) is None]
    if absent:
        return f"Slurm not installed ({', '.join(absent)} not on PATH; .ci/slurm/up installs it)"
    if os.geteuid() != 0:
        return ".ci/slurm/up must run as root to start slurmctld, slurmd and munged"
    return None


def free_ports() -> tuple[int, int]:
    """A free port for slurmctld and two consecutive ones for n1 and n2."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + 2 > 65535:
            continue
        try:
            held = []
            for port in (base, base + 1, base + 2):
                sock = socket.socket()
                held.append(sock)
                sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
        return base, base + 1
    raise AssertionError("no three consecutive free ports")


@pytest.fixture
def two_nodes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    reason = missing()
    if reason is not None:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {reason}")
        pytest.skip(reason)
    state = tmp_path / "cluster"
    ctld, slurmd = free_ports()
    env = os.environ | {
        "WAITWISE_SLURM_NODES": "2",
        "WAITWISE_SLURM_CTLD_PORT": str(ctld),
        "WAITWISE_SLURM_SLURMD_PORT": str(slurmd),
        "WAITWISE_SLURM_CPUS": "1",
        "WAITWISE_SLURM_GPUS": "2",
    }
    try:
        up = subprocess.run(
            [str(UP), str(state)], env=env, capture_output=True, text=True, timeout=120
        )
        assert up.returncode == 0, up.stderr
        # Every Slurm client of this test (and of the collector) talks to this cluster.
        monkeypatch.setenv("SLURM_CONF", str(state / "slurm.conf"))
        yield state
    finally:
        subprocess.run([str(DOWN), str(state)], capture_output=True, timeout=60, check=False)


def test_two_node_job_streams_both_nodes_with_their_gpu_and_rank(two_nodes, tmp_path):
    work = tmp_path / "job"
    work.mkdir()
    (work / "batch.sh").write_text(BATCH)
    job = subprocess.run(
        [
            "sbatch",
            "--parsable",
            "-N2",
            "--ntasks-per-node=1",
            "--gres=gpu:1",
            "--time=2",
            f"--chdir={work}",
            f"--output={work}/out.log",
            str(work / "batch.sh"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    job = job.split(";")[0]
    try:
        pids = {node: work / f"pids.{node}" for node in ("n1", "n2")}
        wait_until(lambda: all(p.exists() for p in pids.values()), "both tasks", timeout=60)
        children = {node: int(p.read_text().split()[0]) for node, p in pids.items()}
        allocation = read_allocation(job)
        assert allocation.state == "RUNNING" and allocation.nodes == ("n1", "n2")
        assert all(len(allocation.gpus[node]) == 1 for node in allocation.nodes)

        command = list(COMMAND)
        command[3] = str(work / "pids")
        collector = JobGpuCollector(
            allocation,
            command,
            seconds=0.3,
            env=os.environ | {"WAITWISE_FAKE_NVML": "2x0"},
            backoff=(0.2, 1.0),
            timeout=10,
        ).start()
        try:
            assert collector.wait_for_nodes(30), collector.errors
            # One srun step, both nodes' lines: each node's reading has the job's GPU
            # there (NVML sees both of the node) and the rank of the job's task there.
            rows = wait_until(
                lambda: (
                    (r := to_rows(job, collector.readings()))
                    and all(row["processes"] for row in r)
                    and r
                ),
                "a process on each node's GPU",
            )
            assert len(collector.streams) == 1
            assert sorted(row["node"] for row in rows) == ["n1", "n2"]
            ranks = {}
            for row in rows:
                node = row["node"]
                assert [row["gpu"]] == list(allocation.gpus[node])
                procs = {p["pid"]: p for p in row["processes"]}
                assert set(procs) == {children[node]}
                ranks[node] = procs[children[node]]["rank"]
            assert sorted(ranks.values()) == [0, 1]
        finally:
            collector.stop()

        # The same through the CLI: `jobs gpus ID --json` runs its own step.
        settings = tmp_path / "cfg"
        settings.mkdir()
        (settings / "settings.toml").write_text(
            f"[slurm]\ngpu_command = {json.dumps(command)}\ngpu_watch_seconds = 0.3\n"
        )
        (tmp_path / "ws").mkdir()
        out = subprocess.run(
            [*COMMAND[4:], "jobs", "gpus", job, "--json", "--workspace", str(tmp_path / "ws")],
            capture_output=True,
            text=True,
            env=os.environ | {"WAITWISE_FAKE_NVML": "2x0", "WAITWISE_CONFIG_DIR": str(settings)},
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        cli = {r["node"]: r for r in json.loads(out.stdout)["gpus"]}
        assert sorted(cli) == ["n1", "n2"]
        assert {node: [p["rank"] for p in r["processes"]] for node, r in cli.items()} == {
            node: [rank] for node, rank in ranks.items()
        }
    finally:
        subprocess.run(["scancel", job], check=False)
