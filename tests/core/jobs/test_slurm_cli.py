"""Parsers of Slurm's output, and how tool failures read (no cluster needed)."""

from __future__ import annotations

import stat

import pytest
from hypothesis import given
from hypothesis import strategies as st

from waitwise_tui.core.jobs.slurm_cli import (
    SQUEUE_FIELDS,
    SlurmError,
    gpu_indexes,
    gpus_in_gres,
    parse_exit_code,
    parse_sbatch,
    parse_scontrol,
    parse_squeue,
    run_tool,
)

SCONTROL = (
    "JobId=42 JobName=ww1a2b3c-7.1 UserId=ada(1000) GroupId=ada(1000) MCS_label=N/A "
    "Priority=1 Nice=0 Account=(null) QOS=normal JobState=FAILED Reason=NonZeroExitCode "
    "Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=3:0 "
    "RunTime=00:00:01 TimeLimit=00:02:00 NodeList=node1 BatchHost=node1 "
    "Comment=two words here StdOut=/w/.waitwise/jobs/7/stdout.log"
)


def test_sbatch_parsable_forms():
    assert parse_sbatch("123\n") == "123"
    assert parse_sbatch("456;cluster-a\n") == "456"
    with pytest.raises(SlurmError) as info:
        parse_sbatch("sbatch: warning: something\n")
    assert info.value.ambiguous


def test_squeue_lines():
    text = (
        "12|PENDING|Resources|0:00|2:00||gres:gpu:1|debug|ada|waitwise:ab:1.1|ww-1.1\n"
        "13|RUNNING|None|1:02|2:00|node1|gres:gpu:1|debug|ada|(null)|a|name|with|bars\n"
        "garbage line\n"
    )
    pending, running = parse_squeue(text)
    assert (pending.job_id, pending.state, pending.reason, pending.nodes) == (
        "12",
        "PENDING",
        "Resources",
        "",
    )
    assert pending.gpus == 1 and pending.comment == "waitwise:ab:1.1"
    assert running.comment == ""
    assert running.reason == "" and running.nodes == "node1"
    assert running.name == "a|name|with|bars"


def test_scontrol_one_liner_keeps_spaced_values():
    fields = parse_scontrol(SCONTROL)
    assert fields["JobState"] == "FAILED"
    assert fields["ExitCode"] == "3:0"
    assert fields["Comment"] == "two words here"
    assert fields["UserId"] == "ada(1000)"


def test_exit_codes():
    assert parse_exit_code("3:0") == (3, None)
    assert parse_exit_code("0:9") == (0, 9)
    assert parse_exit_code("") == (None, None)
    assert parse_exit_code("n/a") == (None, None)


@pytest.mark.parametrize(
    ("gres", "count"),
    [
        ("gres:gpu:2", 2),
        ("gres/gpu:a100:4", 4),
        ("gpu:1", 1),
        ("gres:gpu", 1),
        ("", 0),
        ("gres:shard:2", 0),
        ("gres:gpu:1,gres:gpu:a100:2", 3),
    ],
)
def test_gpus_in_gres(gres, count):
    assert gpus_in_gres(gres) == count


def test_gpu_indexes_from_detail():
    assert gpu_indexes("Nodes=n1 CPU_IDs=0 Mem=0 GRES=gpu:2(IDX:0-1)") == "0,1"
    assert gpu_indexes("Nodes=n1 GRES=gpu:a100:1(IDX:3)") == "3"
    assert gpu_indexes("Nodes=n1 GRES=gpu:3(IDX:0,2-3)") == "0,2,3"
    assert gpu_indexes("Nodes=n1") == ""


text_piece = st.text(
    alphabet=st.characters(blacklist_characters="|\n\r", blacklist_categories=("Cs",)),
    max_size=12,
)


@given(st.lists(st.lists(text_piece, min_size=10, max_size=10), max_size=5), text_piece)
def test_squeue_round_trip(rows, name):
    lines = ["|".join([str(100 + i), *row[1:], f"{name}|{i}"]) for i, row in enumerate(rows)]
    jobs = parse_squeue("\n".join(lines))
    assert [j.job_id for j in jobs] == [str(100 + i) for i in range(len(rows))]
    assert [j.name for j in jobs] == [f"{name}|{i}".strip() for i in range(len(rows))]
    assert len(SQUEUE_FIELDS) == 11


@given(st.text(max_size=300))
def test_parsers_never_raise_on_garbage(text):
    parse_squeue(text)
    parse_scontrol(text)
    parse_exit_code(text)
    gpus_in_gres(text)
    gpu_indexes(text)


@given(
    st.dictionaries(
        st.from_regex(r"[A-Z][A-Za-z]{0,10}", fullmatch=True),
        st.from_regex(r"[a-z0-9()/:.]{1,10}( [a-z0-9]{1,6}){0,2}", fullmatch=True),
        max_size=8,
    )
)
@pytest.mark.slow
def test_scontrol_round_trip(fields):
    text = " ".join(f"{k}={v}" for k, v in fields.items())
    assert parse_scontrol(text) == fields


def _fake_tool(tmp_path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_missing_tool_reads_clearly(tmp_path):
    with pytest.raises(SlurmError, match="sbatch not found on PATH"):
        run_tool([str(tmp_path / "nowhere" / "sbatch")], timeout=5)


def test_controller_down_reads_clearly(tmp_path):
    tool = _fake_tool(
        tmp_path,
        "squeue",
        'echo "squeue: error: Unable to contact slurm controller (connect failure)" >&2; exit 1',
    )
    with pytest.raises(SlurmError, match="controller not reachable") as info:
        run_tool([tool], timeout=5)
    assert not info.value.rejected and not info.value.ambiguous


def test_rejected_submission_reads_clearly(tmp_path):
    tool = _fake_tool(
        tmp_path,
        "sbatch",
        'echo "sbatch: error: Batch job submission failed: Invalid partition name specified"'
        " >&2; exit 1",
    )
    with pytest.raises(SlurmError, match="rejected the job: Invalid partition") as info:
        run_tool([tool], timeout=5)
    assert info.value.rejected


def test_hung_sbatch_is_ambiguous(tmp_path):
    tool = _fake_tool(tmp_path, "sbatch", "sleep 5")
    with pytest.raises(SlurmError, match=r"did not answer within 0\.3 s") as info:
        run_tool([tool], timeout=0.3)
    assert info.value.ambiguous


def test_missing_slurm_configuration_reads_clearly(tmp_path):
    tool = _fake_tool(
        tmp_path,
        "squeue",
        'echo "squeue: error: resolve_ctls_from_dns_srv: res_nsearch error: Unknown host" >&2;'
        ' echo "squeue: error: fetch_config: DNS SRV lookup failed" >&2; exit 1',
    )
    with pytest.raises(SlurmError, match="no Slurm configuration found") as info:
        run_tool([tool], timeout=5)
    assert "\n" not in str(info.value)
