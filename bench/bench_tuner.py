"""Tuner benchmarks: ask latency, job launch overhead, tab refresh with 500 trials.

Run: python bench/bench_tuner.py   (prints numbers and ratios against baselines
measured in the same run; uses a temporary workspace, starts short CPU-only jobs).

- ask: one ``tuner.ask`` with 200 finished trials (rebuilds hyperopt's Trials from the
  database, then tpe.suggest) vs tpe.suggest alone on an already built Trials.
- launch: ``LocalBackend.submit`` (row written, claimed, shim spawned, pid recorded) vs a
  bare ``subprocess.Popen`` of the same command; the overhead target is <= 50 ms.
- tab: the Tuner tab's queue/leaderboard refresh with 500 trials listed, full rebuild
  and an in-place update, measured in a ``run_test`` harness.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from waitwise_tui.config import Settings  # noqa: E402
from waitwise_tui.core.db import connect  # noqa: E402
from waitwise_tui.core.tuner.service import DONE, ask, finish_trial, open_study  # noqa: E402
from waitwise_tui.core.tuner.space import parse_study  # noqa: E402
from waitwise_tui.core.workspace import Workspace  # noqa: E402

STUDY = """\
[study]
name = "bench"
metric = "loss"
max_trials = 1000
algorithm = "tpe"
command = ["python", "-c", "pass", "{x}", "{y}", "{k}"]

[params.x]
type = "uniform"
low = -3
high = 3

[params.y]
type = "loguniform"
low = 1e-5
high = 1

[params.k]
type = "choice"
options = [1, 2, 4, 8]
"""


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def bench_ask(root: Path) -> None:
    from hyperopt import Domain, Trials, fmin, tpe

    from waitwise_tui.core.tuner.space import hyperopt_space

    conn = connect(root / "ask.sqlite")
    spec = parse_study(STUDY, base_dir=root)
    study = open_study(conn, spec, "bench.toml")
    for _ in range(200):
        (trial,) = ask(conn, study, 1)
        p = trial.params
        finish_trial(conn, trial.id, DONE, (p["x"] - 1) ** 2 + p["y"] + p["k"] * 0.01, "")
    times = []
    for _ in range(10):
        start = time.perf_counter()
        (trial,) = ask(conn, study, 1)
        times.append(time.perf_counter() - start)
        finish_trial(conn, trial.id, DONE, 1.0, "")
    ours = statistics.median(times)

    # Baseline: tpe.suggest alone on an in-memory Trials of 200 finished evaluations.
    space = hyperopt_space(spec.params)
    trials = Trials()
    fmin(
        lambda p: (p["x"] - 1) ** 2 + p["y"] + p["k"] * 0.01,
        space,
        algo=tpe.suggest,
        max_evals=200,
        trials=trials,
        rstate=__import__("numpy").random.default_rng(0),
        show_progressbar=False,
    )
    domain = Domain(lambda p: 0.0, space)
    base_times = []
    for seed in range(10):
        start = time.perf_counter()
        tpe.suggest(trials.new_trial_ids(1), domain, trials, seed)
        base_times.append(time.perf_counter() - start)
    base = statistics.median(base_times)
    print(f"ask with 200 finished trials: {ms(ours)} (median of 10)")
    print(f"  baseline tpe.suggest on a built Trials: {ms(base)}; ratio {ours / base:.2f}x")
    print(f"  database rebuild + bookkeeping per ask: {ms(ours - base)}")
    conn.close()


def bench_launch(root: Path) -> None:
    from waitwise_tui.core.jobs.local import LocalBackend

    ws = Workspace(root / "launch")
    ws.ensure()
    conn = connect(ws.db_path)
    backend = LocalBackend(ws, conn, gpu_probe=list)
    argv = [sys.executable, "-c", "pass"]
    n = 20
    ours, base = [], []
    procs = []
    for _ in range(n):
        start = time.perf_counter()
        procs.append(
            subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
        base.append(time.perf_counter() - start)
        start = time.perf_counter()
        job = backend.submit(argv, workdir=str(root))
        ours.append(time.perf_counter() - start)
        assert job.state == "running", job
    for proc in procs:
        proc.wait()
    deadline = time.monotonic() + 30
    while backend.store.in_state("running", "queued") and time.monotonic() < deadline:
        backend.poll()
        time.sleep(0.05)
    m_ours, m_base = statistics.median(ours), statistics.median(base)
    overhead = m_ours - m_base
    print(f"launch: submit to row+process started {ms(m_ours)} (median of {n})")
    print(f"  baseline bare Popen {ms(m_base)}; ratio {m_ours / m_base:.2f}x")
    verdict = "OK" if overhead <= 0.050 else "OVER"
    print(f"  overhead per job {ms(overhead)} (target <= 50 ms: {verdict})")
    conn.close()


def bench_tab(root: Path) -> None:
    from textual.app import App, ComposeResult

    from waitwise_tui.ui.context import AppContext, Fakes
    from waitwise_tui.ui.tabs.tuner.tab import TunerTab

    ws = Workspace(root / "tab")
    ws.ensure()
    conn = connect(ws.db_path)
    study = open_study(conn, parse_study(STUDY, base_dir=root), "bench.toml")
    now = time.time()
    conn.execute("BEGIN")
    for number in range(500):
        params = {"x": number / 100, "y": 0.001 * (number + 1), "k": 2}
        conn.execute(
            "INSERT INTO trials (study_id, number, state, params, hyperopt_vals, value,"
            " created, finished) VALUES (?, ?, 'done', ?, ?, ?, ?, ?)",
            (study.id, number, json.dumps(params), json.dumps(params), number * 0.5, now, now),
        )
    conn.execute("COMMIT")
    conn.execute("UPDATE studies SET state = 'finished'")
    conn.close()

    class Harness(App[None]):
        def compose(self) -> ComposeResult:
            ctx = AppContext(ws, Settings(), {}, Fakes(gpu_probe=list))
            yield TunerTab(ctx, id="tab-tuner")

    results: dict[str, float] = {}

    async def empty_key() -> None:
        # Baseline: the same key round-trip in a tab with no study at all.
        empty = Workspace(root / "empty")

        class Empty(App[None]):
            def compose(self) -> ComposeResult:
                yield TunerTab(AppContext(empty, Settings(), {}, Fakes(gpu_probe=list)))

        async with Empty().run_test(size=(160, 48)) as pilot:
            await pilot.pause(0.3)
            start = time.perf_counter()
            await pilot.press("down")
            results["key_empty"] = time.perf_counter() - start

    async def run() -> None:
        await empty_key()
        app = Harness()
        async with app.run_test(size=(160, 48)) as pilot:
            tab = app.query_one(TunerTab)
            deadline = time.monotonic() + 20
            while len(tab._queue_rows) < 500 and time.monotonic() < deadline:
                await pilot.pause(0.05)
            view = tab._view
            full, update = [], []
            for _ in range(5):
                tab._queue_rows = {}
                tab._board_rows = []
                start = time.perf_counter()
                tab._render_view(view)
                full.append(time.perf_counter() - start)
                await pilot.pause()
                start = time.perf_counter()
                tab._render_view(view)
                update.append(time.perf_counter() - start)
                await pilot.pause()
            results["full"] = statistics.median(full)
            results["update"] = statistics.median(update)
            # A keypress round-trip while 500 rows are listed.
            start = time.perf_counter()
            await pilot.press("down")
            results["key"] = time.perf_counter() - start

    asyncio.run(run())
    print(f"tab with 500 trials: full table rebuild {ms(results['full'])}")
    print(f"  periodic refresh (nothing changed) {ms(results['update'])};", end=" ")
    print(f"ratio vs rebuild {results['update'] / results['full']:.2f}x")
    print(
        f"  cursor key round-trip {ms(results['key'])}; empty tab {ms(results['key_empty'])};"
        f" ratio {results['key'] / results['key_empty']:.2f}x"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bench_ask(root)
        bench_launch(root)
        bench_tab(root)


if __name__ == "__main__":
    main()
