"""The ETA of a steady run holds still: measured on a real writer with jittery steps.

The writer is a real Python process printing ``train N/TOTAL loss=x`` lines with a
random pause of 1-7 ms between steps, a slow first step (compiling) and an evaluation
pause half way. The monitor polls it as the app does, every ``POLL`` seconds. Between
two consecutive polls the predicted end (poll time + ETA) may move by at most 15 % of
the time left (the issue's bound), while the time left is still several polls long (at
the very end one poll's worth of steps is a large share of what is left).
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import time

import pytest

from waitwise_tui.core.runs.monitor import RunMonitor

WRITER = """
import random, sys, time
random.seed(int(sys.argv[2]))
total = int(sys.argv[1])
for i in range(1, total + 1):
    print(f"train {i}/{total} loss={1.0 / i:.4f}", flush=True)
    time.sleep(random.uniform(0.001, 0.007))
    if i == 1:
        time.sleep(0.3)  # the first step compiles
    if i == total // 2:
        time.sleep(0.3)  # evaluation
"""
POLL = 0.03  # the app's poll interval, scaled down with the run
BOUND = 0.15


def _etas(tmp_path, seed: int) -> list[tuple[float, float, float | None]]:
    log = tmp_path / f"train{seed}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-c", WRITER, "300", str(seed)], stdout=out)
    monitor = RunMonitor(tmp_path, [str(log)], rescan_seconds=0.0, writers=False)
    seen: list[tuple[float, float, float | None]] = []
    try:
        while proc.poll() is None:
            snapshot = monitor.poll()
            run = snapshot.runs[0] if snapshot.runs else None
            if run is not None and run.eta_seconds is not None:
                seen.append((snapshot.time, run.eta_seconds, run.step_rate))
            time.sleep(POLL)  # the poll cadence itself, not a wait for a condition
    finally:
        proc.kill()
        proc.wait(timeout=10)
        monitor.close()
    return seen


@pytest.mark.slow
def test_eta_of_a_steady_jittery_run_swings_less_than_15_percent(tmp_path) -> None:
    for seed in (1,):
        seen = _etas(tmp_path, seed)
        swings = [
            abs((t1 + e1) - (t0 + e0)) / e0
            for (t0, e0, _), (t1, e1, _) in itertools.pairwise(seen)
            if e0 >= 10 * POLL
        ]
        assert len(swings) >= 5, f"too few ETAs to judge: {seen}"
        assert max(swings) <= BOUND, f"seed {seed}: swings {sorted(swings)[-5:]}"
        # The rate shown beside the ETA is the progress rate, in steps per second.
        assert all(rate is None or rate > 0 for _, _, rate in seen)
