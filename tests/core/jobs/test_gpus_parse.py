"""The cluster collector's pure parts: scontrol's answer, host lists, Slurm durations,
srun's split lines, the argv builders, and the rank read from a process environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from waitwise_tui.core.gpu.sampler import ranks_from_environ
from waitwise_tui.core.jobs.gpus import (
    Backoff,
    GpuStream,
    LineJoiner,
    expand_hostlist,
    parse_allocation,
    parse_duration,
    srun_argv,
    ssh_argv,
)

SHOW_JOB = (
    "JobId=220 JobName=job.sh JobState=RUNNING Reason=None RunTime=00:00:02"
    " TimeLimit=00:02:00 StartTime=2026-12-02T21:34:39 EndTime=2026-12-02T21:36:39"
    " NodeList=n[01-02] BatchHost=n01 NumNodes=2 JOB_GRES=gpu:4"
    "   Nodes=n01 CPU_IDs=0 Mem=0 GRES=gpu:2(IDX:0-1)"
    "   Nodes=n02 CPU_IDs=0 Mem=0 GRES=gpu:a100:2(IDX:1,3) MinCPUsNode=1"
)


def test_allocation_from_scontrol():
    alloc = parse_allocation("220", SHOW_JOB)
    assert alloc.state == "RUNNING" and not alloc.ended
    assert alloc.nodes == ("n01", "n02")
    assert alloc.gpus == {"n01": (0, 1), "n02": (1, 3)}
    assert alloc.time_limit_s == 120
    assert alloc.end_time is not None and alloc.start_time is not None
    assert alloc.end_time - alloc.start_time == 120


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2", 120), ("05:30", 330), ("1:00:00", 3600), ("2-03", 183600), ("1-00:00:05", 86405)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@given(st.text(max_size=30))
def test_duration_never_raises(text):
    assert parse_duration(text) is None or parse_duration(text) >= 0


@given(st.text(max_size=40))
def test_hostlist_never_raises(text):
    assert isinstance(expand_hostlist(text), tuple)


def test_hostlist_ranges():
    assert expand_hostlist("gpu[1-3,7],login") == ("gpu1", "gpu2", "gpu3", "gpu7", "login")
    assert expand_hostlist("n[08-10]") == ("n08", "n09", "n10")


def reading(node: str, n: int) -> str:
    gpus = [{"index": i, "util_percent": 50, "name": "x" * 300} for i in range(n)]
    return json.dumps({"time": 1.0, "nvml": {"ok": True}, "gpus": gpus, "node": node})


@given(
    st.lists(st.integers(min_value=1, max_value=1500), min_size=1, max_size=8),
    st.integers(min_value=1, max_value=6),
)
def test_split_labelled_lines_are_joined_per_task(cuts, n):
    # Two tasks' lines, cut into pieces, the pieces of the two interleaved, as srun
    # --label prints them; srun's own messages in between are skipped.
    lines = {"0": reading("a", n), "1": reading("b", n)}
    pieces = {}
    for label, line in lines.items():
        out, at = [], 0
        for cut in cuts:
            if at >= len(line):
                break
            out.append(line[at : at + cut])
            at += cut
        out.append(line[at:])
        pieces[label] = [p for p in out if p]
    joiner = LineJoiner()
    got = []
    for i in range(max(len(p) for p in pieces.values())):
        for label in ("0", "1"):
            if i < len(pieces[label]):
                r = joiner.feed(f"{label}: {pieces[label][i]}\n")
                if r:
                    got.append(r)
        assert joiner.feed("srun: Job step aborted\n") is None
    assert sorted(r.node for r in got) == ["a", "b"]
    assert all(len(r.gpus) == n for r in got)


def test_argv_builders_are_lists_and_refuse_option_nodes():
    argv = srun_argv("12", 3, ["waitwise-tui"], 5)
    assert argv[:2] == ["srun", "--jobid=12"] and "--overlap" in argv and "--nodes=3" in argv
    assert argv[-4:] == ["gpu", "--json", "--watch", "5"]
    assert ssh_argv("n1", ["wt"], 2)[:4] == ["ssh", "-o", "BatchMode=yes", "-T"]
    with pytest.raises(ValueError):
        ssh_argv("-oProxyCommand=x", ["wt"])


def test_ranks_from_environ():
    assert ranks_from_environ({"RANK": "5", "LOCAL_RANK": "1"}) == (5, 1)
    assert ranks_from_environ({"SLURM_PROCID": "7", "SLURM_LOCALID": "3"}) == (7, 3)
    assert ranks_from_environ({"RANK": "x"}) == (None, None)
    assert ranks_from_environ(None) == (None, None)


def test_backoff_doubles_and_resets():
    b = Backoff(1, 5)
    assert [b.wait() for _ in range(4)] == [1, 2, 4, 5]
    b.reset()
    assert b.wait() == 1


def test_stream_restarts_a_dying_process_until_the_job_ends(tmp_path):
    # A real process that prints one reading and dies; the "job" ends after 3 runs.
    script = tmp_path / "once.py"
    script.write_text(f"print({reading('n', 1)!r})\n")
    runs = []
    got = []

    def ended() -> bool:
        runs.append(1)
        return len(runs) >= 3

    stream = GpuStream(
        [sys.executable, str(script)],
        job_ended=ended,
        on_reading=got.append,
        backoff=Backoff(0.01, 0.02),
    )
    stream.start()
    stream._thread.join(30)
    assert not stream.alive and stream.state.ended
    assert stream.state.restarts == 2 and len(got) == 3


def test_stream_reports_a_missing_program():
    stream = GpuStream(["/nonexistent/waitwise-tui"], job_ended=lambda: True)
    stream.start()
    stream._thread.join(10)
    assert "cannot run" in stream.state.last_error


def test_gpu_json_names_the_node(tmp_path):
    env = os.environ | {"WAITWISE_FAKE_NVML": "2x0", "SLURMD_NODENAME": "n07"}
    out = subprocess.run(
        [sys.executable, "-m", "waitwise_tui", "gpu", "--json", "--workspace", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["node"] == "n07"


def test_fake_nvml_lists_pids_from_the_file(tmp_path):
    pids = tmp_path / "pids"
    pids.write_text(f"{os.getpid()} 1\n")
    code = textwrap.dedent(
        """
        from waitwise_tui.core.gpu.sampler import SystemSampler, nvml_from_env
        s = SystemSampler(nvml_from_env())
        snap = s.sample()
        print([(p.pid, p.gpu_index, p.rank) for p in snap.processes])
        """
    )
    env = os.environ | {
        "WAITWISE_FAKE_NVML": "2x0",
        "WAITWISE_FAKE_NVML_PIDS": str(pids),
        "RANK": "4",
    }
    # The listed pid is this test process; its rank is what its environment says.
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert f"({os.getpid()}, 1, " in out.stdout


def test_cluster_settings_are_checked():
    from waitwise_tui.core.jobs.slurm import SlurmConfig

    config, problems = SlurmConfig.from_table(
        {
            "gpu_transport": "ssh",
            "gpu_command": ["/shared/env/bin/waitwise-tui"],
            "gpu_watch_seconds": 2,
            "time_limit_signal": "SIGUSR1",
        }
    )
    assert problems == []
    assert config.gpu_transport == "ssh" and config.time_limit_signal == "USR1"
    assert config.gpu_command == ("/shared/env/bin/waitwise-tui",)
    config, problems = SlurmConfig.from_table(
        {"gpu_transport": "telnet", "gpu_command": "waitwise-tui", "time_limit_signal": "a b"}
    )
    assert len(problems) == 3 and config == SlurmConfig()
