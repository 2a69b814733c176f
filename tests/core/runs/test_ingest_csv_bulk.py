"""The columnar bulk path of the CSV reader gives exactly what the small path gives."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_fixtures import candidate, key, read_in_two, read_whole

from waitwise_tui.core.runs import csvlog
from waitwise_tui.core.runs.model import Column
from waitwise_tui.core.runs.readers import open_tail, read_all
from waitwise_tui.core.runs.series import Series

LIGHTNING = "epoch,step,train_loss,val_loss\n0,0,2.5,\n0,1,2.4,\n0,1,,2.6\n1,2,2.3,\n"
KERAS = (
    "epoch,accuracy,loss,val_loss\n0,0.5,1.2,NA\n1,0.6,nan,0.9\n2,0.7,0.8,NaN\n3,NA,inf,-Infinity\n"
)
ULTRA = (
    "                  epoch,         train/box_loss,      metrics/mAP50(B)\n"
    "                      1,                 1.2345,               0.1\n"
    "                      2,                 1.1000,               0.2\n"
)
ROW_INDEX = "loss,acc\n0.5,0.1\n0.4,\n\n0.3,0.2\r\n,0.25\n"
RAGGED = 'step,loss,note\n1,0.5,"hi, there"\n2,x\n3\nbad,0.1,\n4,0.3,ok,extra\n5,1_0,\n'
SPARSE_STEP = "step,loss\n1,0.5\n,0.4\nNA,0.3\nnan,0.2\n2,0.1\n"
BLANK_START = "\n\r\n\n" * 50_000 + "step,loss\n\n1,0.5\n2,0.25\n"


def _read(path, bulk: bool, monkeypatch) -> dict[str, tuple[list, list]]:
    """Per metric (steps, values) as a Series holds them, via one path only."""
    monkeypatch.setattr(csvlog, "BULK_BYTES", 0 if bulk else 1 << 60)
    update = read_all(candidate(path, "csv"))
    assert bool(update.columns) == bulk or not update.has_scalars()
    assert not (bulk and update.points)
    out: dict[str, tuple[list, list]] = {}
    for point in update.iter_points():
        steps, values = out.setdefault(point.metric, ([], []))
        steps.append("nan" if math.isnan(point.step) else float(point.step))
        values.append("nan" if math.isnan(point.value) else point.value)
    return out


def _same_both_ways(path, monkeypatch) -> dict:
    small = _read(path, False, monkeypatch)
    assert _read(path, True, monkeypatch) == small
    return small


@pytest.mark.parametrize(
    "text", [LIGHTNING, KERAS, ULTRA, ROW_INDEX, RAGGED, SPARSE_STEP, BLANK_START]
)
def test_bulk_matches_small_path_on_known_formats(tmp_path, monkeypatch, text) -> None:
    path = tmp_path / "metrics.csv"
    path.write_text(text * 3)
    assert _same_both_ways(path, monkeypatch)


def test_keras_na_and_nan_in_bulk(tmp_path, monkeypatch) -> None:
    path = tmp_path / "training.log"
    path.write_text(KERAS)
    got = _read(path, True, monkeypatch)
    assert got["val_loss"] == ([1.0, 2.0, 3.0], [0.9, "nan", -math.inf])
    assert got["loss"] == ([0.0, 1.0, 2.0, 3.0], [1.2, "nan", 0.8, math.inf])
    assert got["accuracy"] == ([0.0, 1.0, 2.0], [0.5, 0.6, 0.7])


def test_big_file_uses_columns_and_appends_use_points(tmp_path) -> None:
    path = tmp_path / "metrics.csv"
    rows = "".join(f"{i // 100},{i},{1 / (i + 1)!r},\n" for i in range(30_000))
    path.write_text("epoch,step,train_loss,val_loss\n" + rows)
    tail = open_tail(candidate(path, "csv"))
    first = tail.poll()
    assert not first.points
    assert [c.metric for c in first.columns] == ["train_loss", "val_loss"]
    loss, val = first.columns
    assert len(loss) == 30_000 and len(val) == 0
    assert loss.steps[-1] == 29_999.0 and loss.values[7] == 1 / 8
    with open(path, "a") as fh:
        fh.write("3,30000,0.5,0.7\n")
    more = tail.poll()
    assert not more.columns and len(more.points) == 2
    series = Series("train_loss")
    series.append(loss.steps, loss.values)
    series.extend(p for p in more.points if p.metric == "train_loss")
    assert series.count == 30_001 and series.last == 0.5


def test_bulk_then_small_chunks_stay_in_columns(tmp_path, monkeypatch) -> None:
    # A poll that went bulk keeps its later (smaller) chunks in columns too, parsed in
    # batches: several columns per metric, together in log order.
    monkeypatch.setattr(csvlog, "BULK_BYTES", 64)
    monkeypatch.setattr(csvlog, "BATCH_BYTES", 100_000)
    path = tmp_path / "metrics.csv"
    path.write_text("step,loss\n" + "".join(f"{i},{i / 2}\n" for i in range(200_000)))
    update = read_all(candidate(path, "csv"))
    assert not update.points and len(update.columns) > 1
    assert all(isinstance(c, Column) and c.metric == "loss" for c in update.columns)
    steps = np.concatenate([c.steps for c in update.columns])
    values = np.concatenate([c.values for c in update.columns])
    assert steps.tolist() == list(map(float, range(200_000)))
    assert values.tolist() == [i / 2 for i in range(200_000)]


CELL = st.one_of(
    st.sampled_from(["", "NA", "nan", "NaN", "inf", "-inf", "1_0", "x", " 1.5", "1e5", ".5"]),
    st.floats(allow_nan=False).map(repr),
    st.integers(-(10**20), 10**20).map(str),
    st.text(alphabet="0123456789.eE+-naifINFty _\t", max_size=8),
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.sampled_from(["step,loss,acc", "loss,acc", "epoch,loss", "loss"]),
    rows=st.lists(st.lists(CELL, min_size=0, max_size=4), max_size=30),
    crlf=st.booleans(),
)
@pytest.mark.slow
def test_bulk_matches_small_path_on_random_cells(
    tmp_path_factory, monkeypatch, header, rows, crlf
) -> None:
    path = tmp_path_factory.mktemp("bulk") / "metrics.csv"
    end = "\r\n" if crlf else "\n"
    path.write_text(end.join([header, *(",".join(r) for r in rows)]) + end)
    _same_both_ways(path, monkeypatch)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    which=st.sampled_from([LIGHTNING, KERAS, ULTRA, ROW_INDEX, RAGGED]),
    cut=st.integers(min_value=0, max_value=10**6),
    bulk_first=st.booleans(),
)
def test_bulk_truncated_then_completed_equals_whole(
    tmp_path_factory, monkeypatch, which, cut, bulk_first
) -> None:
    path = tmp_path_factory.mktemp("csvb") / "metrics.csv"
    data = (which * 4).encode()
    cut %= len(data) + 1
    # Either poll may take the bulk path; the whole read takes the small one.
    monkeypatch.setattr(csvlog, "BULK_BYTES", 0 if bulk_first else 1 << 60)
    path.write_bytes(data[:cut])
    tail = open_tail(candidate(path, "csv"))
    points = list(tail.poll().iter_points())
    monkeypatch.setattr(csvlog, "BULK_BYTES", 1 << 60 if bulk_first else 0)
    with open(path, "ab") as fh:
        fh.write(data[cut:])
    update = tail.poll()
    if update.reset:
        points.clear()
    points.extend(update.iter_points())
    monkeypatch.setattr(csvlog, "BULK_BYTES", 1 << 60)
    assert _per_metric(points) == _per_metric(read_whole(path, "csv"))
    assert _per_metric(read_in_two(path, data, cut, "csv")) == _per_metric(points)


def _per_metric(points) -> list[tuple]:
    """Each metric's points in log order (columns group by metric, points by row)."""
    return sorted(key(points), key=lambda t: t[0])
