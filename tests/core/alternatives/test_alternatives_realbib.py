"""Real, hand-maintained .bib files (tests/core/alternatives/bib/SOURCES.md names them):
import -> store file -> export gives a paper's citations back unchanged, arXiv ids are
found wherever the authors wrote them, and duplicates merge under one entry."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from waitwise_tui.core.alternatives.arxiv import find_arxiv_id, parse_arxiv_id
from waitwise_tui.core.alternatives.bibtex import parse_bibtex, to_bibtex
from waitwise_tui.core.alternatives.exchange import import_entries
from waitwise_tui.core.alternatives.model import Entry
from waitwise_tui.core.alternatives.store import load_list, update_list

BIB = Path(__file__).parent / "bib"
KVBENCH = BIB / "kvbench-references.bib"
ATTENTION = BIB / "attention-bench-references.bib"

# Counted by reading the files (see bib/SOURCES.md): entries, entries with an arXiv id.
COUNTS = {KVBENCH: (20, 11), ATTENTION: (19, 13)}


def library(text: str) -> dict[str, tuple[str, dict[str, str]]]:
    import bibtexparser

    parsed = bibtexparser.parse_string(text)
    assert not parsed.failed_blocks
    return {
        e.key: (e.entry_type, {f.key.lower(): str(f.value) for f in e.fields})
        for e in parsed.entries
    }


@pytest.mark.parametrize("bib", [KVBENCH, ATTENTION], ids=lambda p: p.stem)
def test_import_store_export_gives_the_same_records(tmp_path: Path, bib: Path) -> None:
    store_path = tmp_path / "alternatives.toml"
    entries = parse_bibtex(bib.read_text(encoding="utf-8")).entries
    update_list(store_path, lambda s: import_entries(s, entries))
    # Through the file, and through an app write that changes something else.
    update_list(store_path, lambda s: s.set_status([1, 2], "done"))
    exported = to_bibtex(load_list(store_path).entries())
    assert library(exported) == library(bib.read_text(encoding="utf-8"))


@pytest.mark.parametrize("bib", [KVBENCH, ATTENTION], ids=lambda p: p.stem)
def test_arxiv_ids_found_as_counted(bib: Path) -> None:
    entries = parse_bibtex(bib.read_text(encoding="utf-8")).entries
    total, with_arxiv = COUNTS[bib]
    assert len(entries) == total
    assert sum(1 for e in entries if e.arxiv_id) == with_arxiv
    by_key = {e.cite_key: e for e in entries}
    if bib is KVBENCH:
        assert by_key["su2021roformer"].arxiv_id == "2104.09864"  # journal
        assert by_key["velickovic2024softmax"].arxiv_id == "2410.01104"  # note
    else:
        assert by_key["neurocog2026"].arxiv_id == "2603.02540"


def test_same_paper_from_two_files_merges_and_keeps_both_keys(tmp_path: Path) -> None:
    store_path = tmp_path / "alternatives.toml"
    for bib in (KVBENCH, ATTENTION):
        entries = parse_bibtex(bib.read_text(encoding="utf-8")).entries
        update_list(store_path, lambda s, entries=entries: import_entries(s, entries))
    store = load_list(store_path)
    ruler = [e for e in store.entries() if e.arxiv_id == "2404.06654"]
    assert len(ruler) == 1
    assert ruler[0].cite_key == "hsieh2024ruler" and ruler[0].entry_type == "article"
    # Both files cite "Needle in a Haystack" with no id: two entries, keys kept unique.
    keys = [e.cite_key for e in store.entries()]
    assert len(keys) == len(set(keys)) == 20 + 19 - 1


def test_merged_duplicates_export_other_keys_as_ids() -> None:
    text = r"""
@article{brown2023gpt4, title = {{GPT-4} Technical Report}, author = {T. Brown et al.},
  journal = {arXiv preprint arXiv:2303.08774}, year = {2023}, pages = {1--100}}
@misc{openai2023, title = {GPT-4 Technical Report}, note = {\url{https://arxiv.org/abs/2303.08774v6}}}
@misc{gpt4again, title = {GPT-4}, howpublished = {arXiv:2303.08774v3}}
"""
    from waitwise_tui.core.alternatives.store import AlternativesList

    store = AlternativesList()
    report = import_entries(store, parse_bibtex(text).entries)
    assert (report.added, report.merged) == (1, 2)
    (entry,) = store.entries()
    assert entry.cite_key == "brown2023gpt4" and entry.cite_aliases == ("openai2023", "gpt4again")
    out = library(to_bibtex(store.entries()))
    assert set(out) == {"brown2023gpt4"}
    kind, fields = out["brown2023gpt4"]
    assert kind == "article" and fields["ids"] == "openai2023, gpt4again"
    assert fields["pages"] == "1--100" and fields["journal"] == "arXiv preprint arXiv:2303.08774"


def test_latex_is_decoded_for_display_and_kept_for_export() -> None:
    text = r"""@inproceedings{ae2020,
  title = {Prompt \& Predict: {\ae}sthetics of {BERT}},
  author = {Veli{\v{c}}kovi{\'c}, Petar and Schmidhuber, J{\"u}rgen},
  booktitle = {Proc.\ of {ICML}},
  year = 2020,
  eprint = {hep-th/9901001v2},
  mystery = {kept as is},
}"""
    (entry,) = parse_bibtex(text).entries
    assert entry.title == "Prompt & Predict: æsthetics of BERT"
    assert entry.authors == ("Veličković, Petar", "Schmidhuber, Jürgen")
    assert entry.venue == "Proc. of ICML" and entry.arxiv_id == "hep-th/9901001v2"
    assert library(to_bibtex([entry])) == library(text)


def test_edited_fields_are_exported_the_rest_raw() -> None:
    (entry,) = parse_bibtex(
        r"@article{k1, title = {Old \& raw}, journal = {J}, year = {2020}}"
    ).entries
    from dataclasses import replace

    kind, fields = library(to_bibtex([replace(entry, title="New title", year=2021)]))["k1"]
    assert kind == "article" and fields == {"title": "{New title}", "journal": "J", "year": "2021"}


def test_app_made_entries_get_stable_usual_keys(tmp_path: Path) -> None:
    store_path = tmp_path / "alternatives.toml"
    update_list(
        store_path,
        lambda s: [
            s.add(Entry(0, "The Lion Optimizer", authors=("Chen, Xiangning",), year=2023)),
            s.add(Entry(0, "Lion again", authors=("X. Chen",), year=2023)),
            s.add(Entry(0, "arXiv:2302.06675", arxiv_id="2302.06675")),
        ],
    )
    first = load_list(store_path).entries()
    assert [e.cite_key for e in first] == ["chen2023lion", "chen2023liona", ""]
    # The title changes later (an edit, a lookup); a given key does not.
    from dataclasses import replace

    def retitle(entry_id: int) -> None:
        update_list(
            store_path,
            lambda s: s.put(replace(s.get(entry_id), title="Symbolic Discovery", year=2023)),
        )

    retitle(1)
    retitle(3)
    keys = [e.cite_key for e in load_list(store_path).entries()]
    assert keys == ["chen2023lion", "chen2023liona", "2023symbolic"]


_NEW = st.builds(
    lambda yymm, n, v: f"{yymm}.{n:05d}{v}",
    st.sampled_from(["1501", "1812", "2307", "2412"]),
    st.integers(0, 99999),
    st.sampled_from(["", "v1", "v12"]),
)
_OLD = st.builds(
    lambda a, n, v: f"{a}/{n:07d}{v}",
    st.sampled_from(["hep-th", "math", "cond-mat", "math.GT"]),
    st.integers(0, 9999999),
    st.sampled_from(["", "v2"]),
)
_WRAP = st.sampled_from(
    [
        "arXiv preprint arXiv:{}",
        r"\url{{https://arxiv.org/abs/{}}}",
        "https://arxiv.org/pdf/{}.pdf",
        "Preprint, arXiv:{} [cs.LG]",
        "doi 10.48550/arXiv.{}",
    ]
)


@given(_NEW | _OLD, _WRAP)
def test_find_arxiv_id_in_free_text(arxiv: str, wrap: str) -> None:
    assert str(find_arxiv_id(wrap.format(arxiv))) == str(parse_arxiv_id(arxiv))


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_find_arxiv_id_never_fails_on_any_text(text: str) -> None:
    found = find_arxiv_id(text)
    assert found is None or parse_arxiv_id(str(found)) == found
