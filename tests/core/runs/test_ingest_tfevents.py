"""TensorBoard event files: decoding, merging, partial and corrupted records."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_fixtures import (
    candidate,
    collect,
    key,
    read_in_two,
    read_whole,
    scalar_event,
    tensor_event,
    write_events,
)

from waitwise_tui.core.runs.readers import open_tail, read_all
from waitwise_tui.core.runs.tfevents import crc32c, decode_event, masked_crc32c


def test_crc32c_known_values() -> None:
    # Check values from RFC 3720 (iSCSI) B.4.
    assert crc32c(b"") == 0
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(b"\xff" * 32) == 0x62A8AB43
    assert crc32c(b"123456789") == 0xE3069283


def test_simple_value_events(tmp_path) -> None:
    events = [scalar_event("train/loss", 1.0 / (i + 1), i, 1.7e9 + i) for i in range(300)]
    events += [scalar_event("lr", 0.5, 70000, 5.0), scalar_event("neg", -2.0, -3)]
    write_events(tmp_path, events)
    update = read_all(candidate(tmp_path, "tfevents"))
    assert update.error is None
    pts = update.points
    assert len(pts) == 302
    assert pts[0].metric == "train/loss" and pts[0].step == 0 and pts[0].value == 1.0
    assert pts[0].wall_time == 1.7e9
    assert pts[299].step == 299 and pts[299].value == pytest.approx(1 / 300)
    assert (pts[300].metric, pts[300].step, pts[300].wall_time) == ("lr", 70000, 5.0)
    assert (pts[301].metric, pts[301].step) == ("neg", -3)


@pytest.mark.parametrize("dtype", ["float", "double", "half"])
@pytest.mark.parametrize("content", [False, True])
def test_tensor_scalars(tmp_path, dtype, content) -> None:
    events = [tensor_event("epoch_loss", 0.25 * i, i, dtype, content) for i in range(5)]
    write_events(tmp_path, events)
    pts = read_all(candidate(tmp_path, "tfevents")).points
    assert [(p.metric, p.step, p.value) for p in pts] == [
        ("epoch_loss", i, 0.25 * i) for i in range(5)
    ]
    assert pts[2].wall_time == 1.7e9 + 2


def test_non_scalar_values_are_ignored(tmp_path) -> None:
    from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, types_pb2

    text = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[b"hello"])
    hist = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[1.0, 2.0, 3.0])
    values = [
        summary_pb2.Summary.Value(tag="text", tensor=text),
        summary_pb2.Summary.Value(tag="hist", tensor=hist),
        summary_pb2.Summary.Value(tag="ok", simple_value=3.0),
    ]
    event = event_pb2.Event(step=7, summary=summary_pb2.Summary(value=values))
    write_events(tmp_path, [event])
    pts = read_all(candidate(tmp_path, "tfevents")).points
    assert [(p.metric, p.step, p.value) for p in pts] == [("ok", 7, 3.0)]


def test_decode_event_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        decode_event(b"\x0a\x50abc")


def test_several_files_merge_and_new_files_are_picked_up(tmp_path) -> None:
    write_events(tmp_path, [scalar_event("a", 1.0, 1)], suffix=".1")
    write_events(tmp_path, [scalar_event("b", 2.0, 1)], suffix=".2")
    tail = open_tail(candidate(tmp_path, "tfevents"))
    first = tail.poll()
    assert sorted(p.metric for p in first.points) == ["a", "b"]
    write_events(tmp_path, [scalar_event("c", 3.0, 2)], suffix=".3")
    second = tail.poll()
    assert [p.metric for p in second.points] == ["c"]
    assert not second.reset


def test_backwards_step_keeps_arrival_order(tmp_path) -> None:
    steps = [0, 1, 2, 1, 2, 3]
    write_events(tmp_path, [scalar_event("loss", float(i), s) for i, s in enumerate(steps)])
    pts = read_all(candidate(tmp_path, "tfevents")).points
    assert [p.step for p in pts] == steps
    assert [p.value for p in pts] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def _records(path) -> list[tuple[int, int]]:
    data = path.read_bytes()
    out, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        out.append((pos, length))
        pos += 16 + length
    return out


@pytest.mark.parametrize("where", ["data", "data_crc", "length"])
def test_corrupted_record_is_skipped_and_counted(tmp_path, where) -> None:
    path = write_events(tmp_path, [scalar_event("loss", float(i), i) for i in range(60)])
    data = bytearray(path.read_bytes())
    pos, length = _records(path)[11]  # record 0 is the file_version event
    offset = {"data": pos + 14, "data_crc": pos + 12 + length, "length": pos + 1}[where]
    data[offset] ^= 0x5A
    path.write_bytes(bytes(data))
    update = read_all(candidate(tmp_path, "tfevents"))
    steps = [p.step for p in update.points]
    assert 10 not in steps
    assert steps == [s for s in range(60) if s != 10]
    assert update.error is not None and "corrupted" in update.error


def test_half_written_record_waits(tmp_path) -> None:
    src = write_events(tmp_path / "src", [scalar_event("loss", float(i), i) for i in range(5)])
    data = src.read_bytes()
    run = tmp_path / "run"
    run.mkdir()
    path = run / src.name
    for cut in (len(data) - 3, len(data) - 20):
        path.write_bytes(data[:cut])
        tail = open_tail(candidate(run, "tfevents"))
        part = tail.poll()
        assert part.error is None
        assert [p.step for p in part.points] == [0, 1, 2, 3]
        path.write_bytes(data)
        rest = tail.poll()
        assert [p.step for p in rest.points] == [4] and not rest.reset


@pytest.fixture(scope="module")
def mixed_events(tmp_path_factory) -> bytes:
    logdir = tmp_path_factory.mktemp("ev")
    events = [scalar_event("loss", 1.5 * i, i) for i in range(40)]
    events += [tensor_event("acc", 0.5, 41, "double"), tensor_event("h", 2.0, 42, "half")]
    return write_events(logdir, events).read_bytes()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(min_value=0, max_value=10**9))
def test_truncated_then_completed_equals_whole(tmp_path_factory, mixed_events, cut) -> None:
    run = tmp_path_factory.mktemp("cut")
    path = run / "events.out.tfevents.1.host"
    got = read_in_two(path, mixed_events, cut % (len(mixed_events) + 1), "tfevents")
    path.write_bytes(mixed_events)
    assert key(got) == key(read_whole(path, "tfevents"))
    assert len(got) == 42


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=3000))
def test_random_bytes_never_raise(tmp_path_factory, data) -> None:
    run = tmp_path_factory.mktemp("rand")
    (run / "events.out.tfevents.1.host").write_bytes(data)
    update = read_all(candidate(run, "tfevents"))
    assert all(isinstance(p.value, float) for p in update.points)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(flips=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=4))
def test_bit_flips_never_raise(tmp_path_factory, mixed_events, flips) -> None:
    run = tmp_path_factory.mktemp("flip")
    data = bytearray(mixed_events)
    for f in flips:
        data[f % len(data)] ^= 1 << (f % 8)
    (run / "events.out.tfevents.1.host").write_bytes(bytes(data))
    update = read_all(candidate(run, "tfevents"))
    good = {(p.metric, p.step) for p in update.points}
    assert good <= {("loss", i) for i in range(40)} | {("acc", 41), ("h", 42)}
    assert all(not math.isnan(p.value) for p in update.points)


def test_masked_crc_matches_tensorboard() -> None:
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as tb_crc

    for data in (b"", b"abc", bytes(range(256)) * 3):
        assert masked_crc32c(data) == tb_crc(data)


def test_deleted_run_is_gone_once(tmp_path) -> None:
    path = write_events(tmp_path / "run", [scalar_event("loss", 1.0, 1)])
    tail = open_tail(candidate(tmp_path / "run", "tfevents"))
    points: list = []
    collect(tail, points)
    path.unlink()
    (tmp_path / "run").rmdir()
    assert tail.poll().gone
    again = tail.poll()
    assert not again.gone and not again.points and not again.reset
