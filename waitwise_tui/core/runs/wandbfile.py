"""Weights & Biases local run files: ``wandb/run-*/run-*.wandb`` (and ``offline-run-*``).

wandb writes every run, online or offline, to a local ``.wandb`` file: a 7-byte
header (``:W&B``, magic 0xBEE1, version) and then LevelDB-log framed records in
32 KiB blocks (per chunk: CRC-32 seeded with the chunk type, length, type FULL /
FIRST / MIDDLE / LAST; a block tail shorter than a chunk header is zero padding).
Each record is a protobuf ``Record`` of wandb's own schema, decoded with wandb's
generated classes, so reading needs ``wandb`` installed (``waitwise-tui[wandb]``);
without it the run is listed with a one-line hint instead of curves.

History records become scalars (``_step`` is the step, ``_timestamp`` the wall time,
other ``_`` keys are wandb's own); the run's config and its summary go to
``details``; the exit record's code gives the tracker status (FINISHED or FAILED).
The file is tailed by byte offset; an incomplete chunk at the end waits for the
next poll.
"""

from __future__ import annotations

import json
import struct
import zlib

from waitwise_tui.core.runs import stores
from waitwise_tui.core.runs.model import ReadUpdate, RunCandidate
from waitwise_tui.core.runs.tail import FileTail

MAGIC = b":W&B"
FILE_HEADER = 7
BLOCK = 32 * 1024
CHUNK_HEADER = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
_CRC_SEED = {t: zlib.crc32(bytes([t])) for t in (FULL, FIRST, MIDDLE, LAST)}
# A record larger than this (media, huge tables) is skipped, not buffered.
MAX_RECORD = 16 << 20
_MAX_VALUE = 1024
MISSING_HINT = "W&B run: install waitwise-tui[wandb] to read its curves"


def is_wandb_file(head: bytes) -> bool:
    return head.startswith(MAGIC) and len(head) >= FILE_HEADER and head[4:6] == b"\xe1\xbe"


def _record_class():
    try:
        from wandb.proto import wandb_internal_pb2
    except Exception:  # not installed, or a wandb whose import fails: same hint
        return None
    return wandb_internal_pb2.Record


class WandbTail(FileTail):
    """Tails one ``.wandb`` file record by record."""

    def __init__(self, candidate: RunCandidate) -> None:
        super().__init__(candidate)
        self._record = _record_class()
        self._hinted = False
        self._restart()

    def _restart(self) -> None:
        self._buf = b""
        self._pos = 0  # file offset of self._buf[0]
        self._pending: list[bytes] | None = None
        self._pending_size = 0
        self._details: dict[str, str] = {}
        self._status: str | None = None
        self._bad = False

    def poll(self) -> ReadUpdate:
        if self._record is None:
            update = ReadUpdate()
            if not self._hinted:
                self._hinted = True
                update.error = MISSING_HINT
            return update
        return super().poll()

    def _head_target(self) -> int:
        return FILE_HEADER

    def _consume(self, data: bytes, update: ReadUpdate) -> None:
        if self._bad:
            return
        buf = self._buf + data if self._buf else data
        at = 0
        if self._pos == 0:
            if len(buf) < FILE_HEADER:
                self._buf = buf
                return
            if not is_wandb_file(buf):
                self._bad = True
                update.error = "not a W&B run file"
                return
            at = FILE_HEADER
        changed = False
        scalars: list[tuple[str, float, float, float | None]] = []
        while True:
            offset = self._pos + at
            left = BLOCK - offset % BLOCK
            if left < CHUNK_HEADER:
                if len(buf) - at < left:
                    break
                at += left
                continue
            if len(buf) - at < CHUNK_HEADER:
                break
            crc, length, kind = struct.unpack_from("<IHB", buf, at)
            if length > left - CHUNK_HEADER or kind not in _CRC_SEED:
                self._bad = True
                update.error = f"W&B run file damaged at byte {offset}"
                break
            end = at + CHUNK_HEADER + length
            if len(buf) < end:
                break
            chunk = buf[at + CHUNK_HEADER : end]
            at = end
            if zlib.crc32(chunk, _CRC_SEED[kind]) != crc:
                self._bad = True
                update.error = f"W&B run file damaged at byte {offset} (checksum)"
                break
            record = self._assemble(kind, chunk)
            if record is not None:
                changed |= self._handle(record, scalars)
        self._pos += at
        self._buf = buf[at:]
        stores.add_scalars(update, scalars)
        if changed:
            update.details = dict(self._details)
            update.tracker_status = self._status

    def _assemble(self, kind: int, chunk: bytes) -> bytes | None:
        if kind == FULL:
            self._pending = None
            return chunk
        if kind == FIRST:
            self._pending, self._pending_size = [chunk], len(chunk)
            return None
        if self._pending is None:
            return None
        self._pending_size += len(chunk)
        if self._pending_size > MAX_RECORD:
            self._pending = None
            return None
        self._pending.append(chunk)
        if kind == MIDDLE:
            return None
        data = b"".join(self._pending)
        self._pending = None
        return data

    def _handle(self, data: bytes, scalars: list[tuple[str, float, float, float | None]]) -> bool:
        """Decode one record; returns whether details or status changed."""
        record = self._record()
        try:
            record.ParseFromString(data)
        except Exception:  # protobuf's DecodeError; a record we cannot read is skipped
            return False
        kind = record.WhichOneof("record_type")
        if kind == "history":
            values = dict(_items(record.history.item))
            step = values.pop("_step", None)
            if not isinstance(step, (int, float)) or isinstance(step, bool):
                step = float(record.history.step.num)
            wall = values.get("_timestamp")
            wall = float(wall) if isinstance(wall, (int, float)) else None
            for key, value in values.items():
                if key.startswith("_") or isinstance(value, bool):
                    continue
                if isinstance(value, (int, float)):
                    scalars.append((key, float(step), float(value), wall))
            return False
        if kind == "summary":
            for key, value in _items(record.summary.update):
                if not key.startswith("_"):
                    self._details[f"summary.{key}"] = _text(value)
            return True
        if kind == "run":
            for key, value in _items(record.run.config.update):
                if not key.startswith("_"):
                    self._details[f"config.{key}"] = _text(_config_value(value))
            if self._status is None:
                self._status = "RUNNING"
            return True
        if kind == "config":
            for key, value in _items(record.config.update):
                if not key.startswith("_"):
                    self._details[f"config.{key}"] = _text(_config_value(value))
            return True
        if kind == "exit":
            self._status = "FINISHED" if record.exit.exit_code == 0 else "FAILED"
            return True
        return False


def _items(items) -> list[tuple[str, object]]:
    """(key, decoded value) of wandb's history/summary/config items."""
    out = []
    for item in items:
        key = "/".join(item.nested_key) if item.nested_key else item.key
        try:
            value = json.loads(item.value_json) if item.value_json else None
        except (ValueError, RecursionError):
            continue
        if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
            value = float(value.replace("Infinity", "inf"))
        out.append((key, value))
    return out


def _config_value(value: object) -> object:
    # wandb stores each config entry as {"value": ..., "desc": ...}.
    if isinstance(value, dict) and "value" in value:
        return value["value"]
    return value


def _text(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:_MAX_VALUE]
