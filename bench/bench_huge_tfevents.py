"""Benchmark: a huge event file opened the app's way, against rustboard on the same file.

Writes one event file of N scalars (four tags, PyTorch ``simple_value`` layout, framed
and checksummed with numpy, no tensorboard needed) into a temporary directory that is
deleted at the end, then times in fresh processes:

- waitwise: a ``RunMonitor`` over the directory, as the app's runs panel polls it:
  time to the first poll with the run listed and a chart of its latest steps drawn
  (tail first: the last 4 MB), time until the history is filled in (every scalar
  counted, checksums always checked), and the process's peak RSS.
- rustboard: TensorBoard's Rust data server (the ``server`` binary of the installed
  ``tensorboard-data-server``) with ``--checksum --reload once``, asked over its gRPC
  API (tensorboard's own protos) until every tag reports its last step; its first data
  (the oldest steps: it reads from the start) and its peak RSS (``VmHWM``).

Run: ``python bench/bench_huge_tfevents.py [N]`` (default 2M scalars, ~100 MB;
20000000 is ~1 GB). Prints the ratios (rustboard / waitwise: above 1 means faster).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TAGS = (b"train/loss", b"train/lr", b"train/grad_norm", b"val/loss")
CHUNK = 1 << 20  # records generated per numpy pass


def _varint_width(steps: Any) -> Any:
    import numpy as np

    width = np.ones(len(steps), dtype=np.int64)
    for k in range(1, 9):
        width += steps >= (1 << (7 * k))
    return width


def _records(first: int, n: int) -> bytes:
    """Bytes of records ``first .. first + n - 1`` (record i: step i // 4, tag i % 4)."""
    import numpy as np

    from waitwise_tui.core.runs.tfevents import _np_masked, masked_crc32c

    i = np.arange(first, first + n, dtype=np.int64)
    steps = i // len(TAGS)
    tag = i % len(TAGS)
    width = _varint_width(steps)
    tag_len = np.array([len(t) for t in TAGS], dtype=np.int64)[tag]
    data_len = 21 + width + tag_len
    rec_len = 16 + data_len
    starts = np.concatenate([[0], np.cumsum(rec_len)[:-1]])
    buf = np.zeros(int(rec_len.sum()), dtype=np.uint8)
    walls = (1.7e9 + i * 0.01).astype("<f8").view(np.uint8).reshape(-1, 8)
    values = (1.0 / (i + 1)).astype("<f4").view(np.uint8).reshape(-1, 4)
    for w in np.unique(width).tolist():
        for t, name in enumerate(TAGS):
            sel = np.flatnonzero((width == w) & (tag == t))
            if not len(sel):
                continue
            at = starts[sel]
            length = 21 + w + len(name)
            head = length.to_bytes(8, "little")
            buf[at[:, None] + np.arange(8)] = np.frombuffer(head, dtype=np.uint8)
            crc = masked_crc32c(head).to_bytes(4, "little")
            buf[at[:, None] + np.arange(8, 12)] = np.frombuffer(crc, dtype=np.uint8)
            d = at + 12
            buf[d] = 0x09
            buf[d[:, None] + np.arange(1, 9)] = walls[sel]
            buf[d + 9] = 0x10
            s = steps[sel]
            for k in range(w):
                byte = (s >> (7 * k)) & 0x7F
                buf[d + 10 + k] = byte | (0x80 if k < w - 1 else 0)
            p = d + 10 + w
            value_len = 2 + len(name) + 5
            fixed = bytes([0x2A, value_len + 2, 0x0A, value_len, 0x0A, len(name)]) + name
            fixed += b"\x15"
            buf[p[:, None] + np.arange(len(fixed))] = np.frombuffer(fixed, dtype=np.uint8)
            buf[(p + len(fixed))[:, None] + np.arange(4)] = values[sel]
            dcrc = _np_masked(buf, d, length).astype("<u4").view(np.uint8).reshape(-1, 4)
            buf[(d + length)[:, None] + np.arange(4)] = dcrc
    return buf.tobytes()


def make_file(folder: Path, n: int) -> Path:
    path = folder / "events.out.tfevents.1700000000.bench"
    with open(path, "wb") as fh:
        for first in range(0, n, CHUNK):
            fh.write(_records(first, min(CHUNK, n - first)))
    return path


WAITWISE = """
import sys, time
t0 = time.perf_counter()
from waitwise_tui.core.runs.monitor import RunMonitor
# The app has these modules loaded before it finds a run (numpy is not among them).
imported = time.perf_counter() - t0
root, n = sys.argv[1], int(sys.argv[2])
mon = RunMonitor(root, writers=False, rescan_seconds=3600)
first = None
while True:
    snap = mon.poll()
    run = snap.runs[0] if snap.runs else None
    if run is not None and first is None and run.metrics:
        chart = mon.chart([run.name], ["train/loss"], 80, 20)
        assert "no data" not in chart
        first = time.perf_counter() - t0
    if run is not None and run.loading is None and sum(m.count for m in run.metrics) >= n:
        break
full = time.perf_counter() - t0
chart = mon.chart([run.name], ["train/loss"], 80, 20)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent.
rss = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
cpu = time.process_time()
count = sum(m.count for m in run.metrics)
print(f"{first:.3f} {full:.3f} {cpu:.2f} {rss:.0f} {count} {imported:.3f}")
"""


def run_waitwise(folder: Path, n: int) -> tuple[float, float, float, float, int, float]:
    out = subprocess.run(
        [sys.executable, "-c", WAITWISE, str(folder), str(n)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), float(out[1]), float(out[2]), float(out[3]), int(out[4]), float(out[5])


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_rustboard(folder: Path, n: int) -> tuple[float, float, float, float] | str:
    """(first data s, full s, CPU s, peak RSS MB), or why it could not run."""
    try:
        import grpc
        import tensorboard_data_server
        from tensorboard.data.proto import data_provider_pb2 as pb
        from tensorboard.data.proto import data_provider_pb2_grpc as pb_grpc
    except ImportError as exc:
        return f"not run: {exc}"
    binary = tensorboard_data_server.server_binary()
    if binary is None or not os.path.exists(binary):
        return "not run: tensorboard-data-server has no server binary for this platform"
    last_step = (n - 1) // len(TAGS)
    with tempfile.TemporaryDirectory() as scratch:
        port_file = Path(scratch) / "port"
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [
                *(binary, "--logdir", str(folder), "--port", "0", "--port-file", str(port_file)),
                *("--reload", "once", "--checksum", "--die-after-stdin"),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while not port_file.exists() or not port_file.read_text().endswith("\n"):
                if proc.poll() is not None:
                    return f"not run: server exited with {proc.returncode}"
                time.sleep(0.01)
            port = int(port_file.read_text())
            channel = grpc.insecure_channel(f"localhost:{port}")
            stub = pb_grpc.TensorBoardDataProviderStub(channel)
            req = pb.ListScalarsRequest(
                experiment_id="", plugin_filter=pb.PluginFilter(plugin_name="scalars")
            )
            first = None
            while True:
                tags = {}
                for run in stub.ListScalars(req).runs:
                    for tag in run.tags:
                        tags[tag.tag_name] = tag.metadata.max_step
                if tags and first is None:
                    first = time.perf_counter() - t0
                if len(tags) == len(TAGS) and min(tags.values()) >= last_step:
                    break
                time.sleep(0.02)
            full = time.perf_counter() - t0
            rss = _peak_rss_mb(proc.pid)
            with open(f"/proc/{proc.pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            channel.close()
        finally:
            proc.stdin.close()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return first, full, cpu, rss


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    folder = Path(tempfile.mkdtemp(prefix="waitwise-bench-huge-"))
    try:
        t = time.perf_counter()
        path = make_file(folder, n)
        size = path.stat().st_size
        made = time.perf_counter() - t
        print(f"file: {n:,} scalars, {size / 1e6:.1f} MB (written in {made:.1f} s)")
        first, full, cpu, rss, count, imported = run_waitwise(folder, n)
        print(
            f"waitwise:  first curve {first:.3f} s, full history {full:.2f} s "
            f"(CPU {cpu:.2f} s), peak RSS {rss:.0f} MB, {count:,} scalars; "
            f"of which Python start and the app's imports {imported:.2f} s"
        )
        rust = run_rustboard(folder, n)
        if isinstance(rust, str):
            print(f"rustboard: {rust}")
            return 0 if count == n else 1
        r_first, r_full, r_cpu, r_rss = rust
        print(
            f"rustboard: first data {r_first:.3f} s (oldest steps), full history {r_full:.2f} s "
            f"(CPU {r_cpu:.2f} s), peak RSS {r_rss:.0f} MB (--checksum, default sampling)"
        )
        print(
            f"ratios rustboard/waitwise: full history wall {r_full / full:.2f}, "
            f"CPU {r_cpu / cpu:.2f}; first view {r_first / first:.2f}; RSS {r_rss / rss:.2f}"
        )
        print(
            "ratio with the app already running (its start-up and imports left out, "
            f"numpy's import kept in): full history wall {r_full / (full - imported):.2f}"
        )
        return 0 if count == n else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
