"""Benchmark: a huge event file opened tail first, then read whole.

Writes (cached in bench/.data/) one event file of N scalars in the PyTorch
``simple_value`` layout, framed by hand (no tensorboard needed), then times in fresh
processes: the first poll of a tail (the latest records: time to first curve), the
whole file with ``read_all`` (full history), and the peak RSS of each.
Run: ``python bench/bench_huge_tfevents.py [N]`` (default 1M; 20M is ~1 GB).
"""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent / ".data"
TAGS = (b"train/loss", b"train/lr", b"train/grad_norm", b"val/loss")


def _varint(v: int) -> bytes:
    out = bytearray()
    while True:
        b, v = v & 0x7F, v >> 7
        out.append(b | 0x80 if v else b)
        if not v:
            return bytes(out)


def make_file(n: int) -> Path:
    from waitwise_tui.core.runs.tfevents import masked_crc32c

    run = DATA / f"huge_{n}"
    done = run / "complete"
    if done.exists():
        return run
    run.mkdir(parents=True, exist_ok=True)
    with open(run / "events.out.tfevents.1", "wb") as fh:
        for i in range(n):
            tag = TAGS[i % len(TAGS)]
            val = b"\x0a" + bytes([len(tag)]) + tag + b"\x15" + struct.pack("<f", 1 / (i + 1))
            summ = b"\x0a" + bytes([len(val)]) + val
            ev = b"\x09" + struct.pack("<d", 1.7e9 + i * 0.01) + b"\x10" + _varint(i // 4)
            data = ev + b"\x2a" + bytes([len(summ)]) + summ
            head = struct.pack("<Q", len(data))
            fh.write(head + struct.pack("<I", masked_crc32c(head)) + data)
            fh.write(struct.pack("<I", masked_crc32c(data)))
    done.write_text("ok\n")
    return run


CHILD = """
import resource, sys, time
from waitwise_tui.core.runs.model import RunCandidate
from waitwise_tui.core.runs.readers import open_tail, read_all
c = RunCandidate(sys.argv[1], "tfevents", "huge")
t = time.perf_counter()
if sys.argv[2] == "first":
    u = open_tail(c).poll()
else:
    u = read_all(c)
s = time.perf_counter() - t
n = sum(map(len, u.columns)) + len(u.points)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{s:.3f} {n} {rss:.0f}")
"""


def child(run: Path, mode: str) -> tuple[float, int, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(run), mode], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), int(out[1]), float(out[2])


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    run = make_file(n)
    size = sum(p.stat().st_size for p in run.glob("events.out.tfevents.*"))
    print(f"file: {n} scalars, {size / 1e6:.1f} MB")
    s, k, rss = child(run, "first")
    print(f"first curve (tail-first poll): {s:.3f} s, {k} scalars, peak RSS {rss:.0f} MB")
    s, k, rss = child(run, "full")
    print(f"full history (read_all):       {s:.3f} s, {k} scalars, peak RSS {rss:.0f} MB")
    return 0 if k == n else 1


if __name__ == "__main__":
    sys.exit(main())
