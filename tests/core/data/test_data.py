"""Dataset loading and profiling: checked against pandas on fixtures with known answers."""

from __future__ import annotations

import gzip
import json
import math

import numpy as np
import pandas as pd
import pytest

from waitwise_tui.core.data import load as D_load
from waitwise_tui.core.data import profile as D
from waitwise_tui.core.data import recents as D_recents
from waitwise_tui.core.data import views as V
from waitwise_tui.core.workspace import Workspace


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "id": np.arange(200),
            "x": rng.normal(size=200),
            "n": rng.integers(0, 5, size=200),
            "cat": rng.choice(["a", "b", "c"], size=200),
            "flag": rng.choice([True, False], size=200),
        }
    )
    df.loc[::20, "x"] = np.nan  # 10 nulls, 11 with the copied row 0
    df.loc[::50, "cat"] = None  # 4 nulls, 5 with the copied row 0
    return pd.concat([df, df.iloc[:3]], ignore_index=True)  # 3 duplicate rows


@pytest.fixture
def csv_path(tmp_path, frame):
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)
    return path


def test_profile_matches_pandas(csv_path):
    loaded = D_load.load_dataset(csv_path)
    df = loaded.frame
    profile = D.profile_frame(df, path="train.csv", format=loaded.format)
    assert profile.n_rows == len(df) == 203
    assert profile.n_columns == 5
    assert profile.duplicate_rows == int(df.duplicated().sum()) == 3
    assert profile.memory_bytes == int(df.memory_usage(deep=True).sum())
    for col in profile.columns:
        series = df[col.name]
        assert col.nulls == int(series.isna().sum())
        assert col.non_null == int(series.notna().sum())
        assert col.unique == int(series.nunique())
        assert col.null_fraction == pytest.approx(series.isna().mean())
        assert col.top == series.mode().iloc[0] or col.top_count == series.value_counts().iloc[0]
    x = profile.column("x")
    assert x.nulls == 11
    assert x.mean == pytest.approx(df.x.mean())
    assert x.std == pytest.approx(df.x.std())
    assert x.min == pytest.approx(df.x.min()) and x.max == pytest.approx(df.x.max())
    assert x.skew == pytest.approx(df.x.skew())
    assert profile.column("n").min == int(df.n.min())
    assert profile.column("cat").nulls == 5
    assert profile.column("cat").kind == "text" and profile.column("flag").kind == "bool"
    kinds = {(a.kind, a.column) for a in profile.alerts}
    assert ("duplicates", None) in kinds
    assert ("missing", "x") in kinds and ("missing", "cat") in kinds


def test_alerts_thresholds():
    n = 1000
    df = pd.DataFrame(
        {
            "key": np.arange(n),
            "const": np.ones(n),
            "empty": np.full(n, np.nan),
            "skew": np.r_[np.zeros(n - 1), 1e9],
            "a": np.arange(n) * 1.0,
            "b": np.arange(n) * 2.0 + 1,
            "imb": ["x"] * 990 + ["y"] * 10,
            "inf": np.r_[np.inf, np.arange(n - 1)],
            "text_ids": [f"s{i}" for i in range(n)],
            "many": [f"v{i % 100}" for i in range(n)],
        }
    )
    kinds = {(a.kind, a.column) for a in D.profile_frame(df).alerts}
    assert ("unique", "key") in kinds
    assert ("constant", "const") in kinds
    assert ("all_missing", "empty") in kinds
    assert ("skewed", "skew") in kinds
    assert ("zeros", "skew") in kinds
    assert ("high_correlation", "a") in kinds
    assert ("imbalance", "imb") in kinds
    assert ("infinite", "inf") in kinds
    assert ("high_cardinality", "many") in kinds
    assert ("unique", "text_ids") in kinds


def test_sampled_profile_keeps_total_rows():
    df = pd.DataFrame({"v": np.arange(1000)})
    profile = D.profile_frame(df, sample_rows=100)
    assert profile.sampled and profile.sample_rows == 100 and profile.n_rows == 1000
    assert not D.profile_frame(df, sample_rows=5000).sampled


def test_json_is_strict_and_plain(tmp_path):
    df = pd.DataFrame(
        {
            "f": [np.nan, np.inf, 1.5],
            "i": np.array([1, 2, 3], dtype=np.int32),
            "d": pd.to_datetime(["2024-01-01", None, "2024-03-01"]),
            "nan_only": [np.nan] * 3,
        }
    )
    data = D.profile_to_dict(D.profile_frame(df, path="p", format="csv"))
    text = json.dumps(data, allow_nan=False)  # raises on NaN/inf tokens
    back = json.loads(text)
    cols = {c["name"]: c for c in back["columns"]}
    assert cols["d"]["min"] == "2024-01-01T00:00:00"
    assert cols["nan_only"]["mean"] is None and cols["nan_only"]["null_fraction"] == 1.0
    assert cols["i"]["min"] == 1 and isinstance(cols["i"]["min"], int)
    assert set(back) == {
        "path", "format", "n_rows", "n_columns", "sampled", "duplicate_rows",
        "memory_bytes", "file_bytes", "columns", "alerts",
    }  # fmt: skip
    assert set(cols["f"]) == {
        "name", "dtype", "inferred_type", "missing_tokens", "parse_failures", "reading",
        "nulls", "null_fraction", "unique", "min", "max", "mean", "std", "top",
    }  # fmt: skip


def test_save_profile_adds_expectations(tmp_path):
    ws = Workspace(tmp_path)
    df = pd.DataFrame({"id": [1, 2, 3], "label": ["b", "a", "b"], "v": [0.5, None, 0.5]})
    path = D.save_profile(ws, D.profile_frame(df, path="data/train.csv.gz", format="csv"))
    assert path == ws.profiles_dir / "train.json"
    saved = json.loads(path.read_text())
    assert saved["key_candidates"] == ["id"]
    cols = {c["name"]: c for c in saved["columns"]}
    assert cols["label"]["categories"] == ["a", "b"]
    assert cols["v"]["categories"] == [0.5]
    assert "created" in saved


def test_recents_created_only_on_write(tmp_path):
    ws = Workspace(tmp_path)
    assert D_recents.load_recent(ws) == []
    assert not ws.state_dir.exists()
    (tmp_path / "a.csv").write_text("x\n1\n")
    D_recents.add_recent(ws, str(tmp_path / "a.csv"))
    D_recents.add_recent(ws, str(tmp_path / "b.csv"))
    D_recents.add_recent(ws, str(tmp_path / "a.csv"))
    assert D_recents.load_recent(ws) == [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]
    D_recents.recent_path(ws).write_text("{broken")
    assert D_recents.load_recent(ws) == []


# ----------------------------------------------------------------- formats and sniffing


def test_sniff_tsv_semicolon_headerless_and_gzip(tmp_path):
    (tmp_path / "a.tsv").write_text("p\tq\n1\t2\n3\t4\n")
    assert list(D_load.load_dataset(tmp_path / "a.tsv").frame.columns) == ["p", "q"]
    (tmp_path / "b.csv").write_text("p;q\n1;x\n3;y\n")
    assert D_load.load_dataset(tmp_path / "b.csv").sep == ";"
    (tmp_path / "c.csv").write_text("1,2,3\n4,5,6\n7,8,9\n")
    loaded = D_load.load_dataset(tmp_path / "c.csv")
    assert loaded.frame.shape == (3, 3) and loaded.frame.columns[0] == "column_0"
    with gzip.open(tmp_path / "d.csv.gz", "wt") as handle:
        handle.write("p,q\n1,2\n3,4\n")
    assert D_load.load_dataset(tmp_path / "d.csv.gz").frame.shape == (2, 2)


@pytest.mark.parametrize("suffix", ["parquet", "jsonl", "feather"])
def test_other_formats(tmp_path, frame, suffix):
    path = tmp_path / f"f.{suffix}"
    if suffix == "parquet":
        frame.to_parquet(path)
    elif suffix == "jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_feather(path)
    loaded = D_load.load_dataset(path)
    assert loaded.format == suffix
    assert loaded.frame.shape == frame.shape
    head = D_load.read_head(path, nrows=10)
    assert len(head.frame) == 10


def test_datetime_columns_are_parsed(tmp_path):
    (tmp_path / "t.csv").write_text("when,v\n2024-01-01,1\n2024-01-02T10:00:00,2\n,3\n")
    frame = D_load.load_dataset(tmp_path / "t.csv").frame
    assert pd.api.types.is_datetime64_any_dtype(frame["when"])


def test_progress_and_cancel(tmp_path):
    path = tmp_path / "big.csv"
    pd.DataFrame({"v": np.arange(600_000)}).to_csv(path, index=False)
    seen: list[float] = []
    D_load.load_dataset(path, progress=seen.append)
    assert seen[-1] == 1.0 and len(seen) > 1
    with pytest.raises(D_load.LoadCancelled):
        D_load.load_dataset(path, cancelled=lambda: True)


# ----------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"a,b,c\n", "no data rows"),
        (b"a,b\n1,2\n3,4,5\n", "ragged"),
        (bytes(range(256)) * 8, "binary"),
    ],
)
def test_bad_csv(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(D_load.DataError, match=message):
        D_load.load_dataset(path)


def test_latin1_fallback_with_notice(tmp_path):
    path = tmp_path / "l.csv"
    path.write_bytes("name,v\ncafé,1\n".encode("latin-1"))
    loaded = D_load.load_dataset(path)
    assert loaded.frame["name"][0] == "café"
    assert any("latin-1" in n for n in loaded.notices)


def test_missing_directory_and_corrupt_parquet(tmp_path):
    with pytest.raises(D_load.DataError, match="no such file"):
        D_load.load_dataset(tmp_path / "gone.csv")
    with pytest.raises(D_load.DataError, match="directory"):
        D_load.load_dataset(tmp_path)
    (tmp_path / "x.parquet").write_bytes(b"PAR1 garbage")
    with pytest.raises(D_load.DataError, match="not a readable parquet"):
        D_load.load_dataset(tmp_path / "x.parquet")


def test_file_disappearing_while_loading(tmp_path, monkeypatch):
    path = tmp_path / "v.csv"
    path.write_text("a\n1\n")

    def vanish(*args, **kwargs):
        raise FileNotFoundError(2, "No such file or directory", str(path))

    monkeypatch.setattr(pd, "read_csv", vanish)
    with pytest.raises(D_load.DataError, match="no such file"):
        D_load.load_dataset(path)


@pytest.mark.slow
def test_no_numeric_columns_and_many_distinct_strings():
    n = 1_000_000
    df = pd.DataFrame({"s": pd.Series(np.arange(n)).astype(str), "t": ["a", "b"] * (n // 2)})
    profile = D.profile_frame(df)
    assert profile.column("s").unique == n and profile.column("s").categories is None
    assert profile.column("t").categories == ("a", "b")
    assert V.correlation(df)[0] == []
    assert V.projection(df) is None


# ----------------------------------------------------------------- views


def test_histogram_and_bin_rows_agree():
    df = pd.DataFrame({"v": [0.0, 1.0, 1.0, 2.0, np.nan, np.inf, 10.0]})
    hist = V.histogram(df["v"], bins=5)
    assert sum(hist.counts) == 5  # finite values only
    assert sum(V.bin_rows(df, "v", hist, i).count for i in range(5)) == 5
    assert V.bin_rows(df, "v", hist, 4).count == 1  # the last bin includes 10.0
    assert V.histogram(pd.Series([np.nan]), 5).counts == []
    assert V.histogram(pd.Series([3.0, 3.0]), 5).counts == [0, 0, 2, 0, 0]


def test_drill_rows(frame):
    assert V.null_rows(frame, "x").count == 11
    dup = V.duplicate_rows(frame)
    assert dup.count == int(frame.duplicated().sum())
    assert len(dup.rows) == int(frame.duplicated(keep=False).sum())
    assert V.value_rows(frame, "cat", "a").count == int((frame["cat"] == "a").sum())


def test_top_values_time_counts_scatter():
    s = pd.Series(["a"] * 5 + ["b"] * 3 + ["c"])
    assert V.top_values(s, 2) == ([("a", 5), ("b", 3)], 1)
    dates = pd.Series(pd.date_range("2024-01-01", periods=10, freq="D"))
    labels, counts = V.time_counts(dates, 5)
    assert sum(counts) == 10 and labels[0] == "2024-01-01"
    df = pd.DataFrame({"a": np.arange(10_000.0), "b": np.arange(10_000.0)})
    xs, ys = V.scatter_sample(df, "a", "b", max_points=500)
    assert xs.size == 500 and np.array_equal(xs, ys)


def test_projection_explained_variance():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(500, 1))
    df = pd.DataFrame(
        {"a": base[:, 0], "b": base[:, 0] * 2, "c": rng.normal(size=500), "t": ["u", "v"] * 250}
    )
    proj = V.projection(df, target="t")
    assert proj is not None
    assert proj.explained[0] > 0.6 and sum(proj.explained) <= 1 + 1e-9
    assert proj.labels is not None and len(proj.labels) == proj.x.size == 500


def test_compare_frames_drift():
    a = pd.DataFrame({"v": np.arange(100.0), "c": ["x", "y"] * 50, "only_a": 1})
    b = pd.DataFrame({"v": np.arange(100.0) + 50, "c": ["x", "z"] * 50, "only_b": 1})
    drifts = {d.name: d for d in V.compare_frames(a, b)}
    assert drifts["v"].score_kind == "ks" and drifts["v"].score == pytest.approx(0.5)
    assert drifts["c"].new_categories == ["z"] and drifts["c"].missing_categories == ["y"]
    assert drifts["c"].score_kind == "psi" and drifts["c"].score > 0.25
    assert drifts["only_a"].status == "only_a" and drifts["only_b"].status == "only_b"
    same = V.psi({"x": 5, "y": 5}, {"x": 50, "y": 50})
    assert same is not None and math.isclose(same, 0.0, abs_tol=1e-12)


def test_dates_parsed_per_chunk_fall_back_to_text(tmp_path, monkeypatch):
    monkeypatch.setattr(D_load, "_CHUNK_ROWS", 2)
    (tmp_path / "d.csv").write_text("a,b\n2024-01-01,2024-01-01\n2024-01-02,2024-01-02\n"
                                    "2024-01-03,soon\n2024-01-04,2024-01-04\n")  # fmt: skip
    frame = D_load.load_dataset(tmp_path / "d.csv").frame
    assert pd.api.types.is_datetime64_any_dtype(frame["a"])
    assert frame["b"].tolist() == ["2024-01-01", "2024-01-02", "soon", "2024-01-04"]


def test_nested_json_lines_profile_and_views(tmp_path):
    path = tmp_path / "n.jsonl"
    path.write_text('{"a": [1, 2], "b": {"k": 1}, "c": 1}\n{"a": [1, 2], "b": null, "c": 2}\n')
    frame = D_load.load_dataset(path).frame
    profile = D.profile_frame(frame)
    assert profile.column("a").unique == 1 and profile.column("b").nulls == 1
    assert profile.duplicate_rows == 0
    json.dumps(D.saved_profile_dict(profile), allow_nan=False)
    assert V.top_values(frame["a"]) == ([("[1, 2]", 2)], 0)
    assert V.duplicate_rows(frame).count == 0


def test_wide_frames_bound_the_correlation():
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(50, 30)))
    frame.columns = [f"c{i}" for i in range(30)]
    names, matrix = V.correlation(frame, max_columns=5)
    assert names == ["c0", "c1", "c2", "c3", "c4"] and matrix.shape == (5, 5)
    frame["c1"] = frame["c0"] * 3  # one float block: to_numpy() may hand out a read-only view
    kinds = {(a.kind, a.column) for a in D.profile_frame(frame).alerts}
    assert ("high_correlation", "c0") in kinds
