"""``waitwise-tui gpu``: one GPU + host snapshot as text or JSON, or a JSON line stream.

Rates and CPU % need two readings, so a single snapshot samples twice, a short
interval apart. ``$WAITWISE_FAKE_NVML`` (testing hook) swaps in the fake NVML.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import time

from waitwise_tui.commands import CliError, add_workspace_argument, check_workspace, positive_float
from waitwise_tui.core import fmt
from waitwise_tui.core.gpu.sampler import (
    SystemSampler,
    SystemSnapshot,
    nvml_from_env,
    snapshot_to_dict,
)
from waitwise_tui.core.text import display

# Long enough for a meaningful CPU % and I/O rate, short enough for a prompt answer.
FIRST_DELTA_S = 0.2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument(
        "--watch",
        type=positive_float,
        metavar="SECONDS",
        help="print one compact JSON line every SECONDS until interrupted",
    )
    add_workspace_argument(parser)


def run(args: argparse.Namespace) -> int:
    check_workspace(args.workspace)
    try:
        nvml = nvml_from_env()
    except ValueError as exc:
        raise CliError(str(exc)) from None
    sampler = SystemSampler(nvml, disk_path=args.workspace)
    try:
        sampler.sample()
        time.sleep(FIRST_DELTA_S if args.watch is None else min(FIRST_DELTA_S, args.watch))
        snapshot = sampler.sample()
        if args.watch is None:
            if args.json:
                print(json.dumps(_as_dict(snapshot), indent=2))
            else:
                print(summary(snapshot))
            return 0
        while True:
            print(json.dumps(_as_dict(snapshot), separators=(",", ":")), flush=True)
            time.sleep(args.watch)
            snapshot = sampler.sample()
    finally:
        sampler.close()


def node_name() -> str:
    """The Slurm node this runs on (``$SLURMD_NODENAME`` inside a step), else the host
    name: how the cluster collector (core/jobs/gpus.py) tells nodes' lines apart."""
    return os.environ.get("SLURMD_NODENAME") or socket.gethostname()


def _as_dict(snapshot: SystemSnapshot) -> dict[str, object]:
    return snapshot_to_dict(snapshot) | {"node": node_name()}


def _num(value: float | None, fmt: str, suffix: str = "") -> str:
    return "N/A" if value is None else f"{value:{fmt}}{suffix}"


def summary(snapshot: SystemSnapshot) -> str:
    """A few readable lines: NVML status, one line per GPU and process, host.

    Driver strings, GPU names, errors, user names, process command lines and
    ``$CUDA_VISIBLE_DEVICES`` are outside text: each goes through ``display``.
    """
    lines = []
    nvml = snapshot.nvml
    if nvml.ok:
        driver = display(nvml.driver or "N/A")
        lines.append(f"NVML ok, driver {driver}, {len(snapshot.gpus)} GPU(s)")
    else:
        lines.append("host only: " + display(nvml.error or "NVML unavailable"))
    if nvml.cuda_visible_devices is not None:
        lines.append(f"CUDA_VISIBLE_DEVICES={display(nvml.cuda_visible_devices)}")
    for gpu in snapshot.gpus:
        if gpu.error:
            lines.append(f"[{gpu.index}] {display(gpu.name or 'GPU')}: ERROR {display(gpu.error)}")
            continue
        lines.append(
            f"[{gpu.index}] {display(gpu.name or 'N/A')} | {_num(gpu.util_percent, 'd', '%')}"
            f" | {fmt.size(gpu.memory_used_bytes)} / {fmt.size(gpu.memory_total_bytes)}"
            f" | {_num(gpu.temperature_c, 'd', 'C')}"
            f" | {_num(gpu.power_w, '.0f')} / {_num(gpu.power_limit_w, '.0f', ' W')}"
        )
        for proc in gpu.processes or ():
            who = display(proc.user or ("other namespace" if not proc.visible else "N/A"))
            command = display(proc.command or "")
            lines.append(f"    pid {proc.pid} {who} {fmt.size(proc.gpu_memory_bytes)} {command}")
    host = snapshot.host
    lines.append(
        f"host | CPU {_num(host.cpu_percent, '.0f', '%')}"
        f" | load {_num(host.load_1m, '.2f')}"
        f" | RAM {fmt.size(host.memory_used_bytes)} / {fmt.size(host.memory_total_bytes)}"
        f" | disk free {fmt.size(host.disk_free_bytes)}"
    )
    return "\n".join(line.rstrip() for line in lines)
