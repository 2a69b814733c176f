"""System monitor benchmarks, each with a baseline measured in the same run.

    python bench/bench_monitor.py bytes    # terminal bytes/s of the panel alone, 120x40
    python bench/bench_monitor.py sample   # cost of one SystemSampler.sample()
    python bench/bench_monitor.py all

bytes: the panel full screen in a pseudo-terminal with fake NVML (8x50 and 2x3),
steady state after a warm-up; baseline = the same panel redrawing whole lines
(each row one cell), so any change repaints its line.
sample: fake NVML 8x50 against a host-only sampler (no NVML), mean of many polls.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ptyrun import PtyProcess

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def bytes_per_second(spec: str, whole_line: bool, seconds: float) -> float:
    argv = [sys.executable, str(HERE / "monitor_app.py")]
    if whole_line:
        argv.append("--whole-line")
    env = {"WAITWISE_FAKE_NVML": spec, "PYTHONPATH": str(ROOT)}
    proc = PtyProcess(argv, cols=120, rows=40, env=env)
    try:
        proc.wait_for(b"driver", timeout=60)
        proc.read_for(3.0)  # warm-up: first polls, rates appear, layout settles
        return proc.read_for(seconds) / seconds
    finally:
        proc.close()


def bench_bytes(seconds: float) -> None:
    for spec in ("8x50", "2x3"):
        partial = bytes_per_second(spec, False, seconds)
        whole = bytes_per_second(spec, True, seconds)
        print(
            f"bytes/s {spec:>5} at 120x40: changed cells {partial:8.0f}  "
            f"whole lines {whole:8.0f}  ratio {partial / whole:.2f}"
        )


def bench_sample(polls: int) -> None:
    sys.path.insert(0, str(ROOT))
    from waitwise_tui.core.gpu.fake import fake_from_spec
    from waitwise_tui.core.gpu.sampler import SystemSampler

    def mean_ms(sampler: SystemSampler) -> float:
        sampler.sample()
        times = []
        for _ in range(polls):
            start = time.perf_counter()
            sampler.sample()
            times.append(time.perf_counter() - start)
        return statistics.mean(times) * 1000

    host_only = mean_ms(SystemSampler(fake_from_spec("missing")))
    full = mean_ms(SystemSampler(fake_from_spec("8x50")))
    print(
        f"sample(): host only {host_only:.2f} ms  fake 8x50 {full:.2f} ms  "
        f"ratio {full / host_only:.2f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("bytes", "sample", "all"))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--polls", type=int, default=200)
    args = parser.parse_args()
    if args.what in ("sample", "all"):
        bench_sample(args.polls)
    if args.what in ("bytes", "all"):
        bench_bytes(args.seconds)
