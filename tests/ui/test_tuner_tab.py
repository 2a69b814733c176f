"""The Tuner tab in a harness app: Pilot tests pressing real keys, plus snapshots."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import ContentSwitcher, DataTable, Log, Static

from waitwise_tui.config import Settings
from waitwise_tui.core.db import connect
from waitwise_tui.core.events import TRIAL_FINISHED
from waitwise_tui.core.tuner.service import (
    FINISHED,
    find_study,
    list_trials,
    open_study,
    update_study,
)
from waitwise_tui.core.tuner.space import parse_study
from waitwise_tui.core.workspace import Workspace
from waitwise_tui.ui.context import AppContext, Fakes
from waitwise_tui.ui.messages import RecordEvent
from waitwise_tui.ui.tabs.tuner.modals import TunerPrompt
from waitwise_tui.ui.tabs.tuner.tab import TunerCommands, TunerTab

T0 = 1_700_000_000.0

TRIAL = """\
import json, os, sys, time
x = float(sys.argv[1])
if sys.argv[2] == "hang":
    time.sleep(60)
print("training with", x, flush=True)
open(os.environ["WAITWISE_RESULT"], "w").write(json.dumps({"loss": (x - 1) ** 2}))
"""

STUDY = """\
[study]
name = "{name}"
metric = "loss"
max_trials = {max_trials}
parallel = 2
timeout_minutes = 1
algorithm = "random"
command = ["python", "trial.py", "{{x}}", "{{mode}}"]

[params.x]
type = "uniform"
low = -2
high = 2

[params.mode]
type = "choice"
options = [{mode}]
"""


class TunerHarness(App[None]):
    """Composes one TunerTab, records the events it posts."""

    def __init__(self, root: Path, *, clock: Any = None) -> None:
        super().__init__()
        settings = Settings()
        settings.interval = 0.1
        fakes = Fakes(gpu_probe=list, clock=clock)
        self.ctx = AppContext(Workspace(root), settings, {}, fakes)
        self.tab = TunerTab(self.ctx, id="tab-tuner")
        self.events: list[Any] = []

    def compose(self) -> ComposeResult:
        yield self.tab

    def on_mount(self) -> None:
        self.tab.tab_activated()

    def on_record_event(self, message: RecordEvent) -> None:
        self.events.append(message.event)


def write_study(root: Path, name="demo", max_trials=3, mode='"ok"') -> Path:
    (root / "trial.py").write_text(TRIAL)
    path = root / f"{name}.toml"
    path.write_text(STUDY.format(name=name, max_trials=max_trials, mode=mode))
    return path


def finished_fixture(root: Path) -> None:
    """A finished study with fixed values and times (no processes involved)."""
    path = write_study(root, max_trials=4)
    ws = Workspace(root)
    ws.ensure()
    conn = connect(ws.db_path)
    study = open_study(conn, parse_study(path.read_text(), base_dir=root), "demo.toml")
    rows = [
        (0.5, 0.25, "done"),
        (-1.25, 5.0625, "done"),
        (1.1, 0.01, "done"),
        (0.0, None, "failed"),
    ]
    for number, (x, value, state) in enumerate(rows):
        job_dir = ws.jobs_dir / str(number + 1)
        job_dir.mkdir(parents=True)
        (job_dir / "stdout.log").write_text(f"training with {x}\n")
        conn.execute(
            "INSERT INTO jobs (id, argv, workdir, state, attempts, created, started, finished,"
            " exit_code, reason) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
            (
                number + 1,
                json.dumps(["python", "trial.py", str(x), "ok"]),
                str(root),
                "done" if state == "done" else "failed",
                T0,
                T0 + number * 10,
                T0 + number * 10 + 65,
                0 if state == "done" else 1,
                "" if state == "done" else "exit code 1",
            ),
        )
        conn.execute(
            "INSERT INTO trials (study_id, number, state, params, hyperopt_vals, value, reason,"
            " job_id, created, finished) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                study.id,
                number,
                state,
                json.dumps({"x": x, "mode": "ok"}),
                json.dumps({"x": x, "mode": 0}),
                value,
                "" if state == "done" else "exit code 1",
                number + 1,
                T0,
                T0 + number * 10 + 65,
            ),
        )
    update_study(conn, study.id, state=FINISHED)
    conn.close()


async def wait_for(pilot, predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached")


def status_text(app) -> str:
    return str(app.query_one("#tuner-status", Static).render())


def table_rows(app, table_id="#tuner-queue") -> list[list[str]]:
    table = app.query_one(table_id, DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_shows_a_finished_study_with_leaderboard_and_log(tmp_path):
    finished_fixture(tmp_path)
    app = TunerHarness(tmp_path, clock=lambda: T0 + 1000)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: len(table_rows(app)) == 4)
        rows = table_rows(app)
        assert rows[0] == ["0", "done", "x=0.5 mode=ok", "local", "-", "1m05s", "0.25"]
        assert rows[3][1] == "failed" and rows[3][6] == "exit code 1"
        assert "finished 4/4 · 0 running" in status_text(app)
        assert "best 0.01 #2" in status_text(app)
        await pilot.press("v")
        switcher = app.query_one(ContentSwitcher)
        assert switcher.current == "tuner-board"
        assert [r[1] for r in table_rows(app, "#tuner-board")] == ["2", "0", "1"]
        await pilot.press("v")
        assert switcher.current == "tuner-plots"
        await wait_for(
            pilot, lambda: "best loss so far" in str(app.query_one("#tuner-plots").render())
        )
        await pilot.press("v", "v")  # log (nothing chosen yet), the Slurm cluster view
        assert switcher.current == "tuner-cluster"
        await wait_for(pilot, lambda: "Slurm" in status_text(app))
        await pilot.press("v")  # back to the queue
        assert switcher.current == "tuner-queue"
        await pilot.press("down", "l")
        assert switcher.current == "tuner-log"
        log = app.query_one("#tuner-log", Log)
        await wait_for(pilot, lambda: any("training with -1.25" in line for line in log.lines))
        await pilot.press("p")  # a finished study cannot be paused: a warning, nothing else
        await pilot.pause()
        assert "finished" in status_text(app)


@pytest.mark.slow
async def test_open_a_study_runs_it_and_posts_events(tmp_path):
    write_study(tmp_path, max_trials=3)
    app = TunerHarness(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        await pilot.press(*"demo.toml", "enter")
        await wait_for(pilot, lambda: [r[1] for r in table_rows(app)] == ["done"] * 3)
        await wait_for(pilot, lambda: sum(e.kind == TRIAL_FINISHED for e in app.events) == 3)
        assert all(e.source == "tuner" for e in app.events)
        await wait_for(pilot, lambda: "finished 3/3 ·" in status_text(app))
        await pilot.press("n", "backspace", "2", "enter")  # launch two more
        await wait_for(pilot, lambda: [r[1] for r in table_rows(app)] == ["done"] * 5)
    conn = connect(Workspace(tmp_path).db_path)
    study = find_study(conn, "demo")
    assert study.spec.max_trials == 5 and len(list_trials(conn, study.id)) == 5


@pytest.mark.slow
async def test_bad_study_file_is_reported_and_nothing_breaks(tmp_path):
    (tmp_path / "bad.toml").write_text('[study]\ncommand = ["x"]\n[params.a]\ntype = "uniform"\n')
    app = TunerHarness(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o", *"bad.toml", "enter")
        await wait_for(
            pilot, lambda: any("missing metric" in n.message for n in app._notifications)
        )
        await pilot.press("o", *"missing.toml", "enter")
        await wait_for(pilot, lambda: any("cannot read" in n.message for n in app._notifications))
        assert "no study yet" in status_text(app)


@pytest.mark.slow
async def test_pause_parallel_cancel_and_retry(tmp_path):
    write_study(tmp_path, max_trials=4, mode='"hang"')
    app = TunerHarness(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("o", *"demo.toml", "enter")
        await wait_for(pilot, lambda: [r[1] for r in table_rows(app)] == ["running"] * 2)
        await pilot.press("p")
        await wait_for(pilot, lambda: "paused" in status_text(app))
        await pilot.press("plus")
        await wait_for(pilot, lambda: "par 3" in status_text(app))
        await pilot.press("c")
        await wait_for(pilot, lambda: table_rows(app)[0][1] == "cancelled")
        assert len(table_rows(app)) == 2  # paused: nothing new launched
        await pilot.press("r")
        await wait_for(pilot, lambda: table_rows(app)[0][1] == "running")
        await pilot.press("down", "c", "up", "c")
        await wait_for(pilot, lambda: [r[1] for r in table_rows(app)] == ["cancelled"] * 2)


async def test_plain_jobs_are_listed(tmp_path):
    from waitwise_tui.cli import main

    assert (
        main(["jobs", "submit", "-w", str(tmp_path), "--", sys.executable, "-c", "print(1)"]) == 0
    )
    app = TunerHarness(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.tab._picker_options != [])
        await pilot.press("s")
        await wait_for(pilot, lambda: table_rows(app) and table_rows(app)[0][1] == "done")
        assert "plain jobs: 1" in status_text(app)


class FixtureApp(TunerHarness):
    """Snapshot app: the finished fixture in a fixed folder name under the test's tmp dir."""


def snapshot_app(tmp_path: Path) -> FixtureApp:
    root = tmp_path / "ws"
    root.mkdir()
    finished_fixture(root)
    return FixtureApp(root, clock=lambda: T0 + 1000)


async def _settle(pilot) -> None:
    await wait_for(pilot, lambda: len(table_rows(pilot.app)) == 4)
    await pilot.pause()


def test_snapshot_80x24(tmp_path, snap_compare):
    assert snap_compare(snapshot_app(tmp_path), terminal_size=(80, 24), run_before=_settle)


def test_snapshot_160x48_leaderboard(tmp_path, snap_compare):
    async def board(pilot) -> None:
        await _settle(pilot)
        await pilot.press("v")
        await pilot.pause()

    assert snap_compare(snapshot_app(tmp_path), terminal_size=(160, 48), run_before=board)


class PaletteHarness(TunerHarness):
    COMMANDS = {TunerCommands}


@pytest.mark.slow
async def test_palette_command_opens_the_study_prompt(tmp_path):
    app = PaletteHarness(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"open study", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TunerPrompt))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, TunerPrompt))


FAKE_SQUEUE = """#!/bin/sh
echo "301|RUNNING|None|12:01|1:00:00|node7|gres:gpu:2|gpu|me|(null)|someone-elses-notebook"
echo "302|PENDING|Priority|0:00|1:00:00||gres:gpu:1|gpu|me|(null)|sweep-b"
echo "299|COMPLETED|None|3:00|1:00:00|node2||gpu|me|(null)|done-one"
"""


def fake_slurm_tools(bin_dir: Path, monkeypatch) -> Path:
    """squeue and scancel stand-ins on PATH (the real ones are tested in core/jobs)."""
    bin_dir.mkdir()
    calls = bin_dir / "scancel.calls"
    tools = {
        "squeue": FAKE_SQUEUE,
        "scancel": f'#!/bin/sh\necho "$@" >> {calls}\n',
    }
    for name, body in tools.items():
        path = bin_dir / name
        path.write_text(body)
        path.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{sys.exec_prefix}/bin:/usr/bin:/bin")
    return calls


@pytest.mark.slow
async def test_cluster_view_lists_own_slurm_jobs_and_cancels_after_confirming(
    tmp_path, monkeypatch
):
    calls = fake_slurm_tools(tmp_path / "bin", monkeypatch)
    app = TunerHarness(tmp_path / "ws")
    (tmp_path / "ws").mkdir()
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.press("k")
        switcher = app.query_one(ContentSwitcher)
        assert switcher.current == "tuner-cluster"
        await wait_for(pilot, lambda: len(table_rows(app, "#tuner-cluster")) == 3)
        rows = table_rows(app, "#tuner-cluster")
        assert [r[0] for r in rows] == ["301", "302", "299"]  # running, pending, ended
        assert rows[1][1:3] == ["pending", "Priority"]
        assert rows[0][4:7] == ["node7", "2", "someone-elses-notebook"]
        assert "1 running · 1 pending" in status_text(app)
        await pilot.press("c")
        await pilot.pause()
        assert "Cancel Slurm job 301" in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("n")  # said no: nothing cancelled
        await wait_for(pilot, lambda: not app.screen.query("#confirm-question"))
        await app.workers.wait_for_complete()
        assert not calls.exists()
        await pilot.press("c", "y")
        await wait_for(pilot, lambda: calls.exists() and calls.read_text().split() == ["301"])
        # An ended job can't be cancelled: a warning only. (The cursor is put on it:
        # "end" left it on job 301 and a fixed pause hid that no warning came.)
        app.query_one("#tuner-cluster", DataTable).move_cursor(row=2)
        await pilot.press("c")
        await wait_for(pilot, lambda: any(n.severity == "warning" for n in app._notifications))
        assert any("299 already ended" in n.message for n in app._notifications)
        await app.workers.wait_for_complete()
        assert calls.read_text().split() == ["301"]
    assert not (tmp_path / "ws" / ".waitwise").exists()


async def test_cluster_view_without_slurm_says_why(tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    app = TunerHarness(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("k")
        await wait_for(pilot, lambda: "squeue not found on PATH" in status_text(app))
        assert table_rows(app, "#tuner-cluster") == []


# -- plots: a figure of their own ----------------------------------------------------------


def test_plots_draw_in_a_figure_of_their_own_without_the_plot_lock():
    """Tuner plots never touch plotext's global figure, so they draw the same while
    other threads draw at once and another draws a subplot grid globally."""
    import threading

    import plotext as plt

    from waitwise_tui.ui.tabs.tuner.views import render_plots

    done = [(i, {"x": 0.1 * (i + 1), "mode": "ab"[i % 2]}, (i - 3) ** 2 * 0.5) for i in range(8)]
    kinds = [("x", 100, 30), ("mode", 60, 24), (None, 80, 20)]
    alone = [
        render_plots(done, metric="loss", minimize=True, param=p, width=w, height=h)
        for p, w, h in kinds
    ]
    assert all("best loss so far" in Text.from_ansi(text).plain for text in alone)
    results: dict[int, list[str]] = {}
    stop = threading.Event()

    def draw(index: int) -> None:
        results[index] = [
            render_plots(done, metric="loss", minimize=True, param=p, width=w, height=h)
            for p, w, h in kinds * 5
        ]

    def global_churn() -> None:  # another feature drawing into the global figure
        while not stop.is_set():
            plt.main()
            plt.clear_figure()
            plt.subplots(3, 3)
            plt.subplot(2, 2)
            plt.title("someone else")
            plt.plot([1, 2, 3], [3, 1, 2])
            plt.build()

    churn = threading.Thread(target=global_churn, daemon=True)
    churn.start()
    workers = [threading.Thread(target=draw, args=(i,), daemon=True) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    stop.set()
    churn.join(30)
    plt.main()
    plt.clear_figure()
    assert all(not worker.is_alive() for worker in workers)
    assert all(texts == alone * 5 for texts in results.values()) and len(results) == 4


def shown_states(app) -> list[str]:
    """The state column as drawn on screen (each row's line, cut where the column ends)."""
    table = app.query_one("#tuner-queue", DataTable)
    column = table.get_column_index("state")
    start = sum(c.get_render_width(table) for c in table.ordered_columns[:column])
    width = table.ordered_columns[column].get_render_width(table)
    lines = [table.render_line(1 + i).text for i in range(table.row_count)]
    return [line[start : start + width].strip() for line in lines]


@pytest.mark.slow
@pytest.mark.parametrize("size", [(160, 48), (80, 24)])
async def test_queue_state_words_are_never_cut(tmp_path, size):
    write_study(tmp_path, max_trials=4, mode='"hang"')
    app = TunerHarness(tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.press("o", *"demo.toml", "enter")
        # Rows are added as "queued" or "starting"; later words are longer.
        await wait_for(pilot, lambda: [r[1] for r in table_rows(app)] == ["running"] * 2)
        await pilot.pause()
        assert shown_states(app) == ["running"] * 2
        await pilot.press("p", "c")
        await wait_for(pilot, lambda: table_rows(app)[0][1] == "cancelled")
        await pilot.pause()
        assert shown_states(app)[0] == "cancelled"
        await pilot.press("down", "c")
        await wait_for(pilot, lambda: [r[1] for r in table_rows(app)] == ["cancelled"] * 2)
        await pilot.pause()
        assert shown_states(app) == ["cancelled"] * 2
