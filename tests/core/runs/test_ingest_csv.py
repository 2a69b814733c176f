"""CSV metric logs: Lightning, Keras, Ultralytics, generic; tailing a rewritten header."""

from __future__ import annotations

import math
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_fixtures import candidate, collect, key, read_in_two, read_whole

from waitwise_tui.core.runs.readers import open_tail, read_all

LIGHTNING = "epoch,step,train_loss,val_loss\n0,0,2.5,\n0,1,2.4,\n0,1,,2.6\n1,2,2.3,\n"
KERAS = "epoch,accuracy,loss,val_loss\n0,0.5,1.2,NA\n1,0.6,nan,0.9\n2,0.7,0.8,NaN\n"
ULTRA = (
    "                  epoch,         train/box_loss,      metrics/mAP50(B)\n"
    "                      1,                 1.2345,               0.1\n"
    "                      2,                 1.1000,               0.2\n"
)


def _triples(path, fmt="csv"):
    return [(p.metric, p.step, p.value) for p in read_all(candidate(path, fmt)).points]


def test_lightning_sparse_rows(tmp_path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_text(LIGHTNING)
    got = sorted(_triples(path))
    assert got == [
        ("train_loss", 0.0, 2.5),
        ("train_loss", 1.0, 2.4),
        ("train_loss", 2.0, 2.3),
        ("val_loss", 1.0, 2.6),
    ]


def test_keras_na_is_no_point_and_nan_is_a_point(tmp_path) -> None:
    path = tmp_path / "training.log"
    path.write_text(KERAS)
    pts = read_all(candidate(path, "csv")).points
    val = [(p.step, p.value) for p in pts if p.metric == "val_loss"]
    assert val[0] == (1.0, 0.9) and val[1][0] == 2.0 and math.isnan(val[1][1])
    loss = [(p.step, p.value) for p in pts if p.metric == "loss"]
    assert loss[0] == (0.0, 1.2) and math.isnan(loss[1][1])
    assert {p.metric for p in pts} == {"accuracy", "loss", "val_loss"}


def test_ultralytics_padded_headers_are_stripped(tmp_path) -> None:
    path = tmp_path / "results.csv"
    path.write_text(ULTRA)
    assert sorted(_triples(path)) == [
        ("metrics/mAP50(B)", 1.0, 0.1),
        ("metrics/mAP50(B)", 2.0, 0.2),
        ("train/box_loss", 1.0, 1.2345),
        ("train/box_loss", 2.0, 1.1),
    ]


def test_step_preferred_over_epoch_and_row_index_without_either(tmp_path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("loss,global_step,epoch\n0.5,10,0\n0.4,20,0\n")
    assert _triples(path) == [("loss", 10.0, 0.5), ("loss", 20.0, 0.4)]
    path.write_text("loss,acc\n0.5,0.1\n0.4,0.2\n")
    assert sorted(_triples(path)) == [
        ("acc", 0, 0.1),
        ("acc", 1, 0.2),
        ("loss", 0, 0.5),
        ("loss", 1, 0.4),
    ]


def test_text_cells_and_ragged_rows(tmp_path) -> None:
    path = tmp_path / "a.csv"
    path.write_text('step,loss,note\n1,0.5,"hi, there"\n2,x\n3\nbad,0.1,\n4,0.3,ok,extra\n')
    assert _triples(path) == [("loss", 1.0, 0.5), ("loss", 4.0, 0.3)]


def test_append_reads_only_new_rows(tmp_path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_text("step,loss\n1,0.5\n")
    tail = open_tail(candidate(path, "csv"))
    assert [p.step for p in tail.poll().points] == [1.0]
    with open(path, "a") as fh:
        fh.write("2,0.4\n3,0.")
    up = tail.poll()
    assert [p.step for p in up.points] == [2.0] and not up.reset
    with open(path, "a") as fh:
        fh.write("3\n")
    assert [(p.step, p.value) for p in tail.poll().points] == [(3.0, 0.3)]


def test_lightning_header_rewrite_starts_over(tmp_path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,step,train_loss\n0,0,2.5\n0,1,2.4\n")
    tail = open_tail(candidate(path, "csv"))
    points: list = []
    collect(tail, points)
    assert len(points) == 2
    # Lightning rewrites the file in place (same inode) with the new column.
    with open(path, "r+") as fh:
        fh.write("epoch,step,train_loss,val_loss\n0,0,2.5,\n0,1,2.4,\n0,1,,2.6\n")
    up = tail.poll()
    assert up.reset
    assert sorted((p.metric, p.step) for p in up.points) == [
        ("train_loss", 0.0),
        ("train_loss", 1.0),
        ("val_loss", 1.0),
    ]


def test_crlf_line_endings(tmp_path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"step,loss\r\n1,0.5\r\n2,0.25\r\n")
    assert _triples(path) == [("loss", 1.0, 0.5), ("loss", 2.0, 0.25)]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    which=st.sampled_from([LIGHTNING, KERAS, ULTRA]),
    cut=st.integers(min_value=0, max_value=10**6),
)
def test_truncated_then_completed_equals_whole(tmp_path_factory, which, cut) -> None:
    path = tmp_path_factory.mktemp("csv") / "metrics.csv"
    data = which.encode()
    got = read_in_two(path, data, cut % (len(data) + 1), "csv")
    assert sorted(key(got), key=str) == sorted(key(read_whole(path, "csv")), key=str)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=2000))
def test_random_bytes_never_raise(tmp_path_factory, data) -> None:
    path = tmp_path_factory.mktemp("csvr") / "metrics.csv"
    path.write_bytes(data)
    read_all(candidate(path, "csv"))
    os.remove(path)
