"""Check the GPU monitor against ``nvidia-smi`` on a machine with a real NVIDIA GPU.

    python scripts/gpu_check.py --out DIR [--idle-seconds 20]

It starts a PyTorch matmul loop on GPU 0 (skipped with ``--no-load``), then, three
times, takes ``waitwise-tui gpu --json`` and ``nvidia-smi``'s own readings back to back
and compares them field by field. It also times one poll of the real sampler, renders
the app headless to SVG with real NVML, and measures the app's idle CPU with real NVML
beside the fake 8-GPU one and a bare Textual app. Everything goes under DIR:
``compare.md`` (the tables), ``raw.json`` (every reading), ``monitor.txt`` (the
monitor pane as text) and two screenshots.

Not part of the test suite: CI has no GPU. Run it wherever one is lent.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIB = 1 << 20

# The fields the issue names, then the ones the monitor also shows. nvidia-smi rejects
# a whole query over one unknown field, so the extras are asked for separately.
SMI_BASIC = "index,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw"
SMI_EXTRA = (
    "index,uuid,driver_version,utilization.memory,power.limit,clocks.sm,clocks.mem,"
    "fan.speed,pstate,clocks_event_reasons.active,"
    "ecc.errors.corrected.volatile.total,ecc.errors.uncorrected.volatile.total"
)
SMI_APPS = "pid,used_memory,process_name,gpu_uuid"

LOAD = r"""
import os, sys, time, torch
seconds = float(sys.argv[1])
x = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
y = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
ballast = torch.empty(6 << 30, dtype=torch.uint8, device="cuda")  # 6 GiB held
torch.cuda.synchronize()
print(f"ready {os.getpid()}", flush=True)
end = time.time() + seconds
while time.time() < end:
    for _ in range(50):
        z = x @ y
    torch.cuda.synchronize()
print("done", flush=True)
"""


def smi(query: str, kind: str = "gpu") -> list[dict[str, str]]:
    flag = "--query-gpu" if kind == "gpu" else "--query-compute-apps"
    try:
        out = subprocess.run(
            ["nvidia-smi", f"{flag}={query}", "--format=csv,nounits"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except OSError as exc:
        return [{"error": str(exc)}]
    if out.returncode != 0:
        return [{"error": (out.stdout + out.stderr).strip()}]
    # Keyed by the names asked for: nvidia-smi's header may use other aliases
    # ("clocks.current.sm" for "clocks.sm", "used_gpu_memory" for "used_memory").
    rows = list(csv.reader(io.StringIO(out.stdout)))
    keys = query.split(",")
    return [dict(zip(keys, (c.strip() for c in row), strict=False)) for row in rows[1:] if row]


def ours() -> tuple[dict, float]:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "waitwise_tui", "gpu", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    took = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"waitwise-tui gpu --json failed: {out.stderr.strip()}")
    return json.loads(out.stdout), took


def num(text: str | None) -> float | None:
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def show(value: object) -> str:
    return "null" if value is None else str(value)


def compare_round(snap: dict, basic: list[dict], extra: list[dict], apps: list[dict]) -> list:
    """Rows of (field, ours, nvidia-smi, verdict) for every GPU and process."""
    rows: list[tuple[str, str, str, str]] = []

    def row(field: str, mine: object, theirs: object, ok: bool | None) -> None:
        verdict = "n/a" if ok is None else ("same" if ok else "DIFFERS")
        rows.append((field, show(mine), show(theirs), verdict))

    by_index = {int(g["index"]): g for g in snap["gpus"]}
    extra_by = {r.get("index"): r for r in extra}
    for b in basic:
        if "error" in b:
            row("nvidia-smi", None, b["error"], False)
            continue
        i = int(b["index"])
        g, e = by_index.get(i), extra_by.get(b["index"], {})
        if g is None:
            row(f"gpu {i}", "missing", "present", False)
            continue
        p = f"gpu{i}."
        row(p + "name", g["name"], b["name"], g["name"] == b["name"])
        if "uuid" in e:
            row(p + "uuid", g["uuid"], e["uuid"], g["uuid"] == e["uuid"])
        if "driver_version" in e:
            mine = snap["nvml"]["driver"]
            row("driver", mine, e["driver_version"], mine == e["driver_version"])
        used, total = g["memory_used_bytes"], g["memory_total_bytes"]
        s_used, s_total = num(b["memory.used"]), num(b["memory.total"])
        row(p + "memory.total MiB", total // MIB, s_total, s_total == total // MIB)
        row(p + "memory.used MiB", used // MIB, s_used, abs(used / MIB - (s_used or 0)) <= 64)
        util, s_util = g["util_percent"], num(b["utilization.gpu"])
        row(p + "util %", util, s_util, util is not None and abs(util - (s_util or 0)) <= 15)
        temp, s_temp = g["temperature_c"], num(b["temperature.gpu"])
        row(p + "temperature C", temp, s_temp, temp is not None and abs(temp - s_temp) <= 3)
        power, s_power = g["power_w"], num(b["power.draw"])
        close = power is not None and s_power and abs(power - s_power) <= 0.25 * s_power
        row(p + "power W", power, s_power, bool(close))
        if "power.limit" in e:
            lim, s_lim = g["power_limit_w"], num(e["power.limit"])
            row(p + "power limit W", lim, s_lim, lim is not None and abs(lim - s_lim) < 1)
            sm, s_sm = g["sm_clock_mhz"], num(e["clocks.sm"])
            row(p + "SM clock MHz", sm, s_sm, sm is not None and abs(sm - s_sm) <= 100)
            mem, s_mem = g["memory_clock_mhz"], num(e["clocks.mem"])
            row(p + "mem clock MHz", mem, s_mem, mem is not None and abs(mem - s_mem) <= 100)
            fan, s_fan = g["fan_percent"], e["fan.speed"]
            fan_ok = (fan is None) == (num(s_fan) is None) and (fan is None or fan == num(s_fan))
            row(p + "fan %", fan, s_fan, fan_ok)
            ps, s_ps = g["pstate"], e["pstate"]
            row(p + "P-state", ps, s_ps, s_ps == f"P{ps}")
            reasons = e["clocks_event_reasons.active"]
            row(p + "throttle reasons", g["throttle_reasons"], reasons, None)
            for kind in ("corrected", "uncorrected"):
                mine, theirs = g[f"ecc_{kind}"], e[f"ecc.errors.{kind}.volatile.total"]
                row(f"{p}ECC {kind}", mine, theirs, mine == num(theirs))
        procs = {pr["pid"]: pr for pr in g["processes"]}
        mine_apps = [a for a in apps if "pid" in a and a.get("gpu_uuid") in (None, e.get("uuid"))]
        s_procs = {int(a["pid"]): a for a in mine_apps}
        row(p + "process pids", sorted(procs), sorted(s_procs), set(procs) >= set(s_procs))
        for pid, a in sorted(s_procs.items()):
            mine = procs.get(pid)
            got = None if mine is None else mine["gpu_memory_bytes"]
            s_mem = num(a["used_memory"])
            ok = got is not None and abs(got / MIB - s_mem) <= 64
            row(f"{p}pid {pid} memory MiB", None if got is None else got // MIB, s_mem, ok)
            if mine is not None:
                row(f"{p}pid {pid} command", mine["command"], a.get("process_name"), None)
                row(f"{p}pid {pid} SM %", mine["sm_percent"], None, None)
    return rows


def table(rows: list) -> str:
    lines = ["| field | waitwise-tui | nvidia-smi | |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def time_sampler(samples: int = 30) -> dict[str, float]:
    """Wall time of NVML init and of one full poll (GPUs, processes, host)."""
    from waitwise_tui.core.gpu.sampler import SystemSampler, nvml_from_env

    start = time.perf_counter()
    sampler = SystemSampler(nvml_from_env(), disk_path=str(ROOT))
    sampler.sample()
    first = time.perf_counter() - start
    times, cpu = [], []
    for _ in range(samples):
        t, c = time.perf_counter(), time.process_time()
        sampler.sample()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        time.sleep(0.1)
    sampler.close()
    return {
        "init_and_first_ms": first * 1000,
        "poll_median_ms": statistics.median(times) * 1000,
        "poll_max_ms": max(times) * 1000,
        "poll_cpu_median_ms": statistics.median(cpu) * 1000,
    }


async def screenshots(out: Path, workspace: Path) -> str:
    """Render the real app (real NVML, real psutil) headless; return the monitor text."""
    from waitwise_tui.cli import app_parser
    from waitwise_tui.ui.app import build_app
    from waitwise_tui.ui.monitor.system import SystemMonitor

    text = ""
    for name, size in (("gpu-wide", (160, 48)), ("gpu-80x24", (80, 24))):
        app = build_app(app_parser().parse_args(["-w", str(workspace)]))
        async with app.run_test(size=size) as pilot:
            monitor = app.query_one(SystemMonitor)
            for _ in range(100):
                if monitor.latest_snapshot is not None:
                    break
                await pilot.pause(0.1)
            await pilot.pause(2.5)  # a second sample, so rates and sparklines fill in
            app.save_screenshot(filename=f"{name}.svg", path=str(out))
            if size[0] == 160:
                text = "\n".join(monitor.plain_lines)
    return text


def idle(out_lines: list[str], seconds: float) -> None:
    """bench/bench_app.py idle with real NVML and with the fake 8x50 one."""
    for nvml in ("real", "8x50"):
        res = subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "bench_app.py"),
                "idle",
                "--seconds",
                str(seconds),
                "--nvml",
                nvml,
            ],
            capture_output=True,
            text=True,
            timeout=seconds * 3 + 60,
        )
        out_lines.append(f"$ bench_app.py idle --seconds {seconds:g} --nvml {nvml}")
        out_lines.append((res.stdout + res.stderr).strip())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path)
    parser.add_argument("--no-load", action="store_true", help="no PyTorch load")
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--print-load", action="store_true", help="print the load script")
    args = parser.parse_args()
    if args.print_load:
        print(LOAD)
        return
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    report: list[str] = ["# waitwise-tui against nvidia-smi", ""]
    raw: dict = {"rounds": []}

    load = None
    if not args.no_load:
        load = subprocess.Popen(
            [sys.executable, "-c", LOAD, "240"], stdout=subprocess.PIPE, text=True
        )
        ready = load.stdout.readline().strip() if load.stdout else ""
        report.append(f"PyTorch load: `{ready}` (bf16 8192² matmuls, 6 GiB ballast)")
        time.sleep(3)  # let utilisation and clocks settle
    try:
        for n in range(3):
            snap, took = ours()
            basic, extra = smi(SMI_BASIC), smi(SMI_EXTRA)
            if extra and "error" in extra[0]:
                extra = smi(SMI_EXTRA.replace("clocks_event", "clocks_throttle"))
                for r in extra:
                    r["clocks_event_reasons.active"] = r.pop("clocks_throttle_reasons.active", "")
            apps = smi(SMI_APPS, "apps")
            reading = {"ours": snap, "smi_basic": basic, "smi_extra": extra, "apps": apps}
            raw["rounds"].append(reading)
            report += ["", f"## Round {n + 1} (`gpu --json` took {took * 1000:.0f} ms)", ""]
            report.append(table(compare_round(snap, basic, extra, apps)))
            time.sleep(1)

        env_snap = subprocess.run(
            [sys.executable, "-m", "waitwise_tui", "gpu"],
            capture_output=True,
            text=True,
            env={**os.environ, "CUDA_VISIBLE_DEVICES": "0"},
        )
        report += ["", "## `CUDA_VISIBLE_DEVICES=0 waitwise-tui gpu`", "", "```"]
        report += [env_snap.stdout.rstrip(), env_snap.stderr.rstrip(), "```"]

        timing = time_sampler()
        raw["sampler"] = timing
        report += ["", "## One poll with real NVML", ""]
        report += [f"- {k}: {v:.2f}" for k, v in timing.items()]

        with tempfile.TemporaryDirectory() as tmp:
            os.environ["WAITWISE_CONFIG_DIR"] = str(Path(tmp) / "config")
            text = asyncio.run(screenshots(out, Path(tmp)))
        (out / "monitor.txt").write_text(text + "\n")
        report += ["", "## Monitor pane, 160x48, real NVML", "", "```", text, "```"]

        lines: list[str] = []
        idle(lines, args.idle_seconds)
        report += ["", "## Idle CPU on this machine", "", "```", *lines, "```"]
    finally:
        if load is not None:
            load.terminate()
            load.wait(timeout=30)
        (out / "raw.json").write_text(json.dumps(raw, indent=1))
        (out / "compare.md").write_text("\n".join(report) + "\n")
        print("\n".join(report))
    if shutil.which("nvidia-smi"):
        subprocess.run(["nvidia-smi"], check=False)


if __name__ == "__main__":
    main()
