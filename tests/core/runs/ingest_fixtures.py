"""Helpers for the ingest tests: fixture writers for every format and a tail driver."""

from __future__ import annotations

import math
import os
from pathlib import Path

from waitwise_tui.core.runs.model import Point, RunCandidate
from waitwise_tui.core.runs.readers import open_tail, read_all


def scalar_event(tag: str, value: float, step: int, wall: float = 1.7e9):
    """A PyTorch-style Event with one ``simple_value``."""
    from tensorboard.compat.proto import event_pb2, summary_pb2

    v = summary_pb2.Summary.Value(tag=tag, simple_value=value)
    return event_pb2.Event(wall_time=wall, step=step, summary=summary_pb2.Summary(value=[v]))


def tensor_event(tag: str, value: float, step: int, dtype: str, content: bool = False):
    """A TF2/Keras-style Event whose scalar is a one-element tensor of ``dtype``."""
    import numpy as np
    from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, types_pb2

    np_type = {"float": np.float32, "double": np.float64, "half": np.float16}[dtype]
    proto_type = {
        "float": types_pb2.DT_FLOAT,
        "double": types_pb2.DT_DOUBLE,
        "half": types_pb2.DT_HALF,
    }
    tensor = tensor_pb2.TensorProto(dtype=proto_type[dtype])
    if content:
        tensor.tensor_content = np_type(value).tobytes()
    elif dtype == "float":
        tensor.float_val.append(value)
    elif dtype == "double":
        tensor.double_val.append(value)
    else:
        tensor.half_val.append(int(np.float16(value).view(np.uint16)))
    meta = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
    )
    v = summary_pb2.Summary.Value(tag=tag, tensor=tensor, metadata=meta)
    return event_pb2.Event(
        wall_time=1.7e9 + step, step=step, summary=summary_pb2.Summary(value=[v])
    )


def write_events(logdir: Path, events: list, suffix: str = "") -> Path:
    """Write ``events`` with tensorboard's own writer; returns the event file."""
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    logdir.mkdir(parents=True, exist_ok=True)
    before = set(logdir.glob("events.out.tfevents.*"))
    writer = EventFileWriter(str(logdir), filename_suffix=suffix)
    for event in events:
        writer.add_event(event)
    writer.close()
    (path,) = set(logdir.glob("events.out.tfevents.*")) - before
    return path


def key(points: list[Point]) -> list[tuple]:
    """Points as comparable tuples (NaN made equal to itself)."""
    return [
        (
            p.metric,
            float(p.step),
            "nan" if math.isnan(p.value) else p.value,
            p.wall_time,
        )
        for p in points
    ]


def collect(tail, points: list[Point]) -> None:
    """Poll ``tail`` once into ``points`` the way a consumer would (columns first)."""
    update = tail.poll()
    if update.reset:
        points.clear()
    points.extend(update.iter_points())


def read_in_two(path: Path, data: bytes, cut: int, fmt: str) -> list[Point]:
    """Write ``data[:cut]``, poll, append the rest, poll: the points a tail ends with."""
    path.write_bytes(data[:cut])
    tail = open_tail(RunCandidate(str(path), fmt, "run"))
    points: list[Point] = []
    collect(tail, points)
    with open(path, "ab") as fh:
        fh.write(data[cut:])
    collect(tail, points)
    collect(tail, points)
    return points


def read_whole(path: Path, fmt: str) -> list[Point]:
    """All points of ``path`` read in one go."""
    return list(read_all(RunCandidate(str(path), fmt, "run")).iter_points())


def candidate(path: Path | str, fmt: str) -> RunCandidate:
    """A candidate named after the file."""
    return RunCandidate(str(path), fmt, os.path.basename(str(path)))
