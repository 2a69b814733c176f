"""Alternatives store benchmarks: a 500-entry reading list read, re-read and written.

Run: python bench/bench_alternatives.py [N]   (default N = 500 entries; prints medians
and ratios against baselines measured in the same run, in a temporary directory).

The list is N BibTeX records (eight fields each, LaTeX in some titles) imported into
``.waitwise/alternatives.toml``, the way a researcher's ``.bib`` arrives.

- load: ``load_list`` of the file (what the tab does when it (re)loads) against
  ``tomllib.loads`` of the same text, the floor of any TOML reader.
- load, unchanged: ``load_list`` again with the file untouched (the tab's poll and
  every re-read after a write hits this).
- status write: ``update_list`` setting one entry's status (read under the lock, edit
  the document in place, atomic replace) against ``tomllib.loads`` + ``tomli_w.dumps``
  + an atomic write of the same data (what a writer that keeps no comments costs).
- import: ``update_list`` adding the N parsed entries to an empty list, against the same
  tomllib + tomli_w baseline on the resulting file.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from waitwise_tui.core.alternatives import store as store_module  # noqa: E402
from waitwise_tui.core.alternatives.bibtex import parse_bibtex  # noqa: E402
from waitwise_tui.core.alternatives.exchange import import_entries  # noqa: E402
from waitwise_tui.core.alternatives.store import load_list, update_list  # noqa: E402
from waitwise_tui.core.atomic import atomic_write_text  # noqa: E402

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def bib(n: int) -> str:
    records = []
    for i in range(n):
        records.append(
            f"@article{{key{i},\n"
            f"  title = {{Prompt \\& Predict {i}: {{\\ae}}sthetics of Attention}},\n"
            f"  author = {{Brown, Tom and Smith, Ann and Lee, Kai{i}}},\n"
            f"  journal = {{arXiv preprint arXiv:{2300 + i % 20}.{i:05d}}},\n"
            f"  year = {{{2000 + i % 25}}},\n"
            f"  pages = {{{i}--{i + 10}}},\n"
            f"  volume = {{{i % 40}}},\n"
            f"  publisher = {{Curran Associates}},\n"
            f"  keywords = {{attention, nlp}},\n"
            f"}}\n"
        )
    return "\n".join(records)


def median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ms(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} µs" if seconds < 0.001 else f"{seconds * 1000:.1f} ms"


def forget() -> None:
    """Drop the reader's cache, so the next load reads and parses the file."""
    clear = getattr(store_module, "clear_cache", None)
    if clear is not None:
        clear()


def main() -> None:
    import tomli_w

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    parsed = parse_bibtex(bib(n))
    assert len(parsed.entries) == n, parsed.malformed[:3]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "alternatives.toml"
        copy = Path(tmp) / "baseline.toml"

        def do_import() -> None:
            path.unlink(missing_ok=True)
            forget()
            update_list(path, lambda s: import_entries(s, parsed.entries))

        t_import = median(do_import, 3)
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)

        def baseline_write() -> None:
            atomic_write_text(copy, tomli_w.dumps(tomllib.loads(text)))

        t_floor_read = median(lambda: tomllib.loads(text), 7)
        t_floor_write = median(baseline_write, 5)

        def cold_load() -> None:
            forget()
            load_list(path)

        t_load = median(cold_load, 5)
        load_list(path)
        t_cached = median(lambda: load_list(path), 21)
        statuses = iter(["done", "to-read"] * 20)
        t_write = median(
            lambda: update_list(path, lambda s: s.set_status([n // 2], next(statuses))), 5
        )
    print(f"{n} entries, file {len(text) / 1024:.0f} KiB, {len(data.get('entry', []))} tables")
    rows = [
        ("load (cold)", t_load, "tomllib.loads", t_floor_read),
        ("load (unchanged file)", t_cached, "tomllib.loads", t_floor_read),
        ("one status write", t_write, "tomllib + tomli_w + atomic write", t_floor_write),
        (f"import {n} entries", t_import, "tomllib + tomli_w + atomic write", t_floor_write),
    ]
    print("| measure | waitwise-tui | baseline (same run) | ratio |")
    print("|---|---|---|---|")
    for name, value, base_name, base in rows:
        print(f"| {name} | {ms(value)} | {base_name}: {ms(base)} | {value / base:.3g} |")


if __name__ == "__main__":
    main()
