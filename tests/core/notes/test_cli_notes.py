"""``waitwise-tui notes``: list --json, add, export, errors."""

from __future__ import annotations

import json

import pytest

from waitwise_tui.cli import main


@pytest.fixture(autouse=True)
def _config(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WAITWISE_CONFIG_DIR", str(tmp_path / "config"))


def test_list_empty_creates_nothing(tmp_path, capsys) -> None:
    assert main(["notes", "-w", str(tmp_path), "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"notes": []}
    assert not (tmp_path / ".waitwise").exists()


def test_add_then_list_and_export(tmp_path, capsys) -> None:
    assert main(["notes", "add", "-w", str(tmp_path), "loss  plateaued"]) == 0
    capsys.readouterr()
    assert main(["notes", "list", "--json", "--workspace", str(tmp_path)]) == 0
    listed = json.loads(capsys.readouterr().out)["notes"]
    assert len(listed) == 1
    assert set(listed[0]) == {"name", "path", "size", "modified"}
    text = (tmp_path / ".waitwise" / "notes" / f"{listed[0]['name']}.md").read_text()
    assert text.endswith(" loss plateaued\n") and text.startswith("- ")
    assert main(["notes", "-w", str(tmp_path), "export"]) == 0
    report = capsys.readouterr().out
    assert f"## {listed[0]['name']}" in report and "loss plateaued" in report


def test_export_since(tmp_path, capsys) -> None:
    notes_dir = tmp_path / ".waitwise" / "notes"
    notes_dir.mkdir(parents=True)
    (notes_dir / "2026-01-01.md").write_text("old")
    (notes_dir / "2026-02-01.md").write_text("new")
    assert main(["notes", "export", "--since", "2026-01-15", "-w", str(tmp_path)]) == 0
    report = capsys.readouterr().out
    assert "new" in report and "2026-01-01" not in report


def test_errors_are_one_line(tmp_path, capsys) -> None:
    assert main(["notes", "-w", str(tmp_path / "missing"), "list"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["notes", "-w", str(tmp_path), "add", "   "]) == 2
    assert "empty" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["notes", "-w", str(tmp_path), "export", "--since", "yesterday"])
