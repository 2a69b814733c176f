"""``waitwise-tui alt``: add, list --json, import, export, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from waitwise_tui.cli import main


@pytest.fixture(autouse=True)
def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAITWISE_CONFIG_DIR", str(tmp_path / "config"))


def alt(ws: Path, *args: str) -> int:
    return main(["alt", *args, "-w", str(ws)])


def listing(ws: Path, capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    capsys.readouterr()
    assert alt(ws, "list", "--json", *args) == 0
    return json.loads(capsys.readouterr().out)["items"]


def test_add_list_and_duplicates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert alt(tmp_path, "add", "2106.09685v2", "--kind", "architecture", "--tag", "lora") == 0
    assert "added #1" in capsys.readouterr().out
    assert alt(tmp_path, "add", "https://arxiv.org/pdf/2106.09685v3.pdf") == 0
    assert "merged into #1" in capsys.readouterr().out
    assert alt(tmp_path, "add", "https://doi.org/10.1145/3292500.3330701") == 0
    items = listing(tmp_path, capsys)
    assert items[0] == {
        "id": 1,
        "title": "arXiv:2106.09685v2",
        "arxiv_id": "2106.09685v2",
        "doi": "",
        "url": "https://arxiv.org/abs/2106.09685v2",
        "kind": "architecture",
        "status": "to-read",
        "priority": 3,
        "tags": ["lora"],
    }
    assert items[1]["doi"] == "10.1145/3292500.3330701" and items[1]["id"] == 2
    assert listing(tmp_path, capsys, "--status", "done") == []


def test_import_and_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@article{a, title={Adam}, author={Kingma, D.}, year=2014, eprint={1412.6980},"
        " archivePrefix={arXiv}, primaryClass={cs.LG}}\n"
        "@misc{b, title={Adam again}, eprint={1412.6980v9}}\n"
        "@misc{c, title={Broken\n"
    )
    assert alt(tmp_path, "import", str(bib)) == 0
    captured = capsys.readouterr()
    assert "1 added, 1 merged as duplicates, 1 skipped" in captured.out
    assert "skipped line 3" in captured.err
    assert alt(tmp_path, "export", "--bibtex") == 0
    out = capsys.readouterr().out
    assert "eprint = {1412.6980}" in out and "primaryClass = {cs.LG}" in out
    assert alt(tmp_path, "export", "--markdown", "-o", str(tmp_path / "list.md")) == 0
    assert "| 1 | Adam |" in (tmp_path / "list.md").read_text()


def test_real_bib_round_trips_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import bibtexparser

    bib = Path(__file__).parent / "bib" / "kvbench-references.bib"
    assert alt(tmp_path, "import", str(bib)) == 0
    assert "20 added" in capsys.readouterr().out
    out = tmp_path / "out.bib"
    assert alt(tmp_path, "export", "--bibtex", "-o", str(out)) == 0

    def records(text: str) -> dict:
        entries = bibtexparser.parse_string(text).entries
        return {e.key: (e.entry_type, {f.key: f.value for f in e.fields}) for e in entries}

    assert records(out.read_text()) == records(bib.read_text())


def test_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert alt(tmp_path, "add", "not a reference") == 2
    assert "not an arXiv id" in capsys.readouterr().err
    assert alt(tmp_path, "import", str(tmp_path / "missing.bib")) == 2
    assert "cannot read" in capsys.readouterr().err
    assert alt(tmp_path, "add", "1412.6980") == 0
    store = tmp_path / ".waitwise" / "alternatives.toml"
    broken = store.read_text() + "oops = [\n"
    store.write_text(broken)
    capsys.readouterr()
    assert alt(tmp_path, "add", "2106.09685") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "line" in err and "fix the file" in err
    assert store.read_text() == broken
    assert main(["alt", "list", "-w", str(tmp_path / "nowhere")]) == 2


def test_list_does_not_create_the_workspace_dir(tmp_path: Path, capsys) -> None:
    assert listing(tmp_path, capsys) == []
    assert not (tmp_path / ".waitwise").exists()
