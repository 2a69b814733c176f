"""Writes the recorded per-GPU series the GPU-alert tests read (gpu_series.json).

Four 8-GPU, two-node sessions at 5 s, 15 minutes each, shaped after what NVML shows:
healthy training (util 95-100 %, ~400 W); an NCCL hang (util stays ~100 % but power
falls to ~120 W from minute 12, the tests stop the step counter at minute 9); a straggler
(n2/gpu3 at ~30 % from minute 13 while the rest run at ~97 %); an idle GPU (n1/gpu2
at 0 % throughout). Run: python tests/core/jobs/data/make_gpu_series.py
"""

import json
import random
from pathlib import Path

rng = random.Random(21)
KEYS = [f"n{n}/gpu{g}" for n in (1, 2) for g in range(4)]
T = [i * 5.0 for i in range(180)]


def session(shape):
    out = {}
    for key in KEYS:
        samples = []
        for t in T:
            util, power = shape(key, t)
            samples.append([t, round(util), round(power, 1)])
        out[key] = samples
    return out


def healthy(key, t):
    return min(100, 95 + rng.random() * 5), 380 + rng.random() * 40


def hang(key, t):
    if t >= 720:
        return 100, 110 + rng.random() * 20
    return healthy(key, t)


def straggler(key, t):
    if key == "n2/gpu3" and t >= 780:
        return 25 + rng.random() * 10, 150
    return healthy(key, t)


def idle(key, t):
    if key == "n1/gpu2":
        return 0, 60
    return healthy(key, t)


data = {
    "healthy": session(healthy),
    "hang": session(hang),
    "straggler": session(straggler),
    "idle": session(idle),
}
Path(__file__).with_name("gpu_series.json").write_text(json.dumps(data, separators=(",", ":")))
