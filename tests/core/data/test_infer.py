"""Types as a user means them, on real public files (tests/fixtures/data/README.md):
missing-value tokens, formatted numbers, period and day-first dates, time series."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from waitwise_tui.cli import main
from waitwise_tui.core.data import views as V
from waitwise_tui.core.data.infer import MISSING_TOKENS, infer_column
from waitwise_tui.core.data.load import load_dataset

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "data"


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("WAITWISE_CONFIG_DIR", str(tmp_path / "config"))


def profile_json(capsys, path: Path, *extra: str) -> dict:
    assert main(["data", str(path), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def column(out: dict, name: str) -> dict:
    return next(c for c in out["columns"] if c["name"] == name)


def test_question_marks_in_auto_mpg_are_missing_numbers(tmp_path):
    # A real process, as a script would run it.
    env = {**os.environ, "WAITWISE_CONFIG_DIR": str(tmp_path / "config")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "waitwise_tui.cli",
            "data",
            str(FIXTURES / "auto-mpg.csv"),
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    out = json.loads(done.stdout)
    hp = column(out, "horsepower")
    assert hp["inferred_type"] == "numeric" and hp["dtype"] == "float64"
    assert hp["missing_tokens"] == {"?": 6} and hp["nulls"] == 6
    assert hp["parse_failures"] == {"count": 0, "examples": []}
    assert hp["min"] == 46.0 and hp["max"] == 230.0
    assert {
        "kind": "missing_tokens",
        "column": "horsepower",
        "message": "horsepower: numeric, 6 values '?' treated as missing",
    } in out["alerts"]
    assert out["file_bytes"] == (FIXTURES / "auto-mpg.csv").stat().st_size
    assert column(out, "car_name")["missing_tokens"] == {}


def test_token_handling_can_be_switched_off(capsys, tmp_path):
    out = profile_json(capsys, FIXTURES / "auto-mpg.csv", "--missing-tokens", "off")
    hp = column(out, "horsepower")
    assert hp["inferred_type"] == "text" and hp["nulls"] == 0 and hp["missing_tokens"] == {}
    # The setting turns it off by default; the flag still wins.
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.toml").write_text("data_missing_tokens = false\n")
    assert column(profile_json(capsys, FIXTURES / "auto-mpg.csv"), "horsepower")["nulls"] == 0
    on = profile_json(capsys, FIXTURES / "auto-mpg.csv", "--missing-tokens", "on")
    assert column(on, "horsepower")["missing_tokens"] == {"?": 6}


def test_leftovers_in_a_numeric_column_are_reported_with_their_rows(capsys, tmp_path):
    lines = (FIXTURES / "auto-mpg.csv").read_text().splitlines()
    lines[6] = lines[6].replace("198.0", "198 hp", 1)  # the ford galaxie 500 row
    path = tmp_path / "mpg.csv"
    path.write_text("\n".join(lines) + "\n")
    hp = column(profile_json(capsys, path), "horsepower")
    assert hp["inferred_type"] == "numeric"
    assert hp["parse_failures"] == {"count": 1, "examples": ["198 hp"]}
    loaded = load_dataset(path)
    found = loaded.inference["horsepower"]
    drill = V.failure_rows(loaded.frame, "horsepower", found.failure_rows, found.failure_values)
    assert drill.count == 1
    assert drill.rows["horsepower as written"].tolist() == ["198 hp"]
    assert drill.rows["car_name"].tolist() == ["ford galaxie 500"]


def test_monthly_periods_are_dates_and_never_id_like(capsys):
    out = profile_json(capsys, FIXTURES / "airline-passengers.csv")
    month = column(out, "Month")
    assert month["inferred_type"] == "datetime"
    assert month["min"] == "1949-01-01T00:00:00" and month["max"] == "1960-12-01T00:00:00"
    assert not [a for a in out["alerts"] if a["column"] == "Month"]
    loaded = load_dataset(FIXTURES / "airline-passengers.csv")
    series = V.time_series(loaded.frame, "Month", "Passengers", buckets=200)
    assert (series.frequency, series.gaps, series.duplicated) == ("monthly", 0, 0)
    assert series.window == 12 and series.points == 144 and not series.bucketed
    # The yearly seasonality: July above the year's rolling mean, November below it.
    values = loaded.frame.set_index("Month")["Passengers"]
    assert (
        values["1959-07-01"]
        > series.rolling[np.flatnonzero(series.times == np.datetime64("1959-07-01"))[0]]
    )
    assert values["1959-11-01"] < values["1959-07-01"]


def test_daily_series_with_gaps_bucketed_to_the_plot(tmp_path):
    loaded = load_dataset(FIXTURES / "daily-min-temperatures.csv")
    series = V.time_series(loaded.frame, "Date", "Temp", buckets=60)
    # 1984-12-31 and 1988-12-31 are missing from the published series.
    assert (series.frequency, series.gaps) == ("daily", 2)
    assert series.bucketed and len(series.times) <= 60
    # Spikes survive: the extremes of the whole series are in the min/max band.
    assert series.high.max() == loaded.frame["Temp"].max()
    assert series.low.min() == loaded.frame["Temp"].min()
    assert series.window == 7


def test_duplicated_timestamps_are_counted(tmp_path):
    rows = (FIXTURES / "airline-passengers.csv").read_text().splitlines()
    path = tmp_path / "dup.csv"
    path.write_text("\n".join([*rows, rows[-1], rows[-2]]) + "\n")
    loaded = load_dataset(path)
    assert V.time_series(loaded.frame, "Month", "Passengers").duplicated == 2


def test_thousands_separators_and_percent_signs(capsys):
    out = profile_json(capsys, FIXTURES / "airline-yearly-formatted.csv")
    passengers = column(out, "Passengers")
    assert passengers["inferred_type"] == "numeric" and passengers["min"] == 1_520_000
    assert "thousands separators" in passengers["reading"]
    assert column(out, "Monthly mean")["max"] == 476_166.7
    growth = column(out, "Growth")
    assert growth["inferred_type"] == "numeric" and growth["max"] == 21.8
    assert "percent" in growth["reading"] and growth["nulls"] == 1


def test_day_first_dates_decided_from_the_values_and_ambiguity_reported(capsys, tmp_path):
    out = profile_json(capsys, FIXTURES / "births-ddmm-ambiguous.csv")
    date = column(out, "Date")
    assert date["inferred_type"] == "datetime"
    assert date["min"] == "1959-01-01T00:00:00" and date["max"] == "1959-01-12T00:00:00"
    assert [a["kind"] for a in out["alerts"] if a["column"] == "Date"] == ["ambiguous_dates"]
    # A day above 12 settles it: no ambiguity left.
    path = tmp_path / "clear.csv"
    path.write_text("Date,Births\n12/01/1959,33\n13/01/1959,21\n")
    clear = profile_json(capsys, path)
    assert column(clear, "Date")["max"] == "1959-01-13T00:00:00"
    assert not clear["alerts"] or all(a["kind"] != "ambiguous_dates" for a in clear["alerts"])


def test_quarters_and_unix_times(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text(
        "quarter,created_at,id,value\n"
        "2020Q1,1600000000,1600000000,1\n2020Q2,1600086400,1600086401,2\n"
    )
    frame = load_dataset(path).frame
    assert str(frame["quarter"].iloc[1]) == "2020-04-01 00:00:00"
    assert str(frame["created_at"].iloc[0]) == "2020-09-13 12:26:40"
    assert frame["id"].dtype == np.int64  # a number named like an id stays a number
    # Millisecond stamps in time order say so by their range alone.
    path.write_text("t0,count\n1700000000000,1\n1700000000500,2\n1700000001000,3\n")
    frame = load_dataset(path).frame
    assert str(frame["t0"].iloc[1]) == "2023-11-14 22:13:20.500000"
    assert frame["count"].dtype == np.int64


@settings(max_examples=60, deadline=None)
@given(
    numbers=st.lists(st.integers(-(10**9), 10**9), min_size=1, max_size=30),
    tokens=st.lists(st.sampled_from([*MISSING_TOKENS, "", "   "]), max_size=5),
    data=st.data(),
)
def test_formatted_numbers_and_tokens_round_trip(numbers, tokens, data):
    written = [f"{n:,}" if data.draw(st.booleans()) else str(n) for n in numbers]
    cells = written + tokens
    order = data.draw(st.permutations(range(len(cells))))
    column_in = pd.Series([cells[i] for i in order], dtype=object)
    result = infer_column(column_in)
    assert result is not None
    values, found = result
    assert found.inferred_type == "numeric" and found.parse_failures == 0
    assert found.missing_count == len(tokens)
    assert sorted(values.dropna().astype(int).tolist()) == sorted(numbers)


@settings(max_examples=60, deadline=None)
@given(
    start=st.dates(min_value=date(1900, 1, 1), max_value=date(2090, 1, 1)),
    days=st.integers(2, 60),
    sep=st.sampled_from(["/", ".", "-"]),
)
def test_day_first_dates_in_time_order_read_back(start, days, sep):
    dates = pd.date_range(start, periods=days, freq="D")
    cells = pd.Series([d.strftime(f"%d{sep}%m{sep}%Y") for d in dates], dtype=object)
    result = infer_column(cells)
    assert result is not None
    values, found = result
    assert found.inferred_type == "datetime"
    assert values.tolist() == list(dates)


def test_a_datetime_index_becomes_the_time_column(tmp_path):
    loaded = load_dataset(FIXTURES / "airline-passengers.csv")
    path = tmp_path / "passengers.parquet"
    loaded.frame.set_index("Month").to_parquet(path)
    back = load_dataset(path).frame
    assert V.datetime_columns(back) == ["Month"]
    assert V.time_series(back, "Month", "Passengers").frequency == "monthly"
