"""``waitwise-tui data``: JSON schema, readable summary, --save, and bad input (exit 2)."""

from __future__ import annotations

import json

import pytest

from waitwise_tui.cli import main


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("WAITWISE_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("id,x,label\n1,0.5,a\n2,,b\n3,1.5,a\n3,1.5,a\n")
    return path


def test_json_output(csv_file, capsys):
    assert main(["data", str(csv_file), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_rows"] == 4 and out["n_columns"] == 3 and out["duplicate_rows"] == 1
    assert out["sampled"] is False and out["format"] == "csv"
    x = next(c for c in out["columns"] if c["name"] == "x")
    assert x["nulls"] == 1 and x["null_fraction"] == 0.25 and x["min"] == 0.5
    label = next(c for c in out["columns"] if c["name"] == "label")
    assert label["mean"] is None and label["top"] == "a"
    assert {"kind": "duplicates", "column": None, "message": "1 duplicate rows"} in out["alerts"]


def test_summary_and_sep(tmp_path, capsys):
    path = tmp_path / "p.txt"
    path.write_text("a|b\n1|x\n2|y\n")
    assert main(["data", str(path), "--sep", "|"]) == 0
    out = capsys.readouterr().out
    assert "2 rows x 2 columns" in out and "a " in out


def test_save_writes_profile(csv_file, tmp_path, capsys):
    ws = tmp_path / "ws"
    ws.mkdir()
    assert main(["data", str(csv_file), "--save", "--json", "-w", str(ws)]) == 0
    json.loads(capsys.readouterr().out)
    saved = json.loads((ws / ".waitwise" / "profiles" / "train.json").read_text())
    assert saved["key_candidates"] == []
    assert next(c for c in saved["columns"] if c["name"] == "label")["categories"] == ["a", "b"]


@pytest.mark.parametrize(
    "content", [b"", b"a,b\n", b"a,b\n1,2\n3,4,5\n", b"\x00\x01\x02garbage" * 100]
)
def test_bad_input_exits_2(tmp_path, capsys, content):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    assert main(["data", str(path), "--json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("waitwise-tui data: ") and err.count("\n") == 1


def test_missing_file_exits_2(tmp_path, capsys):
    assert main(["data", str(tmp_path / "nope.parquet")]) == 2
    assert "no such file" in capsys.readouterr().err
