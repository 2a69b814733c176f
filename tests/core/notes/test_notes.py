"""Notes store: names, save with conflict copies, templates, search, export, snapshot block."""

from __future__ import annotations

import os
import stat
from datetime import date, datetime

import pytest

from waitwise_tui.core.events import RUN_FINISHED, Event
from waitwise_tui.core.notes import store as notes
from waitwise_tui.core.notes.document import NoteDoc

NOW = datetime(2026, 3, 14, 9, 26, 53)


def test_check_note_name_rejects_paths_and_dots() -> None:
    assert notes.check_note_name(" ideas.md ") == "ideas"
    for bad in ("", "a/b", "..", ".hidden", "x\ny"):
        with pytest.raises(notes.NoteError):
            notes.check_note_name(bad)


def test_list_notes_missing_dir_creates_nothing(tmp_path) -> None:
    assert notes.list_notes(tmp_path / ".waitwise" / "notes") == []
    assert not (tmp_path / ".waitwise").exists()


def test_list_notes_skips_temp_files_and_dirs(tmp_path) -> None:
    (tmp_path / "b.md").write_text("bb")
    (tmp_path / "a.md").write_text("a")
    (tmp_path / ".a.md.123.tmp").write_text("x")
    (tmp_path / "templates").mkdir()
    assert [n.name for n in notes.list_notes(tmp_path)] == ["a", "b"]


def test_save_keeps_permissions(tmp_path) -> None:
    path = tmp_path / "n.md"
    path.write_text("old")
    os.chmod(path, 0o600)
    loaded = notes.load_note(path)
    notes.save_note(path, "new", loaded.fingerprint)
    assert path.read_text() == "new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_save_over_changed_disk_keeps_conflict_copy(tmp_path) -> None:
    path = tmp_path / "n.md"
    path.write_text("base")
    loaded = notes.load_note(path)
    path.write_text("theirs")
    result = notes.save_note(path, "mine", loaded.fingerprint, now=NOW)
    assert path.read_text() == "mine"
    assert result.conflict_path is not None
    assert result.conflict_path.name == "n.conflict-20260314-092653.md"
    assert result.conflict_path.read_text() == "theirs"
    # Same second again: a second, distinct copy.
    path.write_text("theirs again")
    again = notes.save_note(path, "mine 2", result.fingerprint, now=NOW)
    assert again.conflict_path is not None and again.conflict_path != result.conflict_path


def test_save_unchanged_disk_makes_no_conflict(tmp_path) -> None:
    path = tmp_path / "n.md"
    first = notes.save_note(path, "one", None)
    second = notes.save_note(path, "two", first.fingerprint)
    assert second.conflict_path is None
    assert [p.name for p in tmp_path.iterdir()] == ["n.md"]


def test_non_utf8_note_is_read_only_and_never_overwritten(tmp_path) -> None:
    path = tmp_path / "bin.md"
    path.write_bytes(b"caf\xe9\n")
    doc = NoteDoc(path)
    loaded = doc.load()
    assert loaded.readonly_reason and "UTF-8" in loaded.readonly_reason
    with pytest.raises(notes.NotUtf8Error):
        doc.save("replaced")
    with pytest.raises(notes.NotUtf8Error):
        notes.append_line(path, "- line")
    assert path.read_bytes() == b"caf\xe9\n"


def test_disk_changed_detects_rewrite_and_delete(tmp_path) -> None:
    path = tmp_path / "n.md"
    result = notes.save_note(path, "x", None)
    assert not notes.disk_changed(path, result.fingerprint)
    path.write_text("y")
    assert notes.disk_changed(path, result.fingerprint)
    path.unlink()
    assert notes.disk_changed(path, result.fingerprint)
    assert not notes.disk_changed(path, None)


def test_append_line_creates_and_appends(tmp_path) -> None:
    path = tmp_path / "notes" / "2026-03-14.md"
    notes.append_line(path, "- 09:00 one")
    path.write_text(path.read_text() + "no newline")
    notes.append_line(path, "- 09:01 two")
    assert path.read_text() == "- 09:00 one\nno newline\n- 09:01 two\n"


def test_templates_and_render(tmp_path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "exp.md").write_text("# {{run}} at {{time}} on {{date}}\n")
    templates = notes.list_templates(tmp_path)
    assert set(templates) == {"default", "exp"}
    text = notes.render_template(templates["exp"], now=NOW, run="resnet")
    assert text == "# resnet at 09:26 on 2026-03-14\n"
    assert "Run: -" in notes.render_template(notes.DEFAULT_TEMPLATE, now=NOW, run=None)


def test_search_finds_line_and_column_and_prefers_buffer(tmp_path) -> None:
    (tmp_path / "a.md").write_text("first\nthe Loss went down\n")
    (tmp_path / "b.md").write_text("nothing here\n")
    hits = notes.search_notes(tmp_path, "loss")
    assert [(h.name, h.line, h.column) for h in hits] == [("a", 1, 4)]
    hits = notes.search_notes(tmp_path, "loss", texts={"b": "loss in buffer", "new": "LOSS"})
    assert [(h.name, h.line, h.column) for h in hits] == [("a", 1, 4), ("b", 0, 0), ("new", 0, 0)]
    assert notes.search_notes(tmp_path, "") == []


def test_export_orders_by_date_and_filters(tmp_path) -> None:
    (tmp_path / "2026-03-02.md").write_text("second day")
    (tmp_path / "2026-03-01.md").write_text("first day")
    (tmp_path / "2026-03-01.conflict-20260301-100000.md").write_text("conflict")
    idea = tmp_path / "idea.md"
    idea.write_text("an idea")
    stamp = datetime(2026, 3, 1, 12).timestamp()
    os.utime(idea, (stamp, stamp))
    report = notes.export_notes(tmp_path)
    assert report.index("## 2026-03-01") < report.index("## idea (2026-03-01)")
    assert report.index("## idea") < report.index("## 2026-03-02")
    assert "conflict" not in report
    later = notes.export_notes(tmp_path, since=date(2026, 3, 2))
    assert "first day" not in later and "second day" in later


def test_journal_line_is_one_line() -> None:
    event = Event(RUN_FINISHED, "runs", "resnet\nfinished  ok", time=NOW.timestamp())
    assert notes.journal_line(event) == "- 09:26 run finished resnet finished ok"


def test_snapshot_block_leaves_out_what_is_missing() -> None:
    assert notes.snapshot_block(notes.SnapshotParts()) == "### Snapshot\n"
    full = notes.SnapshotParts(
        time=NOW,
        run="resnet",
        step=1200.0,
        epoch=3.0,
        metrics={"loss": 0.123456789, "acc": 0.9},
        eta_seconds=3725,
        gpus=(notes.GpuLine(0, "A100", 57.0, 8192.0, 81920.0),),
        best_trial=notes.BestTrial("lr-sweep", 4, 0.05, {"lr": 0.001}, "minimize"),
        git_commit="abc1234",
        git_dirty=True,
    )
    assert notes.snapshot_block(full).splitlines() == [
        "### Snapshot 2026-03-14 09:26:53",
        "",
        "- run: resnet",
        "- progress: step 1200, epoch 3",
        "- metrics: acc 0.9, loss 0.123457",
        "- ETA: 1h02m",
        "- GPU 0 A100: util 57%, mem 8.0/80.0 GiB",
        "- best trial: lr-sweep #4 = 0.05 (minimize) [lr=0.001]",
        "- git: abc1234 (dirty)",
    ]


def test_note_doc_rename_refuses_existing(tmp_path) -> None:
    doc = NoteDoc(tmp_path / "a.md")
    doc.save("text")
    (tmp_path / "b.md").write_text("other")
    with pytest.raises(notes.NoteError):
        doc.rename(tmp_path / "b.md")
    doc.rename(tmp_path / "c.md")
    assert (tmp_path / "c.md").read_text() == "text" and not (tmp_path / "a.md").exists()
    doc.save("more")  # no conflict: the rename kept the fingerprint valid
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.md", "c.md"]


def test_note_doc_skips_a_stale_save(tmp_path) -> None:
    doc = NoteDoc(tmp_path / "n.md")
    assert doc.save("newer", version=2) is not None
    assert doc.save("older", version=1) is None
    assert (tmp_path / "n.md").read_text() == "newer" and doc.saved_text == "newer"


@pytest.mark.parametrize("name", ["a\x1bb", "csi\x9b2J", "del\x7f", "rtl\u202eevil", "tab\tname"])
def test_note_names_with_control_characters_are_refused(name):
    with pytest.raises(notes.NoteError, match="control characters") as caught:
        notes.check_note_name(name)
    assert "\x1b" not in str(caught.value) and "\x9b" not in str(caught.value)


def test_note_names_with_brackets_and_hashes_are_fine():
    for name in ("ablation [lr=3e-4]", "[bold red]x", "#(touch p1)", "50% %j"):
        assert notes.check_note_name(name) == name


def test_journal_line_of_a_hostile_alert_is_one_escaped_line():
    event = Event(kind="alert", source="run", message="lo\x1b[2Jss is\nnot finite", time=0.0)
    line = notes.journal_line(event)
    assert "\x1b" not in line and "\n" not in line
    assert "lo\\x1b[2Jss is not finite" in line
