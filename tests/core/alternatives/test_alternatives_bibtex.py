"""BibTeX import/export of alternatives entries, offline."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from waitwise_tui.core.alternatives.bibtex import parse_bibtex, to_bibtex
from waitwise_tui.core.alternatives.exchange import import_entries
from waitwise_tui.core.alternatives.model import Entry
from waitwise_tui.core.alternatives.store import AlternativesList

NOW = datetime(2026, 1, 2, tzinfo=timezone.utc)

SAMPLE = r"""
@article{hu2021lora,
  title = {{LoRA}: Low-Rank Adaptation of Large Language Models},
  author = {Hu, Edward J. and Shen, Yelong},
  year = 2021,
  eprint = {2106.09685v2},
  archivePrefix = {arXiv},
  primaryClass = {cs.CL},
  keywords = {peft; lora}
}

@inproceedings{ba2016,
  title = "Layer Normalization",
  author = {Ba, Jimmy Lei},
  year = {2016},
  doi = {10.48550/ARXIV.1607.06450},
  note = {Used in every transformer}
}

@misc{broken, title = {Unclosed

@misc{notitle, author = {Someone}}

@misc{hu2021lora, title = {LoRA again}, url = {https://arxiv.org/abs/2106.09685v1}}

@misc{oldstyle, title = {Strings from the past}, eprint = {hep-th/9901001}}
"""


def test_import_reads_fields_and_reports_malformed() -> None:
    parsed = parse_bibtex(SAMPLE, kind="architecture")
    titles = [e.title for e in parsed.entries]
    assert titles == [
        "LoRA: Low-Rank Adaptation of Large Language Models",
        "Layer Normalization",
        "LoRA again",
        "Strings from the past",
    ]
    lora, norm, again, old = parsed.entries
    assert lora.authors == ("Hu, Edward J.", "Shen, Yelong") and lora.year == 2021
    assert lora.arxiv_id == "2106.09685v2" and lora.primary_class == "cs.CL"
    assert lora.tags == ("peft", "lora") and lora.kind == "architecture"
    assert norm.doi == "10.48550/ARXIV.1607.06450" and norm.arxiv_id == "1607.06450"
    # The BibTeX note stays a BibTeX field (exported as it came); notes are the user's.
    assert norm.notes == "" and norm.bib_field("note") == "Used in every transformer"
    assert (lora.cite_key, lora.entry_type, norm.entry_type) == (
        "hu2021lora",
        "article",
        "inproceedings",
    )
    assert again.arxiv_id == "2106.09685v1"
    assert old.arxiv_id == "hep-th/9901001" and old.primary_class == "hep-th"
    assert len(parsed.malformed) == 2
    assert parsed.malformed[0].startswith("line 20:")
    assert "no title" in parsed.malformed[1]


def test_import_merges_duplicates() -> None:
    store = AlternativesList()
    store.add(Entry(0, "Known", arxiv_id="1607.06450"), now=NOW)
    report = import_entries(store, parse_bibtex(SAMPLE).entries, now=NOW)
    assert (report.added, report.merged) == (2, 2)
    assert [e.title for e in store.entries()] == [
        "Known",
        "LoRA: Low-Rank Adaptation of Large Language Models",
        "Strings from the past",
    ]
    assert store.get(1).authors == ("Ba, Jimmy Lei",)


def test_round_trip() -> None:
    store = AlternativesList()
    import_entries(store, parse_bibtex(SAMPLE).entries, now=NOW)
    store.add(Entry(0, "Title with {unbalanced brace", url="https://example.org/x"), now=NOW)
    text = to_bibtex(store.entries())
    assert "archivePrefix = {arXiv}" in text and "primaryClass = {cs.CL}" in text
    assert "eprint = {2106.09685v2}" in text
    again = parse_bibtex(text)
    assert again.malformed == []
    fields = ("title", "arxiv_id", "doi", "authors", "year", "tags", "primary_class")
    for before, after in zip(store.entries(), again.entries, strict=True):
        for name in fields:
            if name == "title" and "{" in before.title:
                assert after.title == "Title with unbalanced brace"
                continue
            assert getattr(after, name) == getattr(before, name), name
        assert after.url == (before.url if before.bibtex else before.link)


def test_citation_keys_are_unique() -> None:
    entries = [Entry(i, "Same Title", authors=("Doe, J.",), year=2020) for i in (1, 2, 3)]
    keys = [line for line in to_bibtex(entries).splitlines() if line.startswith("@misc{")]
    assert keys == ["@misc{doe2020same,", "@misc{doe2020samea,", "@misc{doe2020sameb,"]


def test_tags_are_exported_as_keywords() -> None:
    import bibtexparser

    imported = parse_bibtex(
        "@article{hu2021lora, title = {LoRA}, year = {2021}, keywords = {peft; lora}}"
    ).entries[0]
    assert imported.tags == ("peft", "lora")
    unchanged = bibtexparser.parse_string(to_bibtex([imported])).entries[0]
    assert unchanged["keywords"] == "peft; lora"  # as imported, verbatim
    retagged = replace(imported, tags=("peft", "adapters"))
    made = Entry(2, "Lion", tags=("optim", "sign"), year=2023)
    parsed = bibtexparser.parse_string(to_bibtex([retagged, made])).entries
    assert [p["keywords"] for p in parsed] == ["peft, adapters", "optim, sign"]
