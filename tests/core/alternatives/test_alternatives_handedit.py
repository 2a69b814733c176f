"""The store file as a person edits it: short hand-added [[entry]] tables and comments
survive the app's writes, and a hand edit made between two app writes is kept."""

from __future__ import annotations

import multiprocessing
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
    assert first in text
    assert text.startswith("next_id = 3\n# my reading list\n")
    assert 'status = "reading"' in text.split("[[entry]]")[2]
    # Citation keys are given when the app adds or edits an entry, not on every write.
    assert "cite_key" not in text


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
