"""Reading the store is fast: tomllib reads, tomlkit only parses for a write, and an
unchanged file (same inode, mtime, ctime and size) is not parsed again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from waitwise_tui.core.alternatives.model import Entry
from waitwise_tui.core.alternatives.store import (
    clear_cache,
    load_list,
    parse_list,
    update_list,
)

TEXT = """\
# my reading list
next_id = 3

[[entry]]
id = 1
title = "Adam"

[[entry]]
id = 2
title = "Lion"
"""


def test_unchanged_file_is_served_from_the_cache_as_independent_copies(tmp_path: Path) -> None:
    path = tmp_path / "alternatives.toml"
    path.write_text(TEXT)
    first = load_list(path)
    first.add(Entry(0, "Sophia"))  # changing a loaded list never changes the next load
    first.items[0] = Entry(1, "changed")
    second = load_list(path)
    assert [e.title for e in second.entries()] == ["Adam", "Lion"]
    assert second.next_id == 3
    assert second == parse_list(TEXT)


def test_same_size_edit_in_place_with_mtime_put_back_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "alternatives.toml"
    path.write_text(TEXT)
    assert load_list(path).get(2).title == "Lion"
    before = path.stat()
    # An editor writing in place, same length, and the mtime restored (as rsync -t or
    # a coarse clock would leave it): inode, mtime and size match; ctime does not.
    with open(path, "r+", encoding="utf-8") as handle:
        handle.write(TEXT.replace("Lion", "Lynx"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert load_list(path).get(2).title == "Lynx"


def test_a_write_keeps_comments_and_the_next_read_equals_a_cold_read(tmp_path: Path) -> None:
    path = tmp_path / "alternatives.toml"
    path.write_text(TEXT)
    load_list(path)
    update_list(path, lambda s: s.set_status([2], "done"))
    assert path.read_text().startswith("# my reading list\n")
    cached = load_list(path)
    clear_cache()
    cold = load_list(path)
    assert cached == cold
    assert cold.get(2).status == "done"
    # A second write from the cached list edits the same document correctly.
    update_list(path, lambda s: s.put(Entry(1, "Adam", priority=1)))
    clear_cache()
    assert [(e.title, e.priority, e.status) for e in load_list(path).entries()] == [
        ("Adam", 1, "to-read"),
        ("Lion", 3, "done"),
    ]


def test_reading_never_imports_tomlkit(tmp_path: Path) -> None:
    path = tmp_path / "alternatives.toml"
    path.write_text(TEXT)
    code = (
        "import sys; from pathlib import Path\n"
        "from waitwise_tui.core.alternatives.store import load_list\n"
        f"assert len(load_list(Path({str(path)!r})).entries()) == 2\n"
        "print('tomlkit' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
