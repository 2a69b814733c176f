"""Benchmark: tfevents ingest versus the tensorboard package's own event loader.

Writes (once, cached in bench/.data/) an event file of 1M scalars with tensorboard's
writer in the PyTorch ``simple_value`` layout, then times reading it whole with
``waitwise_tui.core.runs.readers.read_all`` and with tensorboard's
``EventFileLoader`` (records decoded into Event protos, scalars pulled out). Prints
scalars/s for both and the ratio. Run: ``python bench/bench_tfevents.py [N]``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent / ".data"
TAGS = ("train/loss", "train/lr", "train/grad_norm", "val/loss")


def make_file(n: int) -> Path:
    """The cached run directory holding one event file with ``n`` scalars."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    run = DATA / f"tfevents_{n}"
    done = run / "complete"
    if done.exists():
        return run
    run.mkdir(parents=True, exist_ok=True)
    for old in run.glob("events.out.tfevents.*"):
        old.unlink()
    writer = EventFileWriter(str(run), max_queue_size=1000)
    for i in range(n):
        value = summary_pb2.Summary.Value(tag=TAGS[i % len(TAGS)], simple_value=1.0 / (i + 1))
        event = event_pb2.Event(
            wall_time=1.7e9 + i * 0.01,
            step=i // len(TAGS),
            summary=summary_pb2.Summary(value=[value]),
        )
        writer.add_event(event)
    writer.close()
    done.write_text("ok\n")
    return run


def bench_ours(run: Path) -> tuple[float, float, int]:
    from waitwise_tui.core.runs.model import RunCandidate
    from waitwise_tui.core.runs.readers import read_all

    start, cpu = time.perf_counter(), time.process_time()
    update = read_all(RunCandidate(str(run), "tfevents", run.name))
    return time.perf_counter() - start, time.process_time() - cpu, len(update.points)


def bench_tensorboard(run: Path) -> tuple[float, float, int]:
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    path = next(run.glob("events.out.tfevents.*"))
    start, cpu = time.perf_counter(), time.process_time()
    count = 0
    for event in EventFileLoader(str(path)).Load():
        for value in event.summary.value:
            if value.HasField("simple_value") or value.HasField("tensor"):
                count += 1
    return time.perf_counter() - start, time.process_time() - cpu, count


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    run = make_file(n)
    size = sum(p.stat().st_size for p in run.glob("events.out.tfevents.*"))
    print(f"file: {n} scalars, {size / 1e6:.1f} MB")
    ours_s, ours_cpu, ours_n = bench_ours(run)
    tb_s, tb_cpu, tb_n = bench_tensorboard(run)
    ours_rate, tb_rate = ours_n / ours_s, tb_n / tb_s
    print(f"waitwise read_all:           {ours_n} scalars in {ours_s:.2f} s = {ours_rate:,.0f}/s")
    print(f"tensorboard EventFileLoader: {tb_n} scalars in {tb_s:.2f} s = {tb_rate:,.0f}/s")
    print(f"ratio (wall): {ours_rate / tb_rate:.1f}x (goal >= 10x)")
    # CPU time is steadier than wall time on a shared machine.
    print(f"ratio (CPU):  {tb_cpu / ours_cpu:.1f}x ({ours_cpu:.2f} s vs {tb_cpu:.2f} s)")
    return 0 if ours_n == tb_n == n else 1


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(main())
