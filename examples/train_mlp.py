"""A tiny numpy MLP regression, the trial script of examples/mlp_study.toml.

Trains a one-hidden-layer network on a fixed synthetic dataset for a second or two on
a CPU and reports the validation loss the way waitwise-tui reads it: as JSON in the
file named by $WAITWISE_RESULT (or a ``WAITWISE_RESULT {...}`` line when run by hand).
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np


def make_data(seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=(1200, 4))
    y = np.sin(x[:, :1] * 1.5) + 0.5 * x[:, 1:2] * x[:, 2:3] - 0.3 * x[:, 3:4] ** 2
    y += rng.normal(0, 0.05, size=y.shape)
    return x[:1000], y[:1000], x[1000:], y[1000:]


def train(lr: float, batch_size: int, hidden: int, epochs: int, seed: int) -> float:
    x_train, y_train, x_val, y_val = make_data()
    rng = np.random.default_rng(seed)
    w1 = rng.normal(0, 1 / np.sqrt(4), size=(4, hidden))
    b1 = np.zeros(hidden)
    w2 = rng.normal(0, 1 / np.sqrt(hidden), size=(hidden, 1))
    b2 = np.zeros(1)
    for epoch in range(epochs):
        order = rng.permutation(len(x_train))
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            xb, yb = x_train[idx], y_train[idx]
            h = np.tanh(xb @ w1 + b1)
            err = h @ w2 + b2 - yb
            grad_out = 2 * err / len(idx)
            grad_h = (grad_out @ w2.T) * (1 - h**2)
            w2 -= lr * h.T @ grad_out
            b2 -= lr * grad_out.sum(0)
            w1 -= lr * xb.T @ grad_h
            b1 -= lr * grad_h.sum(0)
        train_loss = float(np.mean((np.tanh(x_train @ w1 + b1) @ w2 + b2 - y_train) ** 2))
        print(f"epoch {epoch + 1} train_loss {train_loss:.5f}", flush=True)
    pred = np.tanh(x_val @ w1 + b1) @ w2 + b2
    return float(np.mean((pred - y_val) ** 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lr", type=float, required=True)
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    val_loss = train(args.lr, args.batch_size, args.hidden, args.epochs, args.seed)
    result = {"val_loss": val_loss if np.isfinite(val_loss) else float("nan")}
    path = os.environ.get("WAITWISE_RESULT")
    if path:
        with open(path + ".tmp", "w", encoding="utf-8") as handle:
            json.dump(result, handle)
        os.replace(path + ".tmp", path)
    else:
        print("WAITWISE_RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
