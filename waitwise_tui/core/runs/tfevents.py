"""TensorBoard event files (``events.out.tfevents.*``) read without TensorFlow.

A file is a sequence of TFRecords: uint64 length, masked CRC32C of the length bytes,
the data, masked CRC32C of the data. The data is an ``Event`` protobuf decoded by hand:
``wall_time`` (1, double), ``step`` (2, int64) and ``summary`` (5) whose values carry a
scalar either as ``simple_value`` (PyTorch) or as a one-element tensor (TF2/Keras:
DT_FLOAT, DT_DOUBLE, DT_HALF in ``float_val``/``double_val``/``half_val`` or
``tensor_content``).

Speed: checksums use ``google-crc32c`` (a C CRC32C) when it is installed and fall back
to a pure-Python table (and numpy, one vectorised table step per byte column, for many
records at once) when it is not. A poll that brings at least ``BULK_BYTES`` is decoded
many records per call: the record framing is walked once, the length checksums of all
records are checked together with numpy, and the common PyTorch ``simple_value`` layout
is decoded with numpy gathers into one ``Column`` per tag (no Python object per
scalar). Small appends decode into ``Point``s, the common layout with one regex match.
Corrupted records are skipped and counted; a half-written last record waits.

``resync`` finds the next record boundary from any offset (a header whose length CRC
checks out and whose data CRC checks out too), so a huge file can be read from its tail
first (see ``tail.FileTail``) and a corrupted length skips only the bad record.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Callable
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
    table = np.array(_TABLE, dtype=np.uint32)
    st = np.array(starts, dtype=np.int64)
    ln = np.array(lengths, dtype=np.int64)

    def masked(pos: np.ndarray, width: int) -> np.ndarray:
        crc = np.full(len(pos), 0xFFFFFFFF, dtype=np.uint32)
        for j in range(width):
            crc = table[(crc ^ raw[pos + j]) & 0xFF] ^ (crc >> 8)
        crc ^= np.uint32(0xFFFFFFFF)
        return ((crc >> 15) | (crc << 17)) + np.uint32(_MASK_DELTA)

    def stored(pos: np.ndarray) -> np.ndarray:
        b = [raw[pos + k].astype(np.uint32) for k in range(4)]
        return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)

    head = masked(st, 8) == stored(st + 8)
    data = np.ones(len(st), dtype=bool)
    for length in np.unique(ln):
        if length > _BIG_RECORD:
            continue
        sel = np.nonzero(ln == length)[0]
        pos = st[sel] + 12
        data[sel] = masked(pos, int(length)) == stored(pos + int(length))
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
    crc ^= np.uint32(0xFFFFFFFF)
    return ((crc >> 15) | (crc << 17)) + np.uint32(_MASK_DELTA)


def _np_stored(raw: Any, pos: Any) -> Any:
    """The little-endian uint32 at each ``p`` in ``pos``."""
    import numpy as np

    b = [raw[pos + k].astype(np.uint32) for k in range(4)]
    return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)


_NP_TABLES: list[Any] = []


def _np_tables() -> tuple[Any, Any, Any, Any]:
    """The CRC32C table and its slicing-by-4 companions, as uint32 arrays."""
    if not _NP_TABLES:
        import numpy as np

        t0 = np.array(_TABLE, dtype=np.uint32)
        tables = [t0]
        for _ in range(3):
            prev = tables[-1]
            tables.append((prev >> 8) ^ t0[prev & 0xFF])
        _NP_TABLES.extend(tables)
    t0, t1, t2, t3 = _NP_TABLES
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

    def _restart(self) -> None:
        self._buf = b""

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
        pos = self._consume_fast(buf, out)
        bad = 0
        if pos is None:
            del out[mark:]
            pos, bad = self._consume_careful(buf, out)
        self._buf = buf[pos:]
        if bad:
            self.errors += bad
            msg = f"{os.path.basename(self._path)}: skipped {bad} corrupted record(s)"
            update.error = msg if update.error is None else f"{update.error}; {msg}"

    def _consume_bulk(self, buf: bytes, update: ReadUpdate) -> int | None:
        """Decode every complete record of ``buf`` into columns, many per call.

        Returns where the unread bytes start, or None (nothing added) when a checksum
        failed or a record is not an Event: the careful path redoes the buffer.
        """
        import numpy as np

        raw = np.frombuffer(buf, dtype=np.uint8)
        framed = _frame(raw)
        if framed is not None:
            st, ln, pos = framed  # header CRCs checked while framing
            crcs: list[int] = []
        else:
            walked = _walk(buf)
            if walked is None:
                return None
            starts, lengths, crcs, pos = walked
            st = np.array(starts, dtype=np.int64)
            ln = np.array(lengths, dtype=np.int64)
            if len(st) and not (_np_masked(raw, st, 8) == _np_stored(raw, st + 8)).all():
                return None
        if not len(st):
            return pos
        if not _data_crcs_ok(raw, crcs, st, ln):
            return None
        simple, tag_ids, names, steps, values, walls = self._decode_simple(raw, st, ln)
        general: list[tuple[int, Point]] = []
        for i in np.flatnonzero(~simple).tolist():
            found: list[Point] = []
            if not self._decode(buf, int(st[i]), int(ln[i]), found):
                return None
            general.extend((i, p) for p in found)
        update.columns.extend(_group(simple, tag_ids, names, steps, values, walls, general))
        return pos

    def _decode_simple(self, raw: Any, st: Any, ln: Any) -> tuple[Any, ...]:
        """The PyTorch ``simple_value`` records among ``st``, decoded with numpy gathers.

        Returns (mask of simple records, tag id per simple record, tag names, steps,
        values, wall times), the arrays over the simple records in file order.
        """
        import numpy as np

        d = st + 12

        def at(idx: Any) -> Any:
            return raw.take(idx, mode="clip")

        ok = (ln >= 24) & (ln < 1 << 14) & (at(d) == 0x09)
        has_step = at(d + 9) == 0x10
        # Steps are varints of up to 10 bytes; look at as many as the longest needs.
        span = 1
        while span < 10 and (at(d + 9 + span)[has_step] >= 0x80).any():
            span += 1
        varint = at((d + 10)[:, None] + np.arange(span))
        more = varint >= 0x80
        width = np.argmin(more, axis=1) + 1
        ok &= ~more.all(axis=1) | ~has_step  # a varint of 10 bytes ends by then
        p = np.where(has_step, d + 10 + width, d + 9)
        l1, l2, l3 = at(p + 1).astype(np.int64), at(p + 3).astype(np.int64), at(p + 5)
        ok &= (at(p) == 0x2A) & (at(p + 2) == 0x0A) & (at(p + 4) == 0x0A)
        ok &= (l1 < 0x80) & (l1 == l2 + 2) & (l2 == l3.astype(np.int64) + 7) & (l3 > 0)
        ok &= (p + 2 + l1 == d + ln) & (at(d + ln - 5) == 0x15)
        sel = np.flatnonzero(ok)
        d, p, l3, ln, width = d[sel], p[sel], l3[sel], ln[sel], width[sel]
        has_step, varint = has_step[sel], varint[sel]
        walls = raw[(d + 1)[:, None] + np.arange(8)].copy().view("<f8").ravel()
        values = raw[(d + ln - 4)[:, None] + np.arange(4)].copy().view("<f4").ravel()
        step = np.zeros(len(sel), dtype=np.uint64)
        for k in range(span):
            part = (varint[:, k] & 0x7F).astype(np.uint64) << np.uint64(7 * k)
            step |= np.where(has_step & (width > k), part, np.uint64(0))
        steps = step.view(np.int64).astype(np.float64)
        tag_ids = np.empty(len(sel), dtype=np.int64)
        names: list[str] = []
        for size in np.unique(l3).tolist():
            group = np.flatnonzero(l3 == size)
            rows = raw[(p[group] + 6)[:, None] + np.arange(size)]
            todo = np.arange(len(group))
            while len(todo):
                rep = rows[todo[0]]
                same = (rows[todo] == rep).all(axis=1)
                tag_b = rep.tobytes()
                tag = self._tags.get(tag_b)
                if tag is None:
                    tag = self._tags[tag_b] = tag_b.decode("utf-8", "replace")
                tag_ids[group[todo[same]]] = len(names)
                names.append(tag)
                todo = todo[~same]
        return ok, tag_ids, names, steps, values.astype(np.float64), walls

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


def _frame(raw: Any) -> tuple[Any, Any, int] | None:
    """Record starts, lengths and the end of the last whole record, found with numpy.

    A record header is a uint64 length below 2**24 (its top five bytes zero) whose
    masked CRC follows it. Every such position is found at once; when they chain
    exactly (each record ends where the next begins, the first at 0), that is the
    framing. Otherwise (a false match inside a big record, corruption) None: the caller
    walks the framing record by record.
    """
    import numpy as np

    n = len(raw)
    if n < 16:
        return None
    zero = raw == 0
    maybe = zero[3 : n - 4] & zero[4 : n - 3] & zero[5 : n - 2] & zero[6 : n - 1] & zero[7:n]
    cand = np.flatnonzero(maybe[: n - 11])
    if not len(cand) or cand[0] != 0:
        return None
    # Cheap before the CRC: a header follows a header (or 0) and leads to one (or past
    # the buffer's usable end). Zero runs in values rarely do both.
    ends = cand + 16 + _u24(raw, cand)
    is_cand = np.zeros(n + 1, dtype=bool)
    is_cand[cand] = True
    is_end = np.zeros(n + 1, dtype=bool)
    is_end[ends[ends <= n]] = True
    is_end[0] = True
    cand = cand[is_end[cand] & ((ends > n - 12) | is_cand[np.minimum(ends, n)])]
    cand = cand[_np_masked(raw, cand, 8) == _np_stored(raw, cand + 8)]
    lengths = _u24(raw, cand)
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


def _u24(raw: Any, pos: Any) -> Any:
    import numpy as np

    return (
        raw[pos].astype(np.int64)
        | (raw[pos + 1].astype(np.int64) << 8)
        | (raw[pos + 2].astype(np.int64) << 16)
    )


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
        masked = ((computed >> 15) | (computed << 17)) + np.uint32(_MASK_DELTA)
        return bool(((masked == _np_stored(raw, st + 12 + ln)) | ~small).all())
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
