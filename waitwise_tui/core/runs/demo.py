"""A real, small CPU training run to try the monitor on: ``start_demo`` and its loop.

``start_demo(workspace)`` starts ``python -m waitwise_tui.core.runs.demo`` as a
detached process (own session, output to ``output.txt``, which run scans skip) in
``.waitwise/demo/<timestamp>/``. The child trains a one-hidden-layer numpy MLP with
mini-batch SGD on a generated, slightly noisy classification problem and appends one
JSON line to ``metrics.jsonl`` every ``interval`` seconds: step, epoch, train loss and
accuracy, learning rate, wall time, and every fifth line validation loss and accuracy.
The first and last lines carry ``max_steps`` (the monitor's progress total); the last
also says ``"event": "finished"``. It stops by itself after ``seconds``.

The log is appended and flushed line by line, not written atomically: it stands in for
a training script's log, and tailing readers must see one growing file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from waitwise_tui.core.workspace import Workspace

DEFAULT_SECONDS = 180.0
STEPS_PER_LINE = 10
LOG_NAME = "metrics.jsonl"


def start_demo(
    workspace: Workspace | str | os.PathLike[str],
    seconds: float = DEFAULT_SECONDS,
    interval: float = 0.3,
) -> tuple[int, str]:
    """Start the demo run detached; returns (pid, path of its ``metrics.jsonl``)."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    ws.ensure()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_dir = ws.demo_dir / stamp
    suffix = 2
    while run_dir.exists():
        run_dir = ws.demo_dir / f"{stamp}-{suffix}"
        suffix += 1
    run_dir.mkdir(parents=True)
    argv = [
        sys.executable,
        "-m",
        "waitwise_tui.core.runs.demo",
        "--out",
        str(run_dir),
        "--seconds",
        repr(float(seconds)),
        "--interval",
        repr(float(interval)),
    ]
    with open(run_dir / "output.txt", "ab") as output:
        proc = subprocess.Popen(
            argv,
            cwd=run_dir,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    # Reap the child when it ends so a long-lived caller (the app) keeps no zombie.
    threading.Thread(target=proc.wait, name="demo-reaper", daemon=True).start()
    return proc.pid, str(run_dir / LOG_NAME)


def run_demo(out_dir: Path, seconds: float, interval: float = 0.3, seed: int = 0) -> None:
    """The training loop itself (runs in the child process)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    features, hidden, classes = 16, 32, 6
    centers = rng.normal(0.0, 0.7, size=(classes, features))

    def sample(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, classes, size=n)
        x = centers[labels] + rng.normal(0.0, 1.6, size=(n, features))
        noisy = rng.random(n) < 0.08  # label noise keeps the loss off zero
        labels[noisy] = rng.integers(0, classes, size=int(noisy.sum()))
        return x, labels

    x_train, y_train = sample(6000)
    x_val, y_val = sample(1500)
    w1 = rng.normal(0.0, 1.0 / math.sqrt(features), size=(features, hidden))
    b1 = np.zeros(hidden)
    w2 = rng.normal(0.0, 1.0 / math.sqrt(hidden), size=(hidden, classes))
    b2 = np.zeros(classes)

    def forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = np.tanh(x @ w1 + b1)
        logits = h @ w2 + b2
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return h, p / p.sum(axis=1, keepdims=True)

    def loss_acc(p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        loss = float(-np.log(p[np.arange(len(y)), y] + 1e-12).mean())
        return loss, float((p.argmax(axis=1) == y).mean())

    lines = max(1, int(seconds / interval))
    total = lines * STEPS_PER_LINE
    batch, base_lr = 32, 0.015
    per_epoch = len(x_train) // batch
    path = out_dir / LOG_NAME
    start = time.time()
    with open(path, "a", encoding="utf-8") as log:

        def emit(record: dict[str, object]) -> None:
            record["wall_time"] = round(time.time(), 3)
            log.write(json.dumps(record) + "\n")
            log.flush()

        emit({"event": "start", "step": 0, "max_steps": total})
        step = 0
        for line in range(lines):
            losses, accs = [], []
            for _ in range(STEPS_PER_LINE):
                lr = base_lr * 0.5 * (1.0 + math.cos(math.pi * step / total))
                idx = rng.integers(0, len(x_train), size=batch)
                x, y = x_train[idx], y_train[idx]
                h, p = forward(x)
                loss, acc = loss_acc(p, y)
                losses.append(loss)
                accs.append(acc)
                grad = p.copy()
                grad[np.arange(batch), y] -= 1.0
                grad /= batch
                grad_h = (grad @ w2.T) * (1.0 - h**2)
                w2 -= lr * (h.T @ grad)
                b2 -= lr * grad.sum(axis=0)
                w1 -= lr * (x.T @ grad_h)
                b1 -= lr * grad_h.sum(axis=0)
                step += 1
            record: dict[str, object] = {
                "step": step,
                "epoch": round(step / per_epoch, 3),
                "loss": round(float(np.mean(losses)), 5),
                "acc": round(float(np.mean(accs)), 4),
                "lr": round(lr, 6),
            }
            if line % 5 == 4 or line == lines - 1:
                _, p_val = forward(x_val)
                val_loss, val_acc = loss_acc(p_val, y_val)
                record["val_loss"] = round(val_loss, 5)
                record["val_acc"] = round(val_acc, 4)
            emit(record)
            delay = start + (line + 1) * interval - time.time()
            if delay > 0:
                time.sleep(delay)
        emit({"event": "finished", "step": total, "max_steps": total})
    print(f"demo finished: {total} steps in {time.time() - start:.1f} s", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m waitwise_tui.core.runs.demo")
    parser.add_argument("--out", required=True, help="run directory (exists)")
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS)
    parser.add_argument("--interval", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    run_demo(Path(args.out), max(args.seconds, 0.0), max(args.interval, 0.01), args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
