"""Benchmark: CSV metrics ingest versus ``pandas.read_csv``, and the cost of an append.

Writes (once, cached in bench/.data/) a Lightning-style metrics.csv of 1M rows
(``epoch,step,train_loss,lr``: two metrics a row, so 2M points), then times:

- one ``poll`` of a fresh tail over the whole file (the columnar bulk path: a
  ``ReadUpdate`` of numpy columns) against ``pandas.read_csv`` of the same file;
- the same poll plus feeding every column into a ``Series`` (what the monitor does);
- once, for scale, the small path alone (one ``Point`` per scalar), which the reader
  used for every read before the bulk path;
- one ``poll`` of a live tail after appending 100 rows (best of several runs).

Run: ``python bench/bench_csv.py [ROWS]``.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent / ".data"


def make_file(rows: int) -> Path:
    """The cached metrics file with ``rows`` data rows."""
    path = DATA / f"metrics_{rows}.csv"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as fh:
        fh.write("epoch,step,train_loss,lr\n")
        for i in range(rows):
            fh.write(
                f"{i // 1000},{i},{2.5 / (1 + i * 1e-3):.6f},{1e-3 * 0.99 ** (i // 5000):.6g}\n"
            )
    tmp.replace(path)
    return path


def best_of(fns: list, repeat: int = 3) -> list[tuple[float, float]]:
    """Best wall time and best CPU time of each of ``fns``, run interleaved.

    Interleaving spreads the noise of a shared machine over every contender.
    """
    walls = [[] for _ in fns]
    cpus = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            start, cpu = time.perf_counter(), time.process_time()
            fn()
            walls[i].append(time.perf_counter() - start)
            cpus[i].append(time.process_time() - cpu)
    return [(min(w), min(c)) for w, c in zip(walls, cpus, strict=True)]


def main() -> int:
    import pandas as pd

    from waitwise_tui.core.runs import csvlog
    from waitwise_tui.core.runs.model import ReadUpdate, RunCandidate
    from waitwise_tui.core.runs.readers import open_tail
    from waitwise_tui.core.runs.series import Series

    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    path = make_file(rows)
    cand = RunCandidate(str(path), "csv", "bench")

    def poll() -> ReadUpdate:
        tail = open_tail(cand)
        try:
            return tail.poll()
        finally:
            tail.close()

    def poll_and_feed() -> None:
        series: dict[str, Series] = {}
        for column in poll().columns:
            target = series.setdefault(column.metric, Series(column.metric))
            target.append(column.steps, column.values, column.walls)

    first = poll()
    count = sum(len(c) for c in first.columns) + len(first.points)
    (pandas, pandas_cpu), (ours, ours_cpu), (fed, fed_cpu) = best_of(
        [lambda: pd.read_csv(path), poll, poll_and_feed], 7
    )
    bulk_bytes = csvlog.BULK_BYTES
    csvlog.BULK_BYTES = 1 << 62
    try:
        ((small, small_cpu),) = best_of([poll], 1)
    finally:
        csvlog.BULK_BYTES = bulk_bytes
    print(f"file: {rows} rows, {path.stat().st_size / 1e6:.1f} MB, {count} points")
    print(f"pandas.read_csv:              {pandas:.3f} s wall, {pandas_cpu:.3f} s CPU")
    print(f"waitwise poll (columns):      {ours:.3f} s wall, {ours_cpu:.3f} s CPU")
    print(f"  poll + Series.append:       {fed:.3f} s wall, {fed_cpu:.3f} s CPU")
    print(f"  small path only (Points):   {small:.3f} s wall, {small_cpu:.3f} s CPU")
    print(
        f"ratio vs pandas (wall): poll {pandas / ours:.2f}x, poll + series {pandas / fed:.2f}x "
        f"(goal >= 0.5x); small path {pandas / small:.3f}x"
    )
    print(
        f"ratio vs pandas (CPU):  poll {pandas_cpu / ours_cpu:.2f}x, "
        f"poll + series {pandas_cpu / fed_cpu:.2f}x"
    )

    live = DATA / "metrics_live.csv"
    shutil.copyfile(path, live)
    tail = open_tail(RunCandidate(str(live), "csv", "live"))
    tail.poll()
    block = "".join(f"999,{rows + i},0.5,0.001\n" for i in range(100))
    costs = []
    for _ in range(20):
        with open(live, "a") as fh:
            fh.write(block)
        start = time.perf_counter()
        got = tail.poll()
        costs.append(time.perf_counter() - start)
        assert len(got.points) == 200 and not got.reset
    live.unlink()
    print(
        f"poll after appending 100 rows: best {min(costs) * 1e3:.2f} ms, "
        f"median {sorted(costs)[len(costs) // 2] * 1e3:.2f} ms (goal <= 5 ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
