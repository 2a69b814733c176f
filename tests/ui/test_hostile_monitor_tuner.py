"""Hostile outside text in the monitor, the runs panel and the tuner tab (issue: untrusted
text never runs, never styles, never moves the cursor).

The app (or the GPU panel alone) is fed the shared corpus as GPU names, a driver
version, process users and command lines, run labels, run names and metric names (two
going NaN, so alerts quote them), a study name and metric, trial parameters and failure
reasons, job commands and job output, and Slurm's job names, reasons and node lists.
What reaches the terminal is read back cell by cell from the same full render that
``export_screenshot`` prints: the escaped text shows literally (``\\x1b[2J`` as eight
characters, ``[bold red]x[/]`` with its brackets), no segment carries a control
character or a link, columns stay aligned, and no canary file appears.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fakes import HOST, make_context, tabs_ready
from hostile import BIG, assert_no_canary, assert_no_control, corpus, identifier_corpus
from rich.segment import Segment
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Log

from waitwise_tui.config import Settings
from waitwise_tui.core.db import connect
from waitwise_tui.core.gpu.sampler import GpuInfo, GpuProcess, NvmlStatus, SystemSnapshot
from waitwise_tui.core.text import display
from waitwise_tui.core.tuner.service import FINISHED, open_study, update_study
from waitwise_tui.core.tuner.space import parse_study
from waitwise_tui.core.workspace import Workspace
from waitwise_tui.ui.app import WaitwiseApp
from waitwise_tui.ui.context import AppContext, Fakes
from waitwise_tui.ui.monitor.runs import RunsPanel
from waitwise_tui.ui.monitor.system import SystemMonitor
from waitwise_tui.ui.screens import ConfirmScreen
from waitwise_tui.ui.tabs import TABS
from waitwise_tui.ui.tabs.tuner.views import render_plots

T0 = 1_700_000_000.0
LOSS = "lo\x1b[2Jss"
MARKUP = "[bold red]x[/]"
RED = "\x1b[31mred"
LINK = "\x1b]8;;file:///etc/passwd\x07link\x1b]8;;\x07"


# -- reading the screen ---------------------------------------------------------------


def screen(app: App) -> tuple[list[str], list[Segment]]:
    """Every line of the screen as the terminal would get it, and its segments."""
    # The full render export_screenshot prints (modal screens over their background).
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    lines: list[str] = []
    segments: list[Segment] = []
    for line in update.strips:
        cells = [segment for strip in line for segment in strip]
        segments += cells
        lines.append("".join(segment.text for segment in cells))
    return lines, segments


def inert_screen(tmp: Path, app: App) -> str:
    """The screen's text, after checking that nothing on it acts on the terminal."""
    lines, segments = screen(app)
    for segment in segments:
        assert segment.control is None, segment
        assert_no_control(segment.text, allow_newline=False)
        assert segment.style is None or not segment.style.link, segment
    assert_no_canary(tmp)
    return "\n".join(lines)


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        await pilot.pause(0.02)
    shown_now = "\n".join(screen(pilot.app)[0])
    for table in pilot.app.query(DataTable):  # what the tables measured their columns at
        widths = [(c.label.plain, c.content_width) for c in table.ordered_columns]
        shown_now += f"\n{table.id}: {widths}, new rows {len(table._new_rows)}"
    raise AssertionError(f"condition not reached; the screen:\n{shown_now}")


def shown(text: str) -> str:
    """What a hostile string looks like on screen."""
    return display(text)


# -- GPU panel ------------------------------------------------------------------------


class HostileSampler:
    """A system sampler whose every outside field is a corpus string."""

    def __init__(self, strings: list[str]) -> None:
        processes = tuple(
            GpuProcess(
                pid=1000 + index,
                gpu_index=0,
                gpu_memory_bytes=2**30,
                sm_percent=10,
                user=text,
                command=text,
                cpu_percent=5.0,
                rss_bytes=2**20,
                elapsed_s=60.0,
                own=index == 0,
                visible=True,
            )
            for index, text in enumerate(strings)
        )
        self.snapshot = SystemSnapshot(
            time=T0,
            nvml=NvmlStatus(
                ok=True, error=None, driver="\x1b]0;title\x1b\\", cuda_visible_devices=MARKUP
            ),
            gpus=(
                GpuInfo(
                    0,
                    LOSS,
                    None,
                    util_percent=50,
                    memory_used_bytes=2**33,
                    memory_total_bytes=2**34,
                    throttle_reasons=(RED,),
                    processes=processes,
                ),
                GpuInfo(1, "spare", None, error=RED),
            ),
            host=HOST,
        )

    def sample(self) -> SystemSnapshot:
        return self.snapshot


class MonitorHarness(App[None]):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.monitor = SystemMonitor(ctx, id="monitor")

    def compose(self) -> ComposeResult:
        yield self.monitor


async def test_gpu_panel_shows_outside_text_escaped_and_aligned(tmp_path: Path) -> None:
    strings = [*identifier_corpus(tmp_path), "new\nline", "nul\x00byte"]
    # The hostile sampler stands in for NVML and psutil.
    fakes = Fakes(sampler=HostileSampler(strings))
    app = MonitorHarness(AppContext(Workspace(tmp_path), Settings(interval=0.1), fakes=fakes))
    async with app.run_test(size=(200, 60)) as pilot:
        monitor = app.monitor
        await wait_for(pilot, lambda: monitor.latest_snapshot is not None)
        labels = {1000 + index: text for index, text in enumerate(strings)}
        monitor.set_process_labels(labels)
        await pilot.pause()
        text = inert_screen(tmp_path, app)
        assert f"0 {shown(LOSS)}" in text  # the GPU name
        assert "driver \\x1b]0;title\\x1b\\" in text
        assert f"CUDA_VISIBLE_DEVICES={MARKUP}" in text
        assert f"ERROR: {shown(RED)}" in text
        assert shown(RED) in text  # a throttle reason
        # Each process line: its label and command line, escaped.
        for label in ("a\\r\\x08b", "nul\\x00byte", "new\\nline", "rtl\\u202eevil"):
            assert f"{label} {label}" in text
        # Users are cut to their column on the escaped text: every row keeps its columns.
        rows = [line for line in monitor.plain_lines if line[1:9].strip().isdigit()]
        assert len(rows) == len(strings)
        assert {row[51:58] for row in rows} == {"     1m"}  # the TIME column's cell
        header = next(line for line in monitor.plain_lines if "GPU-MEM" in line)
        assert header.index("COMMAND") == 59
        assert all(row[58] == " " for row in rows)


# -- runs panel -------------------------------------------------------------------------


def write_hostile_logs(ws: Path, names: list[str]) -> list[Path]:
    """Two JSONL runs (one named with ESC, one like markup) whose metrics are ``names``;
    ``LOSS`` and ``MARKUP`` end in NaN."""
    logs = [ws / f"{RED}.jsonl", ws / "[bold red]x[" / "].jsonl"]
    for path in logs:
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = []
        for step in range(0, 60, 10):
            row: dict[str, float] = {"step": step}
            for index, name in enumerate(names):
                row[name] = 1.0 / (step + index + 1)
            if step == 50:
                row[LOSS] = row[MARKUP] = float("nan")
            rows.append(json.dumps(row))
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return logs


async def test_runs_panel_and_chart_show_outside_text_escaped(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("waitwise_tui.ui.app.TABS", [])  # the monitor pane is enough
    ws = tmp_path / "ws"
    names = [LOSS] + [s for s in corpus(tmp_path) if s != LOSS]
    write_hostile_logs(ws, names)
    app = WaitwiseApp(make_context(ws, gpus="none"))
    async with app.run_test(size=(160, 50)) as pilot:
        await tabs_ready(pilot)
        panel = app.query_one(RunsPanel)
        await wait_for(pilot, lambda: panel.snapshot is not None and len(panel.snapshot.runs) == 2)
        assert [run.name for run in panel.snapshot.runs] == [RED, MARKUP]
        panel.focus()
        panel.metric = LOSS  # the reported name, in the status line and the chart
        await pilot.press("a")  # all runs: the chart's legend names run and metric
        legend = f"{shown(RED)}:{shown(LOSS)}"
        await wait_for(pilot, lambda: legend in inert_screen(tmp_path, app))
        text = inert_screen(tmp_path, app)
        assert f"▶ {shown(RED)}" in text and f"  {MARKUP}" in text  # the run list
        assert f"{shown(LOSS)} last nan" in text  # the status line
        assert f"⚠ {shown(LOSS)} is not finite at step 50" in text
        assert f"⚠ {MARKUP} is not finite at step 50" in text
        assert f"{MARKUP}:{shown(LOSS)}" in text
        # The next metrics (m): each shows escaped in the status line and the legend.
        for _ in range(3):
            await pilot.press("m")
            line = f"{shown(RED)}:{shown(panel.metric)}"[:40]  # long ones are cut to fit
            await wait_for(pilot, lambda line=line: line in inert_screen(tmp_path, app))


# -- tuner tab --------------------------------------------------------------------------


def toml_string(text: str) -> str:
    # JSON's escapes (\\uXXXX, \\n, \\") are TOML basic-string escapes too.
    return json.dumps(text)


def hostile_study(ws: Path, tmp: Path) -> list[str]:
    """A finished study whose name, metric, parameter values, failure reasons, job
    commands and job output are corpus strings, plus a plain job with a hostile command.
    Returns the parameter values, one trial each; the last trial failed with a 1 MB
    reason."""
    values = corpus(tmp)
    options = ", ".join(toml_string(v) for v in values)
    spec = parse_study(
        f"""
[study]
name = {toml_string(f"{LOSS} {MARKUP}")}
metric = {toml_string(LINK)}
max_trials = {len(values)}
parallel = 1
algorithm = "random"
command = ["python", "trial.py", "{{mode}}"]

[params.mode]
type = "choice"
options = [{options}]
""",
        base_dir=ws,
    )
    workspace = Workspace(ws)
    workspace.ensure()
    conn = connect(workspace.db_path)
    study = open_study(conn, spec, "study.toml")
    for number, value in enumerate(values):
        job_id = number + 1
        failed = number % 3 == 2 or number == len(values) - 1
        job_dir = workspace.jobs_dir / str(job_id)
        job_dir.mkdir(parents=True)
        (job_dir / "stdout.log").write_text("\n".join(corpus(tmp)) + "\n", encoding="utf-8")
        conn.execute(
            "INSERT INTO jobs (id, argv, workdir, state, attempts, gpus, created, started,"
            " finished, exit_code, reason) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
            (
                job_id,
                json.dumps(["python", "trial.py", value]),
                str(ws),
                "failed" if failed else "done",
                RED if number == 0 else "",
                T0,
                T0,
                T0 + 65,
                1 if failed else 0,
                value if failed else "",
            ),
        )
        conn.execute(
            "INSERT INTO trials (study_id, number, state, params, hyperopt_vals, value, reason,"
            " job_id, created, finished) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                study.id,
                number,
                "failed" if failed else "done",
                json.dumps({"mode": value}),
                json.dumps({"mode": number}),
                None if failed else float(number),
                (BIG if number == len(values) - 1 else value) if failed else "",
                job_id,
                T0,
                T0 + 65,
            ),
        )
    conn.execute(
        "INSERT INTO jobs (id, name, argv, workdir, state, attempts, created, started,"
        " finished, exit_code) VALUES (?, '', ?, ?, 'done', 1, ?, ?, ?, 0)",
        (len(values) + 1, json.dumps([sys.executable, "-c", MARKUP, RED]), str(ws), T0, T0, T0),
    )
    conn.commit()
    update_study(conn, study.id, state=FINISHED)
    conn.close()
    return values


def fake_squeue(bin_dir: Path, tmp: Path, monkeypatch) -> Path:
    """``squeue`` and ``scancel`` stand-ins printing hostile names, reasons, nodes, ids."""
    bin_dir.mkdir()
    rows = [  # the running one is listed first
        f"3\x1b[2J03|RUNNING|None|12:01|1:00:00|node\x1b[2J7|gres:gpu:2|gpu|me|(null)|{RED}",
        f"302|PENDING|{MARKUP}|0:00|1:00:00||gres:gpu:1|gpu|me|(null)|#(touch {tmp}/p1)",
        f"301|PENDING|Priority|0:00|1:00:00||||me|(null)|{LINK}",
    ]
    calls = bin_dir / "scancel.calls"
    tools = {
        "squeue": f"import sys\nsys.stdout.write({json.dumps(chr(10).join(rows) + chr(10))})\n",
        "scancel": f"import sys\nopen({str(calls)!r}, 'a').write(' '.join(sys.argv[1:]))\n",
    }
    for name, body in tools.items():
        path = bin_dir / name
        path.write_text(f"#!{sys.executable}\n{body}")
        path.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{sys.exec_prefix}/bin:/usr/bin:/bin")
    return calls


def cell_texts(app: App, table_id: str) -> list[list[str]]:
    table = app.query_one(table_id, DataTable)
    rows = [table.get_row_at(i) for i in range(table.row_count)]
    assert all(isinstance(cell, Text) for row in rows for cell in row)  # never markup
    return [[cell.plain for cell in row] for row in rows]


def painted_rows(app: App) -> int:
    """Queue rows on screen: a trial number, its state and its parameters. (Not the
    backend column: the parameters hold the test's tmp path, long under xdist, and the
    table gives them their full width first.)"""
    row = re.compile(r"▕ ?\d+ +(done|failed) +mode=")
    return sum(bool(row.search(line)) for line in screen(app)[0])


@pytest.mark.slow
async def test_tuner_shows_outside_text_escaped(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("waitwise_tui.ui.app.TABS", [s for s in TABS if s.name == "tuner"])
    ws = tmp_path / "ws"
    ws.mkdir()
    values = hostile_study(ws, tmp_path)
    calls = fake_squeue(tmp_path / "bin", tmp_path, monkeypatch)
    app = WaitwiseApp(make_context(ws, gpus="none"), initial_tab="tuner")
    async with app.run_test(size=(200, 60)) as pilot:
        await tabs_ready(pilot)
        await wait_for(pilot, lambda: len(cell_texts(app, "#tuner-queue")) == len(values))
        # The table holds the rows before they are painted: wait for the last one's
        # backend on screen, not for one pause (not enough on two loaded cores).
        await wait_for(pilot, lambda: painted_rows(app) == len(values), timeout=45)
        # The queue: parameters, failure reasons, GPUs as text; the study in the picker.
        text = inert_screen(tmp_path, app)
        rows = cell_texts(app, "#tuner-queue")
        assert [row[2] for row in rows] == [f"mode={shown(v)}" for v in values]
        assert 0 < len(rows[-1][6]) <= 120  # a 1 MB failure reason is cut in its cell
        assert rows[2][6] == shown(values[2])  # a failure reason
        assert rows[0][4] == shown(RED)  # the job's GPUs
        assert f"{shown(LOSS)} [bold" in text  # the study picker (22 cells wide)
        for value in ("mode=\\x1b[31mred", "mode=[bold red]x[/]", "mode=a\\r\\x08b"):
            assert value in text
        # The rows after a hostile parameter keep their columns: "mode=" at one x.
        where = {line.index(" mode=") for line in text.splitlines() if " mode=" in line}
        assert len(where) == 1

        await pilot.press("s")  # plain jobs: the command line
        await wait_for(pilot, lambda: len(cell_texts(app, "#tuner-queue")) == 1)
        await pilot.pause()
        assert f"-c {MARKUP} {shown(RED)}" in inert_screen(tmp_path, app)
        await pilot.press("s")  # back to the study
        await wait_for(pilot, lambda: len(cell_texts(app, "#tuner-queue")) == len(values))

        await pilot.press("l")  # the first trial's job output
        log = app.query_one("#tuner-log", Log)
        await wait_for(pilot, lambda: any("\\x1b[2J" in line for line in log.lines))
        await pilot.pause()
        text = inert_screen(tmp_path, app)
        for line in ("lo\\x1b[2Jss", "[bold red]x[/]", "\\x1b]0;title\\x1b\\", "nul\\x00byte"):
            assert line in text
        assert all("\x1b" not in line and "\x9b" not in line for line in log.lines)

        await pilot.press("v")  # your Slurm jobs, as squeue lists them
        await wait_for(pilot, lambda: len(cell_texts(app, "#tuner-cluster")) == 3)
        await pilot.pause()
        text = inert_screen(tmp_path, app)
        for value in (shown(RED), MARKUP, "node\\x1b[2J7", "3\\x1b[2J03", "\\x1b]8;;file"):
            assert value in text
        assert [row[6] for row in cell_texts(app, "#tuner-cluster")][::2] == [
            shown(RED),
            shown(LINK),
        ]
        await pilot.press("c")  # cancel: the question quotes the job's id and name escaped
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.pause()
        text = inert_screen(tmp_path, app)
        assert f"Cancel Slurm job 3\\x1b[2J03 ({shown(RED)}, running)?" in text
        await pilot.press("y")  # scancel gets the raw id, and core refuses it
        await wait_for(
            pilot, lambda: any("not a Slurm job id" in n.message for n in app._notifications)
        )
        for note in app._notifications:
            assert_no_control(note.message)
        assert not calls.exists()

        await pilot.press("v", "v")  # the queue, the leaderboard
        await wait_for(pilot, lambda: len(cell_texts(app, "#tuner-board")) > 0)
        await pilot.pause()
        assert "mode=[bold red]x[/]" in inert_screen(tmp_path, app)

        await pilot.press("v")  # plots: the metric in the titles, cut to fit
        plots = app.query_one("#tuner-plots")
        await wait_for(pilot, lambda: "best " in str(plots.render()))
        await pilot.pause()
        assert "best \\x1b]8;;file:" in inert_screen(tmp_path, app)
    assert_no_canary(tmp_path)


# -- plots without the app ----------------------------------------------------------------


def test_tuner_plots_escape_names_before_plotext(tmp_path: Path) -> None:
    few = [RED, MARKUP, "nul\x00"]  # categories few enough to get their ticks
    for values in (few, corpus(tmp_path, big=True)):
        done = [(i, {LOSS: v}, float(i)) for i, v in enumerate(values)]
        ansi = render_plots(done, metric=RED, minimize=True, param=LOSS, width=76, height=20)
        assert "\x1b[2J" not in ansi and "\x1b[31m" not in ansi and "\x07" not in ansi
        plain = Text.from_ansi(ansi)
        assert_no_control(plain.plain)
        assert not any(getattr(span.style, "link", None) for span in plain.spans)
        assert f"best {shown(RED)} so far" in plain.plain
        assert f"{shown(RED)} vs {shown(LOSS)}" in plain.plain
        if values is few:
            # plotext leaves out ticks that would overlap, and which one goes depends on
            # the order of a set inside it (the hash seed): at least two are shown, escaped.
            ticks = plain.plain.splitlines()[-2]
            assert sum(shown(v) in ticks for v in values) >= 2, ticks
