"""The store file as a person edits it: short hand-added [[entry]] tables and comments
survive the app's writes, and a hand edit made between two app writes is kept."""

from __future__ import annotations

import multiprocessing
from dataclasses import replace
from pathlib import Path

import pytest

from waitwise_tui.core.alternatives.model import Entry
from waitwise_tui.core.alternatives.store import (
    StoreSyntaxError,
    load_list,
    update_list,
)

APP_WRITTEN = """\
# waitwise-tui alternatives reading list: one [[entry]] table per item.
next_id = 2

[[entry]]
id = 1
title = "Adam"
kind = "optimiser"
status = "to-read"
priority = 3
"""

ONE_SHORT = """
# added by hand
[[entry]]
id = 2
title = "Lion"
"""

TWO_SHORT = """
# two more, by hand
[[entry]]
id = 2
title = "Lion"   # Chen et al. 2023

[[entry]]
id = 3
title = "Sophia"
# end of my additions
"""


def three_app_writes(path: Path) -> None:
    update_list(path, lambda s: s.add(Entry(0, "Shampoo", kind="optimiser")))
    update_list(path, lambda s: s.set_status([1], "done"))
    update_list(path, lambda s: s.put(Entry(2, "Lion", kind="optimiser", priority=1)))


@pytest.mark.parametrize("added", [ONE_SHORT, TWO_SHORT], ids=["one", "two"])
def test_short_hand_added_entries_survive_three_writes(tmp_path: Path, added: str) -> None:
    path = tmp_path / "alternatives.toml"
    path.write_text(APP_WRITTEN + added)
    assert "Lion" in [e.title for e in load_list(path).entries()]

    three_app_writes(path)

    text = path.read_text()
    store = load_list(path)
    assert store.problems == []
    titles = [e.title for e in store.entries()]
    assert titles[:2] == ["Adam", "Lion"] and "Shampoo" in titles
    if added is TWO_SHORT:
        assert "Sophia" in titles
        assert 'title = "Lion"   # Chen et al. 2023' in text
        assert "# end of my additions" in text
        assert '[[entry]]\nid = 3\ntitle = "Sophia"' in text
    # Every entry is still its own [[entry]] table; nothing became an inline table.
    assert text.count("\n[[entry]]\n") == len(titles)
    assert "entry = [" not in text and "{ id" not in text
    assert text.startswith("# waitwise-tui alternatives reading list")
    assert "# added by hand" in text or "# two more, by hand" in text
    lion = store.get(2)
    assert lion is not None and (lion.kind, lion.priority) == ("optimiser", 1)
    assert store.get(1).status == "done"


def test_untouched_entries_keep_their_bytes(tmp_path: Path) -> None:
    path = tmp_path / "alternatives.toml"
    hand = """\
next_id = 3
# my reading list

[[entry]]
id = 1
title = 'Adam'          # single quotes, aligned comment
tags = [ "opt" , "classic" ]
kind = "Optimiser"

[[entry]]
id = 2
title = "LayerNorm"
"""
    path.write_text(hand)
    update_list(path, lambda s: s.set_status([2], "reading"))
    text = path.read_text()
    first = hand.split("[[entry]]")[1]
    # Its bytes are kept; the one addition is its citation key (given at the first
    # write, then never changed), placed after its last key, not at the table's end.
    assert first.replace('"Optimiser"\n', '"Optimiser"\ncite_key = "adam"\n') in text
    assert text.startswith("next_id = 3\n# my reading list\n")
    assert 'status = "reading"' in text.split("[[entry]]")[2]
    update_list(path, lambda s: s.put(replace(s.get(1), title="Adam, revisited")))
    assert [e.cite_key for e in load_list(path).entries()] == ["adam", "layernorm"]


def test_inline_entry_array_from_old_writes_is_repaired(tmp_path: Path) -> None:
    # What earlier versions wrote for a short entry: an inline array of tables.
    path = tmp_path / "alternatives.toml"
    path.write_text('next_id = 3\nentry = [ { id = 1, title = "A" }, { id = 2, title = "B" } ]\n')
    update_list(path, lambda s: s.set_status([1], "done"))
    text = path.read_text()
    assert text.count("[[entry]]") == 2 and "entry = [" not in text
    assert [e.title for e in load_list(path).entries()] == ["A", "B"]


def test_invalid_toml_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "alternatives.toml"
    broken = APP_WRITTEN + '\n[[entry]]\nid = 2\ntitle = "Lion\n'
    path.write_text(broken)
    with pytest.raises(StoreSyntaxError, match="line 13") as info:
        update_list(path, lambda s: s.add(Entry(0, "x")))
    assert info.value.line == 13
    assert path.read_text() == broken


def test_hand_edit_between_app_writes_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "alternatives.toml"
    path.write_text(APP_WRITTEN)
    update_list(path, lambda s: s.add(Entry(0, "Shampoo")))
    # The user edits the file in an editor while the app runs.
    text = path.read_text().replace('title = "Adam"', 'title = "Adam"\nnotes = "read sec 3"')
    path.write_text(text + ONE_SHORT.replace("id = 2", "id = 9"))
    update_list(path, lambda s: s.set_status([2], "done"))
    store = load_list(path)
    assert store.get(1).notes == "read sec 3"
    assert store.get(9).title == "Lion" and store.get(2).status == "done"


def _add_many(path: str, title: str) -> None:
    for n in range(15):
        update_list(Path(path), lambda s, n=n: s.add(Entry(0, f"{title} {n}")))


@pytest.mark.slow
def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "alternatives.toml"
    path.write_text(APP_WRITTEN)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_add_many, args=(str(path), t)) for t in ("A", "B")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    entries = load_list(path).entries()
    assert len(entries) == 31
    assert len({e.id for e in entries}) == 31


def test_new_keys_go_in_field_order_before_a_trailing_comment(tmp_path: Path) -> None:
    path = tmp_path / "alternatives.toml"
    path.write_text(APP_WRITTEN + TWO_SHORT)
    update_list(path, lambda s: s.put(Entry(3, "Sophia", status="reading", priority=1)))
    block = path.read_text().split("[[entry]]")[-1].splitlines()
    keys = [line.split(" =")[0] for line in block if " = " in line]
    assert keys == ["id", "title", "status", "priority", "updated", "cite_key"]
    assert block[-1] == "# end of my additions"  # still last, after every key


@pytest.mark.parametrize("doomed", [1, 2], ids=["first", "middle"])
def test_delete_keeps_the_comment_written_above_the_next_entry(tmp_path: Path, doomed: int) -> None:
    path = tmp_path / "alternatives.toml"
    path.write_text(
        APP_WRITTEN
        + '# a note about Adam\n\n# Lion: try on ViT\n[[entry]]\nid = 2\ntitle = "Lion"\n'
        + '# Sophia: second-order\n[[entry]]\nid = 3\ntitle = "Sophia"\n'
    )
    update_list(path, lambda s: s.remove([doomed]))
    text = path.read_text()
    assert "# Sophia: second-order\n[[entry]]\nid = 3" in text
    if doomed == 1:
        assert "# Lion: try on ViT\n[[entry]]\nid = 2" in text
        assert "# a note about Adam" not in text  # Adam's own comment goes with Adam
    assert [e.title for e in load_list(path).entries()] == (
        ["Lion", "Sophia"] if doomed == 1 else ["Adam", "Sophia"]
    )


def test_hand_added_entries_get_unique_keys_at_the_first_write(tmp_path: Path) -> None:
    path = tmp_path / "alternatives.toml"
    path.write_text(
        APP_WRITTEN
        + '\n[[entry]]\nid = 2\ntitle = "Lion"\nauthors = ["Chen, X."]\nyear = 2023\n'
        + '\n[[entry]]\nid = 3\ntitle = "Lion revisited"\nauthors = ["Chen, Y."]\nyear = 2023\n'
        + '\n[[entry]]\nid = 4\ntitle = "arXiv:2302.06675"\narxiv_id = "2302.06675"\n'
    )
    update_list(path, lambda s: s.set_status([1], "done"))
    keys = [e.cite_key for e in load_list(path).entries()]
    assert keys == ["adam", "chen2023lion", "chen2023liona", ""]  # placeholder: later
    update_list(path, lambda s: s.put(replace(s.get(2), title="Symbolic Discovery")))
    assert [e.cite_key for e in load_list(path).entries()][:3] == keys[:3]
