"""Benchmark: CPU used by the run monitor tailing 10 runs at a 1 s poll.

Ten JSON-lines runs (5,000 lines of history each) are tailed by one ``RunMonitor``
(writer lookup on, as in the app); one of them gets a new line every second, the
others do not change. After the first poll (the initial read, not counted), the
script polls once a second for SECONDS and prints process CPU time / wall time.
The target is <= 1.5 % of one core.

Run: ``python bench/bench_runs_idle.py [SECONDS]`` (default 40).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from waitwise_tui.core.runs.monitor import RunMonitor

RUNS, HISTORY = 10, 5000


def write_history(path: Path) -> None:
    now = time.time()
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(HISTORY):
            record = {"step": i, "loss": 1.0 / (i + 1), "lr": 0.1, "wall_time": now - HISTORY + i}
            fh.write(json.dumps(record) + "\n")


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 40.0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = []
        for i in range(RUNS):
            run_dir = root / f"run{i}"
            run_dir.mkdir()
            paths.append(run_dir / "metrics.jsonl")
            write_history(paths[-1])
        monitor = RunMonitor(root)
        snap = monitor.poll()
        assert len(snap.runs) == RUNS, [r.name for r in snap.runs]
        step = HISTORY
        cpu0, wall0 = time.process_time(), time.perf_counter()
        polls = 0
        with open(paths[0], "a", encoding="utf-8") as live:
            while time.perf_counter() - wall0 < seconds:
                record = {"step": step, "loss": 1.0 / step, "wall_time": time.time()}
                live.write(json.dumps(record) + "\n")
                live.flush()
                step += 1
                monitor.poll()
                polls += 1
                time.sleep(max(0.0, wall0 + polls - time.perf_counter()))
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
        snap = monitor.poll()
        monitor.close()
    print(f"{RUNS} runs tailed, {polls} polls in {wall:.1f} s")
    print(f"CPU {cpu * 1e3:.0f} ms / wall {wall:.1f} s = {100 * cpu / wall:.2f} % of one core")
    print(f"per poll {1e3 * cpu / polls:.2f} ms; target <= 1.5 %")
    print("last run status:", snap.runs[0].status, "loss count:", snap.runs[0].metric("loss").count)


if __name__ == "__main__":
    main()
