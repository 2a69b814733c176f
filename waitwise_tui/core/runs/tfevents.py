"""TensorBoard event files (``events.out.tfevents.*``) read without TensorFlow.

A file is a sequence of TFRecords: uint64 length, masked CRC32C of the length bytes,
the data, masked CRC32C of the data. The data is an ``Event`` protobuf decoded by hand:
``wall_time`` (1, double), ``step`` (2, int64) and ``summary`` (5) whose values carry a
scalar either as ``simple_value`` (PyTorch) or as a one-element tensor (TF2/Keras:
DT_FLOAT, DT_DOUBLE, DT_HALF in ``float_val``/``double_val``/``half_val`` or
``tensor_content``).

Speed: single checksums use ``google-crc32c`` (a C CRC32C) when it is installed and
fall back to a pure-Python table. A poll that brings at least ``BULK_BYTES`` is decoded
many records per call (``_consume_bulk``): the framing is found with numpy (every
zero-run header candidate, its length CRC from two table lookups, kept when the
records chain); each field of every record is one gather of an unaligned word
(``_Views``); the common PyTorch ``simple_value`` layout becomes one ``Column`` per tag,
its data CRCs computed from per-position tables (``_simple_crcs``: CRC32C is affine, so
only the bytes that differ within a tag's records are looked up). Framed chunks decode
on a small thread pool (numpy releases the GIL) and join the poll in file order. Small
appends decode into ``Point``s, the common layout with one regex match. Corrupted
records are skipped and counted; a half-written last record waits.

``resync`` finds the next record boundary from any offset (a header whose length CRC
checks out and whose data CRC checks out too), so a huge file can be read from its tail
first (see ``tail.FileTail``) and a corrupted length skips only the bad record.
"""

from __future__ import annotations

import collections
import functools
import os
import re
import struct
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from waitwise_tui.core.runs.model import Column, Point, ReadUpdate, RunCandidate
from waitwise_tui.core.runs.tail import FileTail, as_columns

_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")
_F64 = struct.Struct("<d")
_F32 = struct.Struct("<f")
_F16 = struct.Struct("<e")
_MASK_DELTA = 0xA282EAD8
# Records above this size are images/graphs; their data CRC is checked only when they
# turn out to hold a scalar, so big non-scalar records cost no checksum time.
_BIG_RECORD = 4096
# Below this many records the numpy set-up costs more than a plain loop.
_NUMPY_MIN = 32
_DT_FLOAT, _DT_DOUBLE, _DT_HALF = 1, 2, 19
# New bytes in one poll from which records are decoded in bulk into columns.
BULK_BYTES = 256 * 1024
# A length above this is taken for a corrupted header by ``resync`` (a real record
# this big would be a huge image, never a scalar).
_MAX_RECORD = 1 << 30

# PyTorch SummaryWriter.add_scalar layout: wall_time, optional step, one Summary.Value
# holding a tag and a simple_value. Anything else goes through the general decoder.
_SIMPLE = re.compile(
    rb"\x09(.{8})(?:\x10([\x80-\xff]{0,9}[\x00-\x7f]))?\x2a([\x00-\x7f])\x0a([\x00-\x7f])"
    rb"\x0a([\x00-\x7f])(.*)\x15(.{4})",
    re.S,
)

# The same layout with the record framing around it, to walk and decode in one match.
_SIMPLE_RECORD = re.compile(
    rb"(.{8}).{4}\x09(.{8})(?:\x10([\x80-\xff]{0,9}[\x00-\x7f]))?\x2a[\x00-\x7f]"
    rb"\x0a[\x00-\x7f]\x0a([\x00-\x7f])(.*?)\x15(.{4}).{4}",
    re.S,
)


def _make_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _make_table()


def _crc32c_py(data: bytes) -> int:
    """CRC32C (Castagnoli) of ``data``, table driven (the fallback)."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _c_crc32c() -> Callable[[bytes], int] | None:
    """google-crc32c's C CRC32C, or None when only its pure-Python build is there."""
    try:
        import google_crc32c
    except ImportError:
        return None
    if getattr(google_crc32c, "implementation", "") != "c":
        return None
    return google_crc32c.value


_C_CRC32C = _c_crc32c()


def crc32c(data: bytes) -> int:
    """CRC32C (Castagnoli) of ``data``: the C one when installed, else table driven."""
    if _C_CRC32C is not None:
        return _C_CRC32C(bytes(data))
    return _crc32c_py(data)


def masked_crc32c(data: bytes) -> int:
    """The masked CRC32C TFRecord framing stores."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def _header_ok(buf: bytes, pos: int) -> bool:
    return masked_crc32c(buf[pos : pos + 8]) == _U32.unpack_from(buf, pos + 8)[0]


def starts_with_record(data: bytes) -> bool:
    """True when ``data`` begins with a TFRecord header whose length CRC checks out."""
    return len(data) >= 12 and _header_ok(data, 0)


def _data_ok(buf: bytes, pos: int, length: int) -> bool:
    start = pos + 12
    return masked_crc32c(buf[start : start + length]) == _U32.unpack_from(buf, start + length)[0]


def _check_many(buf: bytes, starts: list[int], lengths: list[int]) -> tuple[list[bool], list[bool]]:
    """Header and data CRC verdicts for many records, vectorised over records."""
    import numpy as np

    raw = np.frombuffer(buf, dtype=np.uint8)
    st = np.array(starts, dtype=np.int64)
    ln = np.array(lengths, dtype=np.int64)
    head = _np_masked(raw, st, 8) == _np_stored(raw, st + 8)
    data = np.ones(len(st), dtype=bool)
    for length in np.unique(ln):
        if length > _BIG_RECORD:
            continue
        sel = np.nonzero(ln == length)[0]
        pos = st[sel] + 12
        data[sel] = _np_masked(raw, pos, int(length)) == _np_stored(raw, pos + int(length))
    return head.tolist(), data.tolist()


def _verify(buf: bytes, starts: list[int], lengths: list[int]) -> tuple[list[bool], list[bool]]:
    """Each record's header and data checksums (data of huge records is trusted here
    and checked only if they hold scalars, see ``_decode``); numpy for many records."""
    if len(starts) >= _NUMPY_MIN:
        return _check_many(buf, starts, lengths)
    heads = [_header_ok(buf, s) for s in starts]
    datas = [
        h and (ln > _BIG_RECORD or _data_ok(buf, s, ln))
        for s, ln, h in zip(starts, lengths, heads, strict=True)
    ]
    return heads, datas


def _np_masked(raw: Any, pos: Any, width: int) -> Any:
    """Masked CRC32C of ``raw[p : p + width]`` for every ``p`` in ``pos``, vectorised.

    Slicing by 4: four bytes per step through four derived tables, a quarter of the
    passes of the byte-wise table loop (same results).
    """
    import numpy as np

    t0, t1, t2, t3 = _np_tables()
    crc = np.full(len(pos), 0xFFFFFFFF, dtype=np.uint32)
    j = 0
    while j + 4 <= width:
        word = raw[pos + j].astype(np.uint32)
        word |= raw[pos + j + 1].astype(np.uint32) << 8
        word |= raw[pos + j + 2].astype(np.uint32) << 16
        word |= raw[pos + j + 3].astype(np.uint32) << 24
        word ^= crc
        crc = t3[word & 0xFF] ^ t2[(word >> 8) & 0xFF] ^ t1[(word >> 16) & 0xFF] ^ t0[word >> 24]
        j += 4
    for k in range(j, width):
        crc = t0[(crc ^ raw[pos + k]) & 0xFF] ^ (crc >> 8)
    return _np_mask(crc ^ np.uint32(0xFFFFFFFF))


def _np_mask(crc: Any) -> Any:
    """``masked_crc32c``'s masking of many uint32 CRCs at once."""
    import numpy as np

    return ((crc >> 15) | (crc << 17)) + np.uint32(_MASK_DELTA)


def _np_stored(raw: Any, pos: Any) -> Any:
    """The little-endian uint32 at each ``p`` in ``pos``."""
    import numpy as np

    b = [raw[pos + k].astype(np.uint32) for k in range(4)]
    return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)


def _np_tables() -> tuple[Any, Any, Any, Any]:
    """The CRC32C table and its slicing-by-4 companions: rows 0-3 of ``_crc_rows``."""
    t0, t1, t2, t3 = _crc_rows().reshape(-1, 256)[:4]
    return t0, t1, t2, t3


def resync(buf: bytes, pos: int = 0) -> int | None:
    """The first offset at or after ``pos`` where a whole, intact record starts.

    A record boundary is where the 8 length bytes match their masked CRC and the data
    that length spans matches its own CRC (a record running past the end of ``buf``
    is taken on its length CRC alone). None when no boundary is in ``buf``. Candidates
    are found with numpy: lengths below ``_MAX_RECORD`` have zero high bytes, and the
    length CRC of every such offset is checked at once.
    """
    import numpy as np

    n = len(buf)
    if n - pos < 12:
        return None
    raw = np.frombuffer(buf, dtype=np.uint8)
    window = 1 << 16
    lo = pos
    while lo + 12 <= n:
        hi = min(n - 11, lo + window)
        seg = raw[lo : hi + 7]
        m = hi - lo
        # Byte 4..7 of a length below 2**32 are zero (our cap is 2**30).
        zero = (seg[4 : 4 + m] == 0) & (seg[5 : 5 + m] == 0)
        zero &= (seg[6 : 6 + m] == 0) & (seg[7 : 7 + m] == 0)
        cand = np.flatnonzero(zero) + lo
        if len(cand):
            good = cand[_np_masked(raw, cand, 8) == _np_stored(raw, cand + 8)]
            for start in good.tolist():
                length = _U64.unpack_from(buf, start)[0]
                if length > _MAX_RECORD:
                    continue
                if start + 16 + length > n or _data_ok(buf, start, length):
                    return start
        lo = hi
    return None


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _int64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _fields(buf: bytes, pos: int, end: int):
    """Yield (field number, wire type, value) of one message; value is an int or bytes."""
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value = buf[pos : pos + 8]
            pos += 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value = buf[pos : pos + size]
            pos += size
        elif wire == 5:
            value = buf[pos : pos + 4]
            pos += 4
        else:
            raise ValueError("unsupported wire type")
        if pos > end:
            raise ValueError("field runs past the message")
        yield number, wire, value


def _tensor_scalar(data: bytes) -> float | None:
    """The single value of a TensorProto holding one float, double or half, else None."""
    dtype = 0
    values: list[float] = []
    content = b""
    for number, wire, value in _fields(data, 0, len(data)):
        if number == 1 and wire == 0:
            dtype = value
        elif number == 4 and wire == 2:
            content = value
        elif number == 5:
            if wire == 2:
                values.extend(v for (v,) in _F32.iter_unpack(value[: len(value) // 4 * 4]))
            elif wire == 5:
                values.append(_F32.unpack(value)[0])
        elif number == 6:
            if wire == 2:
                values.extend(v for (v,) in _F64.iter_unpack(value[: len(value) // 8 * 8]))
            elif wire == 1:
                values.append(_F64.unpack(value)[0])
        elif number == 13:
            if wire == 2:
                pos = 0
                while pos < len(value):
                    half, pos = _varint(value, pos)
                    values.append(_F16.unpack((half & 0xFFFF).to_bytes(2, "little"))[0])
            elif wire == 0:
                values.append(_F16.unpack((value & 0xFFFF).to_bytes(2, "little"))[0])
    if dtype == _DT_FLOAT:
        fmt = _F32
    elif dtype == _DT_DOUBLE:
        fmt = _F64
    elif dtype == _DT_HALF:
        fmt = _F16
    else:
        return None
    if content:
        return fmt.unpack(content)[0] if len(content) == fmt.size else None
    return values[0] if len(values) == 1 else None


def decode_event(data: bytes) -> tuple[float | None, int, list[tuple[str, float]]]:
    """(wall_time, step, [(tag, value)]) of one Event; raises ValueError on bad bytes."""
    wall: float | None = None
    step = 0
    scalars: list[tuple[str, float]] = []
    try:
        for number, wire, value in _fields(data, 0, len(data)):
            if number == 1 and wire == 1:
                wall = _F64.unpack(value)[0]
            elif number == 2 and wire == 0:
                step = _int64(value)
            elif number == 5 and wire == 2:
                for vnum, vwire, vdata in _fields(value, 0, len(value)):
                    if vnum == 1 and vwire == 2:
                        scalar = _summary_value(vdata)
                        if scalar is not None:
                            scalars.append(scalar)
    except (IndexError, struct.error) as exc:
        raise ValueError("truncated protobuf") from exc
    return wall, step, scalars


def _summary_value(data: bytes) -> tuple[str, float] | None:
    tag = ""
    value: float | None = None
    for number, wire, field in _fields(data, 0, len(data)):
        if number == 1 and wire == 2:
            tag = field.decode("utf-8", "replace")
        elif number == 2 and wire == 5:
            value = _F32.unpack(field)[0]
        elif number == 8 and wire == 2:
            value = _tensor_scalar(field)
    if value is None or not tag:
        return None
    return tag, value


def _workers() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return min(4, cpus)


# Chunks in flight per file: bounds the bytes and columns held while they decode.
_INFLIGHT = 2 * _workers()
_POOL: list[ThreadPoolExecutor | None] = []
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor | None:
    """The threads that decode framed chunks; None on a single CPU (decode inline).

    The bulk decoding is numpy work that releases the GIL, so chunks decode in
    parallel while the reading thread frames the next one.
    """
    with _POOL_LOCK:
        if not _POOL:
            workers = _workers()
            _POOL.append(
                ThreadPoolExecutor(workers, thread_name_prefix="tfevents-decode")
                if workers > 1
                else None
            )
        return _POOL[0]


class EventFileTail(FileTail):
    """Tails one event file; complete records become points, a partial one waits.

    A huge file opens tail first (see ``tail.FileTail``), synced by ``resync``.
    """

    tail_first = True

    def __init__(self, candidate: RunCandidate) -> None:
        super().__init__(candidate)
        self._buf = b""
        self._tags: dict[bytes, str] = {}
        self.errors = 0
        # Framed chunks being decoded on the pool, oldest first: (future, bytes, end).
        self._pending: collections.deque[tuple[Future[list[Column] | None], bytes, int]] = (
            collections.deque()
        )

    def _restart(self) -> None:
        self._buf = b""
        for future, _, _ in self._pending:
            future.cancel()
        self._pending.clear()

    def _finish_poll(self, update: ReadUpdate) -> None:
        self._drain(update)

    def _sync(self, window: bytes) -> int | None:
        return resync(window)

    def _consume(self, data: bytes, update: ReadUpdate) -> None:
        buf = self._buf + data if self._buf else data
        out = update.points
        mark = len(out)
        pos = None
        if not out and len(buf) >= BULK_BYTES:
            # Columns come before points within a poll: bulk only until points appear.
            pos = self._consume_bulk(buf, update)
            if pos is not None:
                self._buf = buf[pos:]
                return
        self._drain(update)  # the pool's columns come before these points
        pos = self._consume_fast(buf, out)
        bad = 0
        if pos is None:
            del out[mark:]
            pos, bad = self._consume_careful(buf, out)
        self._buf = buf[pos:]
        self._count_bad(bad, update)

    def _count_bad(self, bad: int, update: ReadUpdate) -> None:
        if bad:
            self.errors += bad
            msg = f"{os.path.basename(self._path)}: skipped {bad} corrupted record(s)"
            update.error = msg if update.error is None else f"{update.error}; {msg}"

    def _consume_bulk(self, buf: bytes, update: ReadUpdate) -> int | None:
        """Decode every complete record of ``buf`` into columns, many per call.

        When the numpy framing finds the records, their decoding goes to the decode
        pool (see ``_pool``) and its columns join ``update`` in order, at the latest
        when the poll ends. Returns where the unread bytes start, or None (nothing
        added) when the framing had to be walked and a checksum failed or a record is
        not an Event: the careful path redoes the buffer.
        """
        import numpy as np

        view = _Views(buf)
        framed = _frame(view)
        if framed is not None:
            st, ln, pos = framed  # header CRCs checked while framing
            if len(st):
                self._submit(view, st, ln, pos, update)
            return pos
        self._drain(update)
        walked = _walk(buf)
        if walked is None:
            return None
        starts, lengths, crcs, pos = walked
        st = np.array(starts, dtype=np.int64)
        ln = np.array(lengths, dtype=np.int64)
        raw = view.raw
        if len(st) and not (_np_masked(raw, st, 8) == _np_stored(raw, st + 8)).all():
            return None
        if not len(st):
            return pos
        columns = self._decode_framed(view, st, ln, crcs)
        if columns is None:
            return None
        update.columns.extend(columns)
        return pos

    def _submit(self, view: _Views, st: Any, ln: Any, pos: int, update: ReadUpdate) -> None:
        """Decode framed records on the pool; keep at most ``_INFLIGHT`` chunks there."""
        pool = _pool()
        if pool is None:
            future: Future[list[Column] | None] = Future()
            future.set_result(self._decode_framed(view, st, ln, []))
        else:
            future = pool.submit(self._decode_framed, view, st, ln, [])
        self._pending.append((future, view.buf, pos))
        while len(self._pending) > _INFLIGHT:
            self._resolve_one(update)

    def _resolve_one(self, update: ReadUpdate) -> None:
        future, buf, pos = self._pending.popleft()
        columns = future.result()
        if columns is None:
            # A data CRC failed or a record is no Event: verify record by record.
            out: list[Point] = []
            _, bad = self._consume_careful(buf[:pos], out)
            self._count_bad(bad, update)
            columns = as_columns(out)
        update.columns.extend(columns)

    def _drain(self, update: ReadUpdate) -> None:
        while self._pending:
            self._resolve_one(update)

    def _decode_framed(
        self, view: _Views, st: Any, ln: Any, crcs: list[int]
    ) -> list[Column] | None:
        """Columns of the framed records ``st``/``ln`` of ``view`` (header CRCs checked),
        or None when a data CRC fails or a record is not an Event. ``crcs``: the plain
        data CRCs from the walk, or empty (then they are checked here)."""
        import numpy as np

        raw = view.raw
        simple, tag_ids, names, steps, values, walls, crc_ok = self._decode_simple(view, st, ln)
        if crcs:
            if not _data_crcs_ok(raw, crcs, st, ln):
                return None
        elif not crc_ok.all() or not _data_crcs_ok(raw, [], st[~simple], ln[~simple]):
            return None
        general: list[tuple[int, Point]] = []
        buf = view.buf
        for i in np.flatnonzero(~simple).tolist():
            found: list[Point] = []
            if not self._decode(buf, int(st[i]), int(ln[i]), found):
                return None
            general.extend((i, p) for p in found)
        return _group(simple, tag_ids, names, steps, values, walls, general)

    def _decode_simple(self, view: _Views, st: Any, ln: Any) -> tuple[Any, ...]:
        """The PyTorch ``simple_value`` records among ``st``, decoded with numpy gathers.

        Returns (mask of simple records, tag id per simple record, tag names, steps,
        values, wall times, data CRC verdict of every simple record), the arrays over
        the simple records in file order. Each field is one gather of an unaligned
        little-endian word (see ``_Views``); the data CRCs come from the same words
        (see ``_simple_crcs``).
        """
        import numpy as np

        raw, u64 = view.raw, view.u64
        simple = np.zeros(len(st), dtype=bool)
        # Every gather below stays inside the record: 24 <= length < _CRC_ROWS.
        first = np.flatnonzero((ln >= 24) & (ln < _CRC_ROWS))
        d = st[first] + 12
        ln = ln[first]
        g0 = u64[d]  # 0x09, wall time bytes 0..6
        g1 = u64[d + 8]  # wall time byte 7, 0x10, the step varint's first 6 bytes
        ok = (g0 & np.uint64(0xFF)) == np.uint64(0x09)
        has_step = ((g1 >> np.uint64(8)) & np.uint64(0xFF)) == np.uint64(0x10)
        sv = g1 >> np.uint64(16)  # steps below 2**42 (wider ones: the general decoder)
        # Varint width: 1 + how many leading bytes carry the continuation bit.
        width = np.ones(len(d), dtype=np.int64)
        run = has_step.copy()
        span = 1
        for k in range(6):
            run &= (sv & np.uint64(0x80 << (8 * k))) != 0
            if not run.any():
                break
            width += run
            span = k + 2
        ok &= ~run
        width *= has_step
        p = d + 9 + has_step * (1 + width)
        hp = u64[np.minimum(p, len(u64) - 1)]
        ok &= (hp & np.uint64(0xFF00FF00FF)) == np.uint64(0x0A000A002A)
        l1 = ((hp >> np.uint64(8)) & np.uint64(0xFF)).astype(np.int64)
        l2 = ((hp >> np.uint64(24)) & np.uint64(0xFF)).astype(np.int64)
        l3 = ((hp >> np.uint64(40)) & np.uint64(0xFF)).astype(np.int64)
        ok &= (l1 < 0x80) & (l1 == l2 + 2) & (l2 == l3 + 7) & (l3 > 0)
        ok &= p + 2 + l1 == d + ln
        tail = u64[d + ln - 5]  # 0x15, the value, the data CRC's first 3 bytes
        ok &= (tail & np.uint64(0xFF)) == np.uint64(0x15)
        sel = np.flatnonzero(ok)
        simple[first[sel]] = True
        d, p, l3, ln, width, sv = d[sel], p[sel], l3[sel], ln[sel], width[sel], sv[sel]
        wall_w = (g0[sel] >> np.uint64(8)) | (g1[sel] << np.uint64(56))
        value_w = ((tail[sel] >> np.uint64(8)) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        step = np.zeros(len(sel), dtype=np.uint64)
        for k in range(span):
            part = ((sv >> np.uint64(8 * k)) & np.uint64(0x7F)) << np.uint64(7 * k)
            step |= np.where(width > k, part, np.uint64(0))
        steps = step.view(np.int64).astype(np.float64)
        tag_ids = np.empty(len(sel), dtype=np.int64)
        names: list[str] = []
        for size in np.flatnonzero(np.bincount(l3)).tolist():
            group = np.flatnonzero(l3 == size)
            rows = _tag_words(u64, p[group] + 6, size)
            todo = np.arange(len(group))
            while len(todo):
                rep = rows[todo[0]]
                same = (rows[todo] == rep).all(axis=1)
                at = int(p[group[todo[0]]]) + 6
                tag_b = raw[at : at + size].tobytes()
                tag = self._tags.get(tag_b)
                if tag is None:
                    tag = self._tags[tag_b] = tag_b.decode("utf-8", "replace")
                tag_ids[group[todo[same]]] = len(names)
                names.append(tag)
                todo = todo[~same]
        crc_ok = _simple_crcs(view, d, ln, tag_ids * 16 + width, wall_w, sv, width, value_w)
        walls = wall_w.view("<f8")
        values = value_w.view("<f4").astype(np.float64)
        return simple, tag_ids, names, steps, values, walls, crc_ok

    def _consume_fast(self, buf: bytes, out: list[Point]) -> int | None:
        """Decode records optimistically, then check all CRCs at once.

        Returns where the unread bytes start, or None (with ``out`` left to the caller
        to trim) when a checksum failed and the careful path must redo the buffer.
        """
        n = len(buf)
        pos = 0
        starts: list[int] = []
        lengths: list[int] = []
        match = _SIMPLE_RECORD.match
        unpack = _U64.unpack_from
        f64 = _F64.unpack
        f32 = _F32.unpack
        tags = self._tags
        append = out.append
        while pos + 12 <= n:
            m = match(buf, pos)
            if m is not None:
                len_b, wall_b, step_b, l3, tag_b, val_b = m.groups()
                end = m.end()
                length = end - pos - 16
                size = len(tag_b)
                # A tag containing 0x15 can end the lazy match early: the length
                # checks catch that and the record goes through the general decoder.
                if l3[0] == size and int.from_bytes(len_b, "little") == length:
                    width = len(step_b) if step_b is not None else 0
                    if width == 0:
                        step = 0
                    elif width == 1:
                        step = step_b[0]
                    elif width == 2:
                        step = (step_b[0] & 0x7F) | (step_b[1] << 7)
                    elif width == 3:
                        step = (step_b[0] & 0x7F) | ((step_b[1] & 0x7F) << 7) | (step_b[2] << 14)
                    else:
                        step = _int64(_varint(step_b, 0)[0])
                    tag = tags.get(tag_b)
                    if tag is None:
                        tag = tags[tag_b] = tag_b.decode("utf-8", "replace")
                    append(Point(tag, step, f32(val_b)[0], f64(wall_b)[0]))
                    starts.append(pos)
                    lengths.append(length)
                    pos = end
                    continue
            length = unpack(buf, pos)[0]
            end = pos + 16 + length
            if end > n:
                break
            starts.append(pos)
            lengths.append(length)
            self._decode(buf, pos, length, out)
            pos = end
        if pos + 12 <= n and not _header_ok(buf, pos):
            return None
        heads, datas = _verify(buf, starts, lengths)
        return pos if all(heads) and all(datas) else None

    def _consume_careful(self, buf: bytes, out: list[Point]) -> tuple[int, int]:
        """Verify each record before decoding it; skip and count corrupted ones."""
        bad = 0
        pos = 0
        n = len(buf)
        while True:
            starts: list[int] = []
            lengths: list[int] = []
            unpack = _U64.unpack_from
            while pos + 12 <= n:
                length = unpack(buf, pos)[0]
                end = pos + 16 + length
                if end > n:
                    break
                starts.append(pos)
                lengths.append(length)
                pos = end
            heads, datas = _verify(buf, starts, lengths)
            resync = None
            for i, (start, length) in enumerate(zip(starts, lengths, strict=True)):
                if not heads[i]:
                    resync = start
                    break
                if not datas[i]:
                    bad += 1
                    continue
                if not self._decode(buf, start, length, out):
                    bad += 1
            if resync is None and pos + 12 <= n and not _header_ok(buf, pos):
                resync = pos
            if resync is None:
                return pos, bad
            # A corrupted length: look for the next offset where a header checks out.
            bad += 1
            pos = self._resync(buf, resync + 1)

    @staticmethod
    def _resync(buf: bytes, pos: int) -> int:
        n = len(buf)
        while pos + 12 <= n:
            if _header_ok(buf, pos):
                return pos
            pos += 1
        # The last bytes stay buffered: they may start a header still being written.
        return pos

    def _decode(self, buf: bytes, start: int, length: int, out: list[Point]) -> bool:
        """Append the scalars of one record; False when its bytes are not an Event."""
        data = buf[start + 12 : start + 12 + length]
        m = _SIMPLE.fullmatch(data)
        if m is not None:
            wall_b, step_b, l1, l2, l3, tag_b, val_b = m.groups()
            if l3[0] == len(tag_b) and l2[0] == len(tag_b) + 7 and l1[0] == len(tag_b) + 9:
                if step_b is None:
                    step = 0
                elif len(step_b) == 1:
                    step = step_b[0]
                else:
                    step = _int64(_varint(step_b, 0)[0])
                tag = self._tags.get(tag_b)
                if tag is None:
                    tag = self._tags[tag_b] = tag_b.decode("utf-8", "replace")
                out.append(Point(tag, step, _F32.unpack(val_b)[0], _F64.unpack(wall_b)[0]))
                return True
        try:
            wall, step, scalars = decode_event(data)
        except ValueError:
            return False
        if scalars and length > _BIG_RECORD and not _data_ok(buf, start, length):
            return False
        out.extend(Point(tag, step, value, wall) for tag, value in scalars)
        return True


class _Views:
    """One buffer as bytes and as little-endian words starting at every offset.

    ``u32[i]`` and ``u64[i]`` are the 4 and 8 bytes at ``i`` (unaligned views with a
    one-byte stride, no copy), so a field of every record is one gather.
    """

    def __init__(self, buf: bytes) -> None:
        import numpy as np

        n = len(buf)
        self.buf = buf
        self.raw = np.frombuffer(buf, dtype=np.uint8)
        self.u32 = np.ndarray((max(n - 3, 0),), dtype="<u4", buffer=buf, strides=(1,))
        self.u64 = np.ndarray((max(n - 7, 0),), dtype="<u8", buffer=buf, strides=(1,))


# Data CRCs of simple records come from per-position tables: rows of ``_crc_rows()``.
_CRC_ROWS = 160


@functools.cache
def _crc_rows() -> Any:
    """``U[e][b]``: the linear part of CRC32C for byte ``b`` followed by ``e`` bytes.

    CRC32C is affine over GF(2): for messages of one length, the CRC of ``m`` is the
    CRC of a reference message of that length XOR ``U[e][m_i ^ r_i]`` over the
    positions where they differ (``e`` counted from the end). Row ``e + 1`` is row
    ``e`` advanced by one zero byte (the slicing-by-N tables, as many as needed).
    """
    import numpy as np

    t0 = np.array(_TABLE, dtype=np.uint32)
    rows = [t0]
    for _ in range(_CRC_ROWS - 1):
        prev = rows[-1]
        rows.append((prev >> 8) ^ t0[prev & 0xFF])
    return np.stack(rows).ravel()


def _spread(table: Any, words: Any, nbytes: int, last: Any) -> Any:
    """XOR over the ``nbytes`` low bytes of each word of ``U[e][byte]``, where the
    first byte's ``e`` is ``last`` (per word) and each next byte's is one less."""
    import numpy as np

    b = words.view(np.uint8).reshape(-1, words.itemsize)[:, :nbytes].T
    idx = (last * 256)[None, :] - (np.arange(nbytes) * 256)[:, None] + b
    return np.bitwise_xor.reduce(table.take(idx), axis=0)


def _simple_crcs(
    view: _Views, d: Any, ln: Any, group: Any, wall_w: Any, sv: Any, width: Any, value_w: Any
) -> Any:
    """Whether the data CRC of each decoded simple record checks out.

    Within one ``group`` (tag and step width, so one length) only the wall time, the
    step bytes and the value differ; every other byte was checked by the decoder.
    The CRC of the group's first record (computed whole) and the position tables of
    the differing bytes give every other record's CRC without reading its bytes.
    """
    import numpy as np

    if not len(d):
        return np.ones(0, dtype=bool)
    table = _crc_rows()
    contrib = _spread(table, wall_w, 8, ln - 2)
    contrib ^= _spread(table, value_w, 4, np.full(len(d), 3))
    span = int(width.max())
    if span:
        keep = np.zeros(len(d), dtype=np.uint64)
        for k in range(span):
            keep |= np.where(width > k, np.uint64(0xFF << (8 * k)), np.uint64(0))
        contrib ^= _spread(table, sv & keep, span, ln - 11)
    first = np.full(int(group.max()) + 1, -1, dtype=np.int64)
    first[group[::-1]] = np.arange(len(d) - 1, -1, -1)
    ref = np.zeros(len(first), dtype=np.uint32)
    for g in np.flatnonzero(first >= 0).tolist():
        i = int(first[g])
        start = int(d[i])
        whole = crc32c(view.raw[start : start + int(ln[i])].tobytes())
        ref[g] = whole ^ int(contrib[i])
    crc = ref[group] ^ contrib
    return _np_mask(crc) == view.u32[d + ln]


def _tag_words(u64: Any, at: Any, size: int) -> Any:
    """The ``size`` bytes at each ``at`` as rows of uint64 words (to compare tags)."""
    import numpy as np

    if size < 8:
        return (u64[at] & np.uint64((1 << (8 * size)) - 1))[:, None]
    cols = [u64[at + j] for j in range(0, size - 8, 8)]
    cols.append(u64[at + size - 8])
    return np.stack(cols, axis=1)


def _frame(view: _Views) -> tuple[Any, Any, int] | None:
    """Record starts, lengths and the end of the last whole record, found with numpy.

    A record header is a uint64 length below 2**24 (its top five bytes zero) whose
    masked CRC follows it. Every such position is found at once; when they chain
    exactly (each record ends where the next begins, the first at 0), that is the
    framing. Otherwise (a false match inside a big record, corruption) None: the caller
    walks the framing record by record.
    """
    import numpy as np

    raw = view.raw
    n = len(raw)
    if n < 16:
        return None
    zero = raw == 0
    pair = zero[3 : n - 1] & zero[4:n]  # bytes i+3, i+4 zero
    maybe = pair[: n - 6] & pair[2 : n - 4]  # bytes i+3 .. i+6
    maybe = maybe[: n - 11] & zero[7 : n - 4]  # and i+7
    cand = np.flatnonzero(maybe)
    if not len(cand) or cand[0] != 0:
        return None
    # Length CRCs of every candidate (two table lookups each, see ``_header_crcs``):
    # a zero run inside a value passes only by a 2**-32 chance, and the chain check
    # below would still catch it.
    lengths = view.u32[cand] & np.uint32(0xFFFFFF)
    good = _header_crcs(view, cand, lengths)
    cand, lengths = cand[good], lengths[good].astype(np.int64)
    ends = cand + 16 + lengths
    whole = ends <= n
    # Records only: a header whose record runs past the buffer is the unread rest.
    count = int(np.argmin(whole)) if not whole.all() else len(cand)
    st, ln, ends = cand[:count], lengths[:count], ends[:count]
    if count and (st[0] != 0 or not (st[1:] == ends[:-1]).all()):
        return None
    pos = int(ends[-1]) if count else 0
    if n - pos >= 12 and (count == len(cand) or cand[count] != pos):
        return None  # what follows is no record header: let the walk judge it
    return st, ln, pos


def _header_crcs(view: _Views, at: Any, lengths: Any) -> Any:
    """Whether the length CRC at each ``at`` checks out, for lengths below 2**24
    (five zero bytes: the CRC is that of 8 zero bytes XOR the entries of the three
    low bytes, the two lowest from one 65,536-entry table)."""
    import numpy as np

    low, third, zeros = _header_tables()
    lengths = lengths.astype(np.uint32, copy=False)
    crc = low.take(lengths & np.uint32(0xFFFF)) ^ third.take(lengths >> np.uint32(16))
    crc ^= zeros
    return _np_mask(crc) == view.u32[at + 8]


@functools.cache
def _header_tables() -> tuple[Any, Any, Any]:
    """(the two low length bytes' 65,536 entries, the third byte's 256, the CRC of
    eight zero bytes) for ``_header_crcs``."""
    import numpy as np

    rows = _crc_rows()
    two = np.arange(1 << 16)
    low = rows[7 * 256 + (two & 0xFF)] ^ rows[6 * 256 + (two >> 8)]
    return low, rows[5 * 256 : 6 * 256].copy(), np.uint32(crc32c(bytes(8)))


def _walk(buf: bytes) -> tuple[list[int], list[int], list[int], int] | None:
    """Record starts, lengths, data CRCs (with the C CRC32C) and the end, one by one."""
    n = len(buf)
    pos = 0
    starts: list[int] = []
    lengths: list[int] = []
    crcs: list[int] = []
    unpack = _U64.unpack_from
    add_start = starts.append
    add_length = lengths.append
    add_crc = crcs.append
    crc = _C_CRC32C
    # One pass walks the framing and (with the C CRC32C) checksums the data.
    while pos + 12 <= n:
        length = unpack(buf, pos)[0]
        end = pos + 16 + length
        if end > n:
            break
        add_start(pos)
        add_length(length)
        if crc is not None:
            add_crc(crc(buf[pos + 12 : end - 4]) if length <= _BIG_RECORD else 0)
        pos = end
    if pos + 12 <= n and not _header_ok(buf, pos):
        return None
    return starts, lengths, crcs, pos


def _data_crcs_ok(raw: Any, crcs: list[int], st: Any, ln: Any) -> bool:
    """Whether the data CRC of every record up to ``_BIG_RECORD`` bytes checks out
    (bigger ones are checked only if they hold scalars, see ``_decode``). ``crcs``
    holds the plain CRCs computed while walking, or is empty without the C CRC32C."""
    import numpy as np

    small = ln <= _BIG_RECORD
    if crcs:
        computed = np.array(crcs, dtype=np.uint32)
        return bool(((_np_mask(computed) == _np_stored(raw, st + 12 + ln)) | ~small).all())
    for length in np.unique(ln[small]).tolist():
        pos = st[ln == length] + 12
        if not (_np_masked(raw, pos, length) == _np_stored(raw, pos + length)).all():
            return False
    return True


def _group(
    simple: Any,
    tag_ids: Any,
    names: list[str],
    steps: Any,
    values: Any,
    walls: Any,
    general: list[tuple[int, Point]],
) -> list[Column]:
    """One column per tag, in file order, from bulk-decoded and general records."""
    import numpy as np

    if general:
        index = {name: i for i, name in enumerate(names)}
        extra_ids = []
        for _, point in general:
            if point.metric not in index:
                index[point.metric] = len(names)
                names.append(point.metric)
            extra_ids.append(index[point.metric])
        order_key = np.concatenate(
            [np.flatnonzero(simple), np.array([i for i, _ in general], dtype=np.int64)]
        )
        tag_ids = np.concatenate([tag_ids, np.array(extra_ids, dtype=np.int64)])
        steps = np.concatenate([steps, np.array([float(p.step) for _, p in general])])
        values = np.concatenate([values, np.array([p.value for _, p in general])])
        walls = np.concatenate(
            [walls, np.array([np.nan if p.wall_time is None else p.wall_time for _, p in general])]
        )
        order = np.argsort(order_key, kind="stable")
        tag_ids, steps, values, walls = tag_ids[order], steps[order], values[order], walls[order]
    if len(names) == 1:
        return [Column(names[0], steps, values, walls)]
    order = np.argsort(tag_ids, kind="stable")
    bounds = np.searchsorted(tag_ids[order], np.arange(len(names) + 1))
    out = []
    for i, name in enumerate(names):
        pick = order[bounds[i] : bounds[i + 1]]
        if len(pick):
            out.append(Column(name, steps[pick], values[pick], walls[pick]))
    return out


def is_event_file_name(name: str) -> bool:
    """True for TensorBoard event file names (``events.out.tfevents.<...>``)."""
    return name.startswith("events.out.tfevents.")


class TfeventsTail:
    """Tails a run directory: every event file in it, merged in file-name order.

    New event files are picked up on the next poll. A candidate whose path is a file
    tails just that file.
    """

    def __init__(self, candidate: RunCandidate) -> None:
        self.candidate = candidate
        self._files: dict[str, EventFileTail] = {}
        self._gone = False
        self._seen = False
        self._tail_first = True

    @property
    def errors(self) -> int:
        """Corrupted records skipped so far, over all files."""
        return sum(t.errors for t in self._files.values())

    def _paths(self) -> list[str] | None:
        path = self.candidate.path
        if os.path.isfile(path):
            return [path]
        try:
            names = sorted(n for n in os.listdir(path) if is_event_file_name(n))
        except OSError:
            return None
        return [os.path.join(path, n) for n in names]

    def _poll_all(self, paths: list[str], update: ReadUpdate) -> bool:
        """Poll every file into ``update``; True if one of them started over."""
        for path in paths:
            tail = self._files.get(path)
            if tail is None:
                tail = self._files[path] = EventFileTail(
                    RunCandidate(path, self.candidate.format, self.candidate.name)
                )
                # Tail first only for a run of one file: a fill hands over the whole
                # run, so no other file's scalars may be in the series by then.
                tail.tail_first = self._tail_first and len(paths) == 1
            part = tail.poll()
            update.history.extend(part.history)
            if part.reset and tail.filled and len(self._files) == 1:
                update.reset = True
                update.handover = part.handover
                update.columns[:] = part.columns
                update.points = []
                continue
            if part.reset:
                return True
            if part.loading is not None:
                done, total = update.loading or (0, 0)
                update.loading = (done + part.loading[0], total + part.loading[1])
            if part.columns:
                if update.points:
                    # Keep "columns before points": earlier files' points become columns.
                    update.columns.extend(as_columns(update.points))
                    update.points = []
                update.columns.extend(part.columns)
            update.points.extend(part.points)
            if part.error:
                update.error = (
                    part.error if update.error is None else f"{update.error}; {part.error}"
                )
        return False

    def poll(self) -> ReadUpdate:
        """Read new records of every event file of the run."""
        update = ReadUpdate()
        paths = self._paths()
        if paths is None or (not paths and self._seen):
            if self._seen and not self._gone:
                update.gone = True
            self._gone = True
            return update
        if self._gone:
            self._files.clear()
            update.reset = True
        self._gone = False
        self._seen = self._seen or bool(paths)
        if self._poll_all(paths, update):
            # One file was truncated or replaced: read the whole run again (not tail
            # first: the run has more than one file, or one came during the fill).
            self._files.clear()
            self._tail_first = False
            update = ReadUpdate(reset=True)
            self._poll_all(paths, update)
        return update

    def close(self) -> None:
        """Stop tailing every file."""
        for tail in self._files.values():
            tail.close()
        self._files.clear()
