"""Pilot tests of the Data tab in a harness app (80x24 and wide)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Input
from waits import palette_finds

from waitwise_tui.config import Settings
from waitwise_tui.core.data.recents import add_recent
from waitwise_tui.core.workspace import Workspace
from waitwise_tui.ui.context import AppContext
from waitwise_tui.ui.tabs.data.commands import DataCommands
from waitwise_tui.ui.tabs.data.modals import OpenDataScreen
from waitwise_tui.ui.tabs.data.tab import VIEWS, DataTab


def write_fixture(root) -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "id": np.arange(120),
            "x": np.round(rng.normal(size=120), 3),
            "y": np.round(rng.normal(size=120), 3),
            "label": rng.choice(["cat", "dog", "[bold]bird"], size=120),
        }
    )
    df.loc[::10, "x"] = np.nan
    df = pd.concat([df, df.iloc[:2]], ignore_index=True)
    df.to_csv(root / "train.csv", index=False)
    val = df.copy()
    val["label"] = val["label"].replace("cat", "fox")
    val.to_csv(root / "val.csv", index=False)


class DataHarness(App):
    def __init__(self, root, data_path: str | None = None) -> None:
        super().__init__()
        self.ctx = AppContext(Workspace(root), Settings(), {"data_path": data_path})

    def compose(self) -> ComposeResult:
        yield DataTab(self.ctx, id="data")


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("WAITWISE_CONFIG_DIR", str(tmp_path / "config"))


async def settle(app, pilot) -> None:
    for _ in range(200):
        await app.workers.wait_for_complete()
        await pilot.pause()
        tab = app.query_one(DataTab)
        if tab._loading is None and not app.workers._workers:
            return


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_load_profile_and_move_between_columns(tmp_path, size):
    write_fixture(tmp_path)
    app = DataHarness(tmp_path, str(tmp_path / "train.csv"))
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        tab = app.query_one(DataTab)
        assert tab._profile is not None and tab._profile.n_rows == 122
        assert tab._profile.duplicate_rows == 2
        table = app.query_one("#data-columns", DataTable)
        assert table.row_count == 4
        assert "train.csv" in str(app.query_one("#data-status").render())
        await pilot.press("down")
        await settle(app, pilot)
        assert tab._current_column().name == "x"
        assert tab._picks  # a histogram is shown
        # The recents list remembers the file; .waitwise/ appears only now.
        recent = json.loads((tmp_path / ".waitwise" / "data_recent.json").read_text())
        assert recent == [str((tmp_path / "train.csv").resolve())]


@pytest.mark.slow
async def test_drill_down_nulls_bins_and_duplicates(tmp_path):
    write_fixture(tmp_path)
    app = DataHarness(tmp_path, str(tmp_path / "train.csv"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "n")
        await settle(app, pilot)
        rows = app.query_one("#data-rows", DataTable)
        assert app.query_one(DataTab).has_class("-table")
        assert rows.row_count == 13  # 12 nulls + the copy of row 0
        assert "13 rows" in str(app.query_one("#data-table-title").render())
        await pilot.press("escape", "d")
        await settle(app, pilot)
        assert rows.row_count == 4  # both copies of the 2 duplicated rows
        await pilot.press("escape", "right_square_bracket", "right_square_bracket")
        await settle(app, pilot)
        await pilot.press("g")
        await settle(app, pilot)
        tab = app.query_one(DataTab)
        hist = tab._picks[0][0]
        assert rows.row_count == hist.counts[1]
        await pilot.press("escape")
        assert not tab.has_class("-table")


@pytest.mark.slow
async def test_views_target_and_save(tmp_path):
    write_fixture(tmp_path)
    app = DataHarness(tmp_path, str(tmp_path / "train.csv"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        tab = app.query_one(DataTab)
        await pilot.press("down", "down", "down", "t")
        assert tab._target == "label"
        seen = []
        for _ in range(6):
            await pilot.press("v")
            await settle(app, pilot)
            seen.append(tab._view)
        assert seen == ["time", "scatter", "corr", "balance", "pca", "alerts"]
        await pilot.press("s")
        await settle(app, pilot)
        saved = json.loads((tmp_path / ".waitwise" / "profiles" / "train.json").read_text())
        assert saved["key_candidates"] == []
        label = next(c for c in saved["columns"] if c["name"] == "label")
        assert label["categories"] == ["[bold]bird", "cat", "dog"]


@pytest.mark.slow
async def test_recent_files_in_the_picker(tmp_path):
    write_fixture(tmp_path)
    add_recent(Workspace(tmp_path), str(tmp_path / "val.csv"))
    app = DataHarness(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("o")
        assert isinstance(app.screen, OpenDataScreen)
        await pilot.press("tab", "enter")  # focus the recent list, take its first entry
        await settle(app, pilot)
        tab = app.query_one(DataTab)
        assert tab._profile is not None and tab._profile.path == "val.csv"


@pytest.mark.slow
async def test_open_and_compare_through_the_picker(tmp_path):
    write_fixture(tmp_path)
    app = DataHarness(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        assert "No dataset" in str(app.query_one("#data-status").render())
        await pilot.press("o")
        assert isinstance(app.screen, OpenDataScreen)
        app.screen.query_one(Input).value = "train.csv"
        await pilot.press("enter")
        await settle(app, pilot)
        tab = app.query_one(DataTab)
        assert tab._profile is not None and tab._profile.path == "train.csv"
        await pilot.press("c")
        app.screen.query_one(Input).value = "val.csv"
        await pilot.press("enter")
        await settle(app, pilot)
        assert tab.has_class("-table")
        rows = app.query_one("#data-rows", DataTable)
        labels = [str(rows.get_row_at(i)[0]) for i in range(rows.row_count)]
        assert "label" in labels
        label_row = rows.get_row_at(labels.index("label"))
        assert "fox" in str(label_row[4]) and "cat" in str(label_row[5])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"a,b\n", "no data rows"),
        (b"a,b\n1,2\n3,4,5\n", "ragged"),
        (b"\x00\xff" * 500, "binary"),
    ],
)
@pytest.mark.slow
async def test_bad_input_keeps_the_app_usable(tmp_path, content, message):
    (tmp_path / "bad.csv").write_bytes(content)
    write_fixture(tmp_path)
    app = DataHarness(tmp_path, str(tmp_path / "bad.csv"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        notes = [n.message for n in app._notifications]
        assert any(message in n for n in notes), notes
        tab = app.query_one(DataTab)
        assert tab._profile is None
        tab.load(str(tmp_path / "train.csv"))
        await settle(app, pilot)
        assert tab._profile is not None


async def test_missing_file_and_cancel(tmp_path):
    write_fixture(tmp_path)
    app = DataHarness(tmp_path, str(tmp_path / "gone.csv"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert any("no such file" in n.message for n in app._notifications)
        tab = app.query_one(DataTab)
        tab.load(str(tmp_path / "train.csv"))
        assert tab.busy_reason() == "loading train.csv"
        await pilot.press("escape")
        assert tab.busy_reason() is None


async def test_sampled_banner_and_exact_profile(tmp_path, monkeypatch):
    from waitwise_tui.core.data import load as core_data_load

    monkeypatch.setattr(core_data_load, "SAMPLE_THRESHOLD", 50)
    monkeypatch.setattr(core_data_load, "SAMPLE_ROWS", 40)
    write_fixture(tmp_path)
    app = DataHarness(tmp_path, str(tmp_path / "train.csv"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        tab = app.query_one(DataTab)
        await pilot.press("down", "t")
        assert tab._profile.sampled and tab._profile.sample_rows == 40
        assert "sampled 40 of 122 rows" in str(app.query_one("#data-status").render())
        await pilot.press("x")
        await settle(app, pilot)
        assert not tab._profile.sampled and tab._profile.duplicate_rows == 2
        assert tab._target == "x"  # the view survives the recomputed profile
        assert "sampled" not in str(app.query_one("#data-status").render())


class PaletteHarness(DataHarness):
    COMMANDS = frozenset({DataCommands})


@pytest.mark.slow
async def test_palette_commands(tmp_path):
    write_fixture(tmp_path)
    app = PaletteHarness(tmp_path, str(tmp_path / "train.csv"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"data next view")
        await palette_finds(pilot, "next view")
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.query_one(DataTab)._view == "time"


# ----------------------------------------------------------------- real files

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "data"


def chart_text(app) -> str:
    """What the chart pane shows, as plain text (a Rich renderable rendered here)."""
    from rich.console import Console

    visual = app.query_one("#data-chart").render()
    renderable = getattr(visual, "_renderable", visual)
    console = Console(width=200, file=io.StringIO(), color_system=None)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


async def show_view(app, pilot, view: str) -> None:
    tab = app.query_one(DataTab)
    for _ in range(len(VIEWS)):
        if tab._view == view:
            break
        await pilot.press("v")
        await settle(app, pilot)


@pytest.mark.slow
@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_auto_mpg_question_marks_read_as_missing(tmp_path, size):
    shutil.copy(FIXTURES / "auto-mpg.csv", tmp_path)
    app = DataHarness(tmp_path, str(tmp_path / "auto-mpg.csv"))
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        tab = app.query_one(DataTab)
        hp = tab._profile.column("horsepower")
        assert hp.kind == "numeric" and hp.nulls == 6 and hp.missing_tokens == {"?": 6}
        status = str(app.query_one("#data-status").render())
        assert "file 20.3 KiB" in status and "in memory" in status
        for _ in range(3):
            await pilot.press("down")
        await settle(app, pilot)
        assert tab._current_column().name == "horsepower"
        assert "read as missing: 6 × '?'" in " ".join(chart_text(app).split())
        await pilot.press("f")  # no unread values here: a message, no table
        await settle(app, pilot)
        assert not tab.has_class("-table")
        await show_view(app, pilot, "alerts")
        assert "high_cardinality  car_name has 305 distinct values" in chart_text(app)
        assert "missing_tokens    horsepower: numeric, 6 values '?'" in chart_text(app)
        await show_view(app, pilot, "balance")
        assert "balance is for classes" in " ".join(chart_text(app).split())
        # m: the same file with tokens read as written, then back.
        await pilot.press("m")
        await settle(app, pilot)
        assert tab._profile.column("horsepower").kind == "text"
        await pilot.press("m")
        await settle(app, pilot)
        assert tab._profile.column("horsepower").missing_tokens == {"?": 6}


@pytest.mark.slow
async def test_unread_values_lead_to_their_rows(tmp_path):
    lines = (FIXTURES / "auto-mpg.csv").read_text().splitlines()
    lines[6] = lines[6].replace("198.0", "198 hp", 1)
    (tmp_path / "mpg.csv").write_text("\n".join(lines) + "\n")
    app = DataHarness(tmp_path, str(tmp_path / "mpg.csv"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        tab = app.query_one(DataTab)
        alerts = {a.kind for a in tab._profile.alerts if a.column == "horsepower"}
        assert "parse_failures" in alerts
        for _ in range(3):
            await pilot.press("down")
        await pilot.press("f")
        await settle(app, pilot)
        rows = app.query_one("#data-rows", DataTable)
        assert tab.has_class("-table") and rows.row_count == 1
        assert "could not be read: 1 rows" in str(app.query_one("#data-table-title").render())


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_monthly_passengers_as_a_time_series(tmp_path, size):
    shutil.copy(FIXTURES / "airline-passengers.csv", tmp_path)
    app = DataHarness(tmp_path, str(tmp_path / "airline-passengers.csv"))
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        tab = app.query_one(DataTab)
        assert tab._profile.column("Month").kind == "datetime"
        assert not [a for a in tab._profile.alerts if a.column == "Month"]
        await show_view(app, pilot, "time")
        shown = " ".join(chart_text(app).split())
        assert "144 points · monthly · no gaps" in shown
        assert "Passengers over Month" in shown and "1949-01" in shown


@pytest.mark.parametrize(
    ("name", "column", "expect"),
    [
        ("daily-min-temperatures.csv", "Date", "3,650 points · daily · 2 gaps"),
        ("births-ddmm-ambiguous.csv", "Date", "12 points · daily · no gaps"),
    ],
)
@pytest.mark.slow
async def test_time_view_reports_frequency_and_gaps(tmp_path, name, column, expect):
    shutil.copy(FIXTURES / name, tmp_path)
    app = DataHarness(tmp_path, str(tmp_path / name))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.query_one(DataTab)._profile.column(column).kind == "datetime"
        await show_view(app, pilot, "time")
        assert expect in " ".join(chart_text(app).split())


@pytest.mark.slow
async def test_formatted_numbers_and_ambiguous_dates_in_the_tab(tmp_path):
    shutil.copy(FIXTURES / "airline-yearly-formatted.csv", tmp_path)
    shutil.copy(FIXTURES / "births-ddmm-ambiguous.csv", tmp_path)
    app = DataHarness(tmp_path, str(tmp_path / "airline-yearly-formatted.csv"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        tab = app.query_one(DataTab)
        assert [c.kind for c in tab._profile.columns] == ["numeric"] * 4
        await pilot.press("down")
        await settle(app, pilot)
        assert "thousands separators" in " ".join(chart_text(app).split())
        tab.load(str(tmp_path / "births-ddmm-ambiguous.csv"))
        await settle(app, pilot)
        await show_view(app, pilot, "alerts")
        shown = chart_text(app)
        assert "ambiguous_dates  Date: dates read as dd/mm/yyyy, but mm/dd/yyyy fits too" in shown


# ----------------------------------------------------------------- snapshots


@pytest.mark.parametrize(
    ("size", "keys"),
    [
        ((80, 24), ["down"]),
        ((80, 24), ["down", "down", "down", "right_square_bracket"]),
        ((160, 48), ["down"]),
        ((160, 48), ["v", "v", "v"]),
    ],
)
def test_data_tab_snapshot(tmp_path, snap_compare, size, keys):
    write_fixture(tmp_path)
    app = DataHarness(tmp_path, str(tmp_path / "train.csv"))

    async def run_before(pilot) -> None:
        await settle(app, pilot)
        for key in keys:
            await pilot.press(key)
            await settle(app, pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_time_series_snapshot(tmp_path, snap_compare, size):
    shutil.copy(FIXTURES / "airline-passengers.csv", tmp_path)
    app = DataHarness(tmp_path, str(tmp_path / "airline-passengers.csv"))

    async def run_before(pilot) -> None:
        await settle(app, pilot)
        for key in ["down", "v"]:
            await pilot.press(key)
            await settle(app, pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
