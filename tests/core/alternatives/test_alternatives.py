"""The alternatives store file, its tolerance of hand edits, and the list queries."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from waitwise_tui.core.alternatives.arxiv import ArxivMetadata, parse_arxiv_id
from waitwise_tui.core.alternatives.exchange import entries_from_text, markdown_table
from waitwise_tui.core.alternatives.model import Entry
from waitwise_tui.core.alternatives.query import parse_filter, pick_read_now, sort_entries
from waitwise_tui.core.alternatives.store import (
    AlternativesList,
    StoreSyntaxError,
    dump_list,
    load_list,
    parse_list,
    save_list,
    update_list,
)
from waitwise_tui.core.text import display

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def make_store() -> AlternativesList:
    store = AlternativesList()
    store.add(
        Entry(
            0,
            "LoRA",
            kind="architecture",
            arxiv_id="2106.09685v2",
            priority=2,
            minutes=30,
            tags=("lora", "peft"),
        ),
        now=NOW,
    )
    store.add(
        Entry(
            0,
            "Layer norm [bold]x[/]",
            kind="normalisation",
            doi="10.48550/arXiv.1607.06450",
            minutes=10,
            notes='line 1\nline 2 with "quotes"\n',
        ),
        now=NOW,
    )
    store.add(Entry(0, "Adam", kind="optimiser", status="done", priority=1), now=NOW)
    return store


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "alternatives.toml"
    store = make_store()
    save_list(path, store)
    again = load_list(path)
    assert again.entries() == store.entries()
    assert again.next_id == 4
    assert again.problems == []
    # Stable output: writing what was read gives the same bytes.
    assert dump_list(again) == path.read_text()


def test_file_is_diff_friendly(tmp_path: Path) -> None:
    text = dump_list(make_store())
    assert text.count("\n[[entry]]\n") == 3
    first = text.split("\n[[entry]]\n")[1]
    keys = [line.split(" = ")[0] for line in first.strip().splitlines() if " = " in line]
    assert keys[:5] == ["id", "title", "kind", "status", "priority"]


def test_missing_file_is_an_empty_list(tmp_path: Path) -> None:
    store = load_list(tmp_path / "nope.toml")
    assert store.entries() == [] and store.next_id == 1


def test_ids_are_never_reused(tmp_path: Path) -> None:
    store = make_store()
    store.remove([3])
    assert store.add(Entry(0, "New"), now=NOW).id == 4
    again = parse_list(dump_list(store))
    assert again.add(Entry(0, "Newer"), now=NOW).id == 5


HAND_EDITED = """\
next_id = 3

[[entry]]
id = 1
title = "Good one"
kind = "Feature-Extraction"
status = "TO-READ"
added = 2024-05-01

[[entry]]  # user comment
id = 2
title = "Bad status"
status = "skimmed"
custom = "keep me"

[[entry]]
title = "No id yet"
tags = "single"
mystery = { a = 1 }

[[entry]]
id = 1
title = "Duplicate id"
"""


def test_hand_edits_are_read_reported_and_kept() -> None:
    store = parse_list(HAND_EDITED)
    entries = store.entries()
    assert [e.title for e in entries] == ["Good one", "No id yet", "Duplicate id"]
    assert entries[0].kind == "feature extraction" and entries[0].status == "to-read"
    assert entries[0].added == datetime(2024, 5, 1, tzinfo=timezone.utc)
    # Missing and repeated ids get fresh ones, after the highest seen.
    assert [e.id for e in entries] == [1, 3, 4]
    assert entries[1].tags == ("single",) and entries[1].extra == {"mystery": {"a": 1}}
    (bad,) = store.unreadable()
    assert bad.line == 10 and "status 'skimmed'" in bad.problem
    assert any("line 10" in p and "skimmed" in p for p in store.problems)
    assert any("line 21" in p and "repeats id 1" in p for p in store.problems)
    text = dump_list(store)
    # The unreadable entry goes back verbatim, in place; unknown keys survive.
    assert (
        '[[entry]]  # user comment\nid = 2\ntitle = "Bad status"\nstatus = "skimmed"\ncustom'
        in text
    )
    assert text.index("Good one") < text.index("Bad status") < text.index("No id yet")
    assert "mystery" in text
    assert parse_list(text).unreadable()[0].text == bad.text


def test_invalid_syntax_is_refused_and_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "alternatives.toml"
    save_list(path, make_store())
    broken = path.read_text().replace('title = "Adam"', 'title = "Adam')
    path.write_text(broken)
    with pytest.raises(StoreSyntaxError) as info:
        update_list(path, lambda s: s.add(Entry(0, "x")))
    line = broken.splitlines().index('title = "Adam') + 1
    assert info.value.line == line
    assert f"line {line}" in str(info.value) and "\n" not in str(info.value)
    assert path.read_text() == broken


def test_wrong_shape_is_a_syntax_error() -> None:
    with pytest.raises(StoreSyntaxError):
        parse_list('entry = "x"\n')
    with pytest.raises(StoreSyntaxError, match="line 2"):
        parse_list("next_id = 1\nbroken = [\n")


def test_duplicate_merge_by_arxiv_version_and_doi_case() -> None:
    store = make_store()
    added, entry = store.add_or_merge(
        Entry(0, "LoRA v3", arxiv_id="2106.09685v3", year=2021, tags=("lora", "llm")), now=NOW
    )
    assert not added and entry.id == 1
    assert entry.title == "LoRA" and entry.year == 2021 and entry.tags == ("lora", "peft", "llm")
    added, entry = store.add_or_merge(Entry(0, "LN", doi="10.48550/ARXIV.1607.06450"), now=NOW)
    assert not added and entry.id == 2
    added, entry = store.add_or_merge(Entry(0, "Other", arxiv_id="2106.09686"), now=NOW)
    assert added and entry.id == 4


def test_quick_add_title_is_replaced_by_real_metadata() -> None:
    (entry,) = entries_from_text("arXiv:2106.09685", kind="architecture", tags=["x"])
    assert entry.title == "arXiv:2106.09685" and entry.kind == "architecture"
    store = AlternativesList()
    store.add(entry, now=NOW)
    added, merged = store.add_or_merge(Entry(0, "LoRA", arxiv_id="2106.09685", year=2021))
    assert not added and merged.title == "LoRA"

    from waitwise_tui.core.alternatives.model import apply_metadata

    meta = ArxivMetadata(parse_arxiv_id("2106.09685v2"), "LoRA", ("E. Hu",), 2021, "cs.CL")
    filled = apply_metadata(entry, meta)
    assert (
        filled.title == "LoRA" and filled.authors == ("E. Hu",) and filled.primary_class == "cs.CL"
    )
    assert filled.arxiv_id == "2106.09685"


def test_entries_from_text_rejects_rubbish() -> None:
    with pytest.raises(ValueError, match="not an arXiv id"):
        entries_from_text("hello world", kind="other", tags=[])
    with pytest.raises(ValueError, match="BibTeX not readable"):
        entries_from_text("@misc{x, author={a}}", kind="other", tags=[])


def test_filter_and_sort() -> None:
    entries = make_store().entries()
    assert [e.id for e in entries if parse_filter("status:to-read").matches(e)] == [1, 2]
    assert [e.id for e in entries if parse_filter("kind:optimiser").matches(e)] == [3]
    assert [e.id for e in entries if parse_filter("tag:PEFT").matches(e)] == [1]
    assert [e.id for e in entries if parse_filter("quotes").matches(e)] == [2]
    assert [e.id for e in entries if parse_filter("kind:feature-extraction").matches(e)] == []
    assert parse_filter("kind:optim status:read").kind == "optimiser"
    assert parse_filter("status:read").status == "reading"
    with pytest.raises(ValueError):
        parse_filter("status:skimmed")
    with pytest.raises(ValueError):
        parse_filter("status:d")  # done or dropped
    assert [e.id for e in sort_entries(entries, "priority")] == [3, 1, 2]
    assert [e.id for e in sort_entries(entries, "added")] == [3, 2, 1]
    assert [e.id for e in sort_entries(entries, "status")] == [1, 2, 3]


def test_read_now_respects_eta() -> None:
    entries = make_store().entries()
    assert pick_read_now(entries, None).entry.id == 1
    assert "unknown" in pick_read_now(entries, None).message
    assert pick_read_now(entries, 45 * 60).entry.id == 1
    assert pick_read_now(entries, 15 * 60).entry.id == 2
    nothing = pick_read_now(entries, 5 * 60)
    assert nothing.entry is None and "5m left" in nothing.message
    assert pick_read_now([], None).entry is None


def test_display_text_escapes_control_characters() -> None:
    assert display("a\x1b[31mb\nc\u202e") == "a\\x1b[31mb\\nc\\u202e"
    assert display("[bold]x[/]") == "[bold]x[/]"


def test_markdown_export_escapes_cells() -> None:
    store = AlternativesList()
    store.add(Entry(0, "a | b\nc", arxiv_id="2106.09685"), now=NOW)
    table = markdown_table(store.entries())
    assert "| 1 | a \\| b\\nc | other | to-read | 3 | <https://arxiv.org/abs/2106.09685> |" in table
    assert table.count("\n") == 3
