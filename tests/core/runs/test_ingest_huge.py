"""Huge runs: tfevents resync from any offset, bulk decoding, tail-first open and fill."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_fixtures import candidate

from waitwise_tui.core.runs import tail as tail_mod
from waitwise_tui.core.runs import tfevents
from waitwise_tui.core.runs.model import ReadUpdate
from waitwise_tui.core.runs.readers import open_tail, read_all
from waitwise_tui.core.runs.tfevents import masked_crc32c, resync

TAGS = (b"train/loss", b"lr", b"val/accuracy")


def _varint(v: int) -> bytes:
    out = bytearray()
    while True:
        b, v = v & 0x7F, v >> 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def record(data: bytes) -> bytes:
    """One TFRecord: length, its masked CRC, data, the data's masked CRC."""
    head = struct.pack("<Q", len(data))
    return (
        head
        + struct.pack("<I", masked_crc32c(head))
        + data
        + struct.pack("<I", masked_crc32c(data))
    )


def scalar_record(i: int) -> bytes:
    """The PyTorch simple_value layout, as SummaryWriter.add_scalar writes it."""
    tag = TAGS[i % len(TAGS)]
    value = b"\x0a" + bytes([len(tag)]) + tag + b"\x15" + struct.pack("<f", i * 0.5)
    summary = b"\x0a" + bytes([len(value)]) + value
    event = b"\x09" + struct.pack("<d", 1.7e9 + i) + b"\x10" + _varint(i // len(TAGS) * 37)
    return record(event + b"\x2a" + bytes([len(summary)]) + summary)


def expected(indices) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = {}
    for i in indices:
        out.setdefault(TAGS[i % len(TAGS)].decode(), []).append((i // len(TAGS) * 37, i * 0.5))
    return out


def as_dict(update) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = {}
    for p in update.iter_points():
        out.setdefault(p.metric, []).append((p.step, p.value))
    return out


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 40),
    cut=st.integers(0, 10_000),
    flips=st.lists(st.integers(0, 10_000), max_size=3),
)
def test_resync_from_any_offset_skips_only_bad_records(n, cut, flips) -> None:
    records = [scalar_record(i) for i in range(n)]
    bounds = np.cumsum([0] + [len(r) for r in records])
    buf = bytearray(b"".join(records))
    cut %= len(buf)
    bad = set()
    for pos in {flip % len(buf) for flip in flips}:
        buf[pos] ^= 0xFF
        bad.add(int(np.searchsorted(bounds, pos, side="right")) - 1)
    found = resync(bytes(buf), cut)
    good_after = [i for i in range(n) if bounds[i] >= cut and i not in bad]
    if not good_after:
        assert found is None or found >= cut
        return
    # The first intact record at or after the cut (a damaged one never passes).
    assert found == bounds[good_after[0]]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(n=st.integers(1, 3000), flips=st.lists(st.integers(0, 10**6), max_size=2))
def test_bulk_decode_equals_record_by_record(tmp_path_factory, n, flips) -> None:
    """A poll big enough for the bulk path reads what the point path reads."""
    data = bytearray(b"".join(scalar_record(i) for i in range(n)))
    for flip in flips:
        data[flip % len(data)] ^= 0x55
    d = tmp_path_factory.mktemp("bulk")
    path = d / "events.out.tfevents.1"
    path.write_bytes(bytes(data))
    bulk = as_dict(read_all(candidate(path, "tfevents")))
    old = tfevents.BULK_BYTES
    tfevents.BULK_BYTES = 1 << 40
    try:
        small = as_dict(read_all(candidate(path, "tfevents")))
    finally:
        tfevents.BULK_BYTES = old
    assert bulk == small
    if not flips:
        assert bulk == expected(range(n))


@settings(max_examples=80, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(["scalar", "zeros", "big", "empty"]), min_size=1, max_size=60),
    cut=st.integers(0, 200),
    flips=st.lists(st.integers(0, 10**6), max_size=2),
)
def test_vectorised_framing_agrees_with_the_walk(kinds, cut, flips) -> None:
    """``_frame`` finds the walk's records or declines (None); never other records."""
    parts = []
    for i, kind in enumerate(kinds):
        if kind == "scalar":
            parts.append(scalar_record(i))
        elif kind == "zeros":  # data full of zero runs: false header candidates
            parts.append(record(bytes(40) + struct.pack("<Q", 20) + bytes(30)))
        elif kind == "big":
            parts.append(record(bytes(range(256)) * 20 + bytes(64)))
        else:
            parts.append(record(b""))
    data = bytearray(b"".join(parts))
    for flip in flips:
        data[flip % len(data)] ^= 0x55
    data = bytes(data[: max(0, len(data) - cut)])
    framed = tfevents._frame(tfevents._Views(data))
    if framed is None:
        # Intact records (however cut short) are always framed; damage may decline.
        assert flips or len(data) < 16
        return
    starts, lengths, pos = framed
    walked = tfevents._walk(data)
    assert walked is not None
    assert (starts.tolist(), lengths.tolist(), pos) == (walked[0], walked[1], walked[3])


def test_vectorised_crc_matches_the_table() -> None:
    data = bytes(range(256)) * 8
    raw = np.frombuffer(data, dtype=np.uint8)
    for width in (0, 1, 3, 4, 5, 8, 13, 64):
        pos = np.arange(0, len(data) - width, 37)
        got = tfevents._np_masked(raw, pos, width).tolist()
        assert got == [masked_crc32c(data[p : p + width]) for p in pos.tolist()]


@pytest.fixture
def small_thresholds(monkeypatch):
    monkeypatch.setattr(tail_mod, "TAIL_FIRST_BYTES", 1 << 20)
    monkeypatch.setattr(tail_mod, "TAIL_WINDOW", 1 << 16)
    monkeypatch.setattr(tail_mod, "HISTORY_STEP", 1 << 20)


def _open_and_fill(cand, append=None):
    """Poll until the handover; the last value is the history passed on on the way
    (the whole run), as an update of columns."""
    tail = open_tail(cand)
    first = tail.poll()
    assert first.loading is not None and first.loading[0] == 0
    assert not first.history
    loads = [first.loading]
    history = []
    for _ in range(100):
        if append is not None:
            append()
            append = None
        update = tail.poll()
        history.extend(update.history)
        if update.reset:
            assert update.handover and not update.has_scalars()
            return tail, first, loads, ReadUpdate(columns=history)
        loads.append(update.loading)
    raise AssertionError("history never filled in")


def test_tail_first_event_file(tmp_path, small_thresholds) -> None:
    n = 60_000  # ~4 MB
    path = tmp_path / "events.out.tfevents.1"
    path.write_bytes(b"".join(scalar_record(i) for i in range(n)))
    more = b"".join(scalar_record(i) for i in range(n, n + 30))

    def append() -> None:
        with open(path, "ab") as fh:
            fh.write(more)

    tail, first, loads, filled = _open_and_fill(candidate(tmp_path, "tfevents"), append)
    # The first poll holds only the latest records, up to the very last one.
    latest = as_dict(first)
    total = sum(map(len, latest.values()))
    assert 0 < total < n // 10
    assert latest == expected(range(n - total, n))
    # The history fills in with progress growing to the cut, then comes whole.
    done = [d for d, _ in loads]
    assert done == sorted(done) and len(loads) >= 3
    assert filled.loading is None
    assert as_dict(filled) == expected(range(n + 30))
    after = tail.poll()
    assert not after.reset and not after.has_scalars()
    tail.close()


@pytest.mark.slow
def test_tail_first_csv_and_jsonl(tmp_path, small_thresholds) -> None:
    n = 80_000  # ~1.4 MB each
    csv_path = tmp_path / "metrics.csv"
    csv_path.write_text(
        "epoch,step,train_loss\n" + "".join(f"{i // 100},{i},{i * 0.25}\n" for i in range(n))
    )
    jsonl_path = tmp_path / "log.jsonl"
    jsonl_path.write_text("".join(json.dumps({"loss": i * 0.5}) + "\n" for i in range(n)))
    for path, fmt, metric, step, value in (
        (csv_path, "csv", "train_loss", lambda i: i, lambda i: i * 0.25),
        (jsonl_path, "jsonl", "loss", lambda i: i, lambda i: i * 0.5),
    ):
        _, first, _, filled = _open_and_fill(candidate(path, fmt))
        latest = as_dict(first)[metric]
        assert 0 < len(latest) < n // 10
        assert [v for _, v in latest] == [value(i) for i in range(n - len(latest), n)]
        if fmt == "jsonl":
            # No step key: x is a line count estimated from the tail's line lengths.
            assert abs(latest[-1][0] - (n - 1)) < n * 0.05
        whole = as_dict(filled)[metric]
        assert whole == [(step(i), value(i)) for i in range(n)]


def test_pool_decoded_chunks_keep_order_and_count_damage(tmp_path, monkeypatch) -> None:
    """Many bulk chunks decode on the pool: the columns come back in file order, a
    chunk with a damaged record is redone record by record (only that record lost),
    and the result equals the point path's."""
    monkeypatch.setattr(tail_mod, "CHUNK", 1 << 16)
    monkeypatch.setattr(tfevents, "BULK_BYTES", 1 << 15)
    n = 12_000  # ~550 KB: nine chunks, more than the chunks kept in flight
    records = [scalar_record(i) for i in range(n)]
    bounds = np.cumsum([0] + [len(r) for r in records])
    data = bytearray(b"".join(records))
    damaged = [700, 5_000, 5_001, 11_000]  # data bytes of records in three chunks
    for i in damaged:
        data[int(bounds[i]) + 20] ^= 0x55
    path = tmp_path / "events.out.tfevents.1"
    path.write_bytes(bytes(data))
    cand = candidate(path, "tfevents")
    tail = open_tail(cand)
    update = tail.poll()
    assert len(update.columns) > 9 * len(TAGS) - len(TAGS)
    assert tail.errors == len(damaged)
    assert "skipped 1 corrupted record(s)" in (update.error or "")
    bulk = as_dict(update)
    assert bulk == expected(i for i in range(n) if i not in damaged)
    monkeypatch.setattr(tfevents, "BULK_BYTES", 1 << 40)
    assert as_dict(read_all(cand)) == bulk


def _event(tag: bytes, step: int | None, value: float, wall: float) -> bytes:
    value_b = b"\x0a" + bytes([len(tag)]) + tag + b"\x15" + struct.pack("<f", value)
    summary = b"\x0a" + bytes([len(value_b)]) + value_b
    head = b"\x09" + struct.pack("<d", wall)
    if step is not None:
        head += b"\x10" + _varint(step)
    return head + b"\x2a" + bytes([len(summary)]) + summary


_scalar_events = st.lists(
    st.tuples(
        st.sampled_from([b"a", b"lr", b"train/loss", b"val/accuracy_top5", b"x" * 40, b"\x15y"]),
        st.one_of(st.none(), st.integers(0, 2**50)),
        st.floats(width=32, allow_nan=False),
        st.floats(allow_nan=False),
    ),
    min_size=1,
    max_size=200,
)


@settings(max_examples=80, deadline=None)
@given(
    events=_scalar_events, flip=st.one_of(st.none(), st.tuples(st.integers(0), st.integers(1, 255)))
)
def test_bulk_records_and_their_crcs(events, flip) -> None:
    """The vectorised decoder reads what ``decode_event`` reads, record by record, and
    any changed byte of a record's data or data CRC fails the chunk (never misread)."""
    datas = [_event(*e) for e in events]
    records = [record(d) for d in datas]
    buf = bytearray(b"".join(records))
    if flip is not None:
        which, mask = flip[0] % len(records), flip[1]
        start = sum(len(r) for r in records[:which]) + 12
        buf[start + flip[0] % (len(datas[which]) + 4)] ^= mask
    view = tfevents._Views(bytes(buf))
    framed = tfevents._frame(view)
    assert framed is not None
    st_, ln, _ = framed
    reader = tfevents.EventFileTail(candidate_for_bytes())
    columns = reader._decode_framed(view, st_, ln, [])
    if flip is not None:
        assert columns is None
        return
    assert columns is not None
    got = {
        c.metric: list(zip(c.steps.tolist(), c.values.tolist(), c.walls.tolist(), strict=True))
        for c in columns
    }
    want: dict[str, list] = {}
    for data in datas:
        wall, step, scalars = tfevents.decode_event(data)
        for tag, value in scalars:
            want.setdefault(tag, []).append((float(step), value, wall))
    assert got == want


def candidate_for_bytes():
    from waitwise_tui.core.runs.model import RunCandidate

    return RunCandidate("events.out.tfevents.0", "tfevents", "run")
