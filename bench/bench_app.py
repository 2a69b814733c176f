"""App-level benchmarks, each against a bare Textual app measured in the same run.

    python bench/bench_app.py start      # cold start to first frame (goal: ratio <= 1.3)
    python bench/bench_app.py idle       # idle CPU over 60 s at 1 s refresh (goal: <= 1 %)
    python bench/bench_app.py bytes      # terminal bytes/s at steady state (goal: <= 2 KB/s)
    python bench/bench_app.py all

The app runs in a real pseudo-terminal with fake NVML (8 GPUs, 50 processes) and real
psutil, in an empty temporary workspace and config dir.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ptyrun import PtyProcess

HERE = Path(__file__).resolve().parent
APP = [sys.executable, "-m", "waitwise_tui"]
BARE = [sys.executable, str(HERE / "bare_app.py")]


# Fake NVML scenario for the app ("real": the machine's own NVML, on a GPU machine).
NVML = {"scenario": "8x50"}


def _env(tmp: Path) -> dict[str, str]:
    env = {"WAITWISE_CONFIG_DIR": str(tmp / "config")}
    if NVML["scenario"] != "real":
        env["WAITWISE_FAKE_NVML"] = NVML["scenario"]
    return env


def first_frame(argv: list[str], markers: tuple[bytes, ...], tmp: Path) -> float:
    """Seconds until any of ``markers`` is on the screen."""
    return frames(argv, [markers], tmp)[0]


def frames(argv: list[str], stages: list[tuple[bytes, ...]], tmp: Path) -> list[float]:
    """Seconds from start until each stage (any of its markers) was on the screen."""
    proc = PtyProcess(argv, env=_env(tmp))
    try:
        return [proc.wait_for_any(markers) for markers in stages]
    finally:
        proc.close()


# The app's first frame is the GPU + host monitor: its host line ("RAM"), or the line
# it shows while the first sample is still being taken. The first reading is the host
# line. The full frame adds the run panel, the tab bar and the footer ("Help"), mounted
# right after the first frame.
APP_FIRST = (b"RAM", b"sampling GPUs")
APP_READING = (b"RAM",)
APP_FULL = (b"Help",)
BARE_READY = (b"bare-app-ready",)


def bench_start(rounds: int, tmp: Path) -> None:
    app_argv = [*APP, "-w", str(tmp)]
    stages = [APP_FIRST, APP_READING, APP_FULL]
    frames(app_argv, stages, tmp)  # warm the OS file cache for both
    first_frame(BARE, BARE_READY, tmp)
    app_times: list[list[float]] = []
    bare_times = []
    for _ in range(rounds):
        bare_times.append(first_frame(BARE, BARE_READY, tmp))
        app_times.append(frames(app_argv, stages, tmp))
    first, reading, full = (statistics.median(column) for column in zip(*app_times, strict=True))
    bare = statistics.median(bare_times)
    print(f"cold start (median of {rounds}):")
    print(f"  bare Textual app, first frame      : {bare * 1000:7.1f} ms")
    print(f"  waitwise-tui, first frame (monitor): {first * 1000:7.1f} ms")
    print(f"  waitwise-tui, first reading (host) : {reading * 1000:7.1f} ms")
    print(f"  waitwise-tui, full frame (+footer) : {full * 1000:7.1f} ms")
    print(f"  ratio, first frame                 : {first / bare:7.2f}   (goal <= 1.3)")
    print(f"  ratio, first reading               : {reading / bare:7.2f}")
    print(f"  ratio, full frame                  : {full / bare:7.2f}")


def idle_cpu(argv: list[str], seconds: float, tmp: Path) -> float:
    proc = PtyProcess(argv, env=_env(tmp))
    try:
        proc.read_for(5.0)  # start-up is not idle
        before = proc.cpu_seconds()
        proc.read_for(seconds)
        return (proc.cpu_seconds() - before) / seconds * 100
    finally:
        proc.close()


def bench_idle(seconds: float, tmp: Path) -> None:
    bare = idle_cpu(BARE, seconds, tmp)
    app = idle_cpu([*APP, "-w", str(tmp), "--interval", "1"], seconds, tmp)
    print(f"idle CPU over {seconds:.0f} s (% of one core):")
    print(f"  bare Textual app                  : {bare:5.2f} %")
    what = "real NVML" if NVML["scenario"] == "real" else f"fake NVML {NVML['scenario']}"
    print(f"  waitwise-tui, {what:<20}: {app:5.2f} %   (goal <= 1 %)")


def bytes_per_second(argv: list[str], seconds: float, tmp: Path) -> float:
    proc = PtyProcess(argv, cols=120, rows=40, env=_env(tmp))
    try:
        proc.read_for(5.0)
        return proc.read_for(seconds) / seconds
    finally:
        proc.close()


def bench_bytes(seconds: float, tmp: Path) -> None:
    app = bytes_per_second([*APP, "-w", str(tmp), "--interval", "1"], seconds, tmp)
    print(f"bytes written to a 120x40 terminal per second (steady state, {seconds:.0f} s):")
    print(f"  waitwise-tui : {app:8.0f} B/s   (goal <= 2048)")
    if shutil.which("top"):
        top = bytes_per_second(["top", "-d", "1"], seconds, tmp)
        print(f"  top -d 1     : {top:8.0f} B/s")


def compile_package() -> None:
    """Byte-compile waitwise_tui first, as ``pip install`` does: an editable checkout
    run with PYTHONDONTWRITEBYTECODE would otherwise recompile every module at every
    start, which a user's install never does (Textual's own files are compiled)."""
    import compileall

    import waitwise_tui

    compileall.compile_dir(Path(waitwise_tui.__file__).parent, quiet=1)


def main() -> None:
    compile_package()
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["start", "idle", "bytes", "all"])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--nvml", default="8x50", help="fake NVML scenario, or 'real' for the machine's NVML"
    )
    args = parser.parse_args()
    NVML["scenario"] = args.nvml
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        if args.what in ("start", "all"):
            bench_start(args.rounds, tmp)
        if args.what in ("idle", "all"):
            bench_idle(args.seconds, tmp)
        if args.what in ("bytes", "all"):
            bench_bytes(min(args.seconds, 30.0), tmp)


if __name__ == "__main__":
    main()
