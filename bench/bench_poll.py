"""Where one monitor poll spends its time: each NVML query, the process details, the host.

    python bench/bench_poll.py [--samples 100]

Uses the machine's own NVML (or ``$WAITWISE_FAKE_NVML``) through the same
``SystemSampler`` the app runs, wrapping its NVML calls to time each one. Times are per
poll, wall and CPU (an NVML call that waits on the GPU's firmware can use CPU time in
the kernel, which counts towards the app's idle CPU). Run it with a GPU busy to see
the process queries at work.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from waitwise_tui.core.gpu.sampler import SystemSampler, nvml_from_env


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--pause", type=float, default=0.02, help="seconds between polls")
    args = parser.parse_args()
    sampler = SystemSampler(nvml_from_env(), disk_path=os.getcwd())
    gpu = sampler.gpu
    wall: dict[str, float] = defaultdict(float)
    cpu: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)

    def call_key(name: str, *call_args: object, **_: object) -> str:
        # the clock and ECC queries take a small selector; tell those apart
        small = len(call_args) == 2 and isinstance(call_args[1], int) and call_args[1] < 8
        return f"{name}({call_args[1]})" if small else name

    def timed(key, fn):  # type: ignore[no-untyped-def]
        """``fn`` adding its wall and CPU time under ``key`` (a string, or a function
        of the call's arguments)."""

        def run(*a, **k):  # type: ignore[no-untyped-def]
            t, c = time.perf_counter(), time.process_time()
            try:
                return fn(*a, **k)
            finally:
                name = key(*a, **k) if callable(key) else key
                wall[name] += time.perf_counter() - t
                cpu[name] += time.process_time() - c
                count[name] += 1

        return run

    gpu._call = timed(call_key, gpu._call)  # type: ignore[method-assign]
    gpu._versioned_processes = timed("running processes (per kind)", gpu._versioned_processes)
    gpu._inspector.inspect = timed("process details (psutil)", gpu._inspector.inspect)
    sampler.host.sample = timed("host (psutil)", sampler.host.sample)
    sampler.sample()  # first poll: init, handles, static fields
    for key in (wall, cpu, count):
        key.clear()
    t, c = time.perf_counter(), time.process_time()
    for _ in range(args.samples):
        snap = sampler.sample()
        time.sleep(args.pause)
    total_wall = time.perf_counter() - t - args.samples * args.pause
    total_cpu = time.process_time() - c
    sampler.close()
    n = args.samples
    print(f"{len(snap.gpus)} GPU(s), {len(snap.processes)} GPU process(es), {n} polls")
    print(f"{'per poll':48} {'calls':>5} {'wall µs':>9} {'CPU µs':>9}")
    for key in sorted(wall, key=lambda k: -cpu[k]):
        per = (count[key] / n, wall[key] / n * 1e6, cpu[key] / n * 1e6)
        print(f"{key:48} {per[0]:5.1f} {per[1]:9.0f} {per[2]:9.0f}")
    print(f"{'whole poll':48} {'':5} {total_wall / n * 1e6:9.0f} {total_cpu / n * 1e6:9.0f}")


if __name__ == "__main__":
    main()
