"""Benchmark: CSV metrics ingest versus ``pandas.read_csv``, and the cost of an append.

Writes (once, cached in bench/.data/) a Lightning-style metrics.csv of 1M rows
(``epoch,step,train_loss,lr``: two metrics a row, so 2M points), then times:

- ``read_all`` of the whole file (Points out) against ``pandas.read_csv`` (columns out);
- the same parse stopped before Point creation, to show what Point objects cost;
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


def best_of(fn, repeat: int = 3) -> tuple[float, float]:
    """Best wall time and best CPU time of ``repeat`` calls."""
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def main() -> int:
    import pandas as pd

    from waitwise_tui.core.runs.csvlog import _columns
    from waitwise_tui.core.runs.model import RunCandidate
    from waitwise_tui.core.runs.readers import open_tail, read_all

    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    path = make_file(rows)
    cand = RunCandidate(str(path), "csv", "bench")
    count = len(read_all(cand).points)

    def parse_only() -> None:
        # What the reader does minus Point creation: split, csv-parse, float columns.
        text = path.read_bytes().decode()
        body = text[text.index("\n") + 1 :].rstrip("\n")
        cols, _ = _columns(body, 4)
        for col in cols:
            list(map(float, col))

    ours, ours_cpu = best_of(lambda: read_all(cand))
    bare, bare_cpu = best_of(parse_only)
    pandas, pandas_cpu = best_of(lambda: pd.read_csv(path))
    print(f"file: {rows} rows, {path.stat().st_size / 1e6:.1f} MB, {count} points")
    print(f"waitwise read_all:        {ours:.3f} s wall, {ours_cpu:.3f} s CPU")
    print(f"  same parse, no Points:  {bare:.3f} s wall, {bare_cpu:.3f} s CPU")
    print(f"pandas.read_csv:          {pandas:.3f} s wall, {pandas_cpu:.3f} s CPU")
    print(
        f"ratio vs pandas (wall): {pandas / ours:.3f}x (goal >= 0.5x); "
        f"without Points {pandas / bare:.3f}x"
    )
    print(f"ratio vs pandas (CPU):  {pandas_cpu / ours_cpu:.3f}x")

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
