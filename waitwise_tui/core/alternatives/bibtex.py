"""BibTeX import and export of alternatives entries (offline, through bibtexparser 2).

Import maps the common fields (title, author, year, doi, url, eprint, keywords, note)
onto entries and reports every block it could not read with its line. Export writes
``@misc`` records; arXiv entries carry ``eprint``, ``archivePrefix`` and
``primaryClass`` so reference managers recognise them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from waitwise_tui.core.alternatives.arxiv import (
    arxiv_base,
    normalize_doi,
    parse_arxiv_id,
    parse_reference,
)
from waitwise_tui.core.alternatives.model import Entry, is_placeholder_title

_BRACES = re.compile(r"(?<!\\)[{}]")


@dataclass
class BibtexParse:
    entries: list[Entry] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)  # one line per skipped block


def looks_like_bibtex(text: str) -> bool:
    return text.lstrip().startswith("@")


def parse_bibtex(text: str, *, kind: str = "other", tags: Iterable[str] = ()) -> BibtexParse:
    """Entries found in ``text`` (ids 0 until added); malformed blocks are listed."""
    import bibtexparser
    from bibtexparser.model import DuplicateBlockKeyBlock, ParsingFailedBlock
    from bibtexparser.model import Entry as BibEntry

    # bibtexparser logs each syntax error as a warning; we report them ourselves.
    logger = logging.getLogger("bibtexparser")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
        logger.propagate = False
    library = bibtexparser.parse_string(text)
    result = BibtexParse()
    for block in library.blocks:
        line = (block.start_line or 0) + 1
        bib: BibEntry | None = None
        if isinstance(block, BibEntry):
            bib = block
        elif isinstance(block, DuplicateBlockKeyBlock):
            # A repeated citation key is still a readable record; duplicates of the
            # same paper are merged later by arXiv id or DOI.
            candidate = block.ignore_error_block
            bib = candidate if isinstance(candidate, BibEntry) else None
        elif isinstance(block, ParsingFailedBlock):
            error = block.error
            reason = (getattr(error, "abort_reason", "") or str(error)).strip().splitlines()
            result.malformed.append(f"line {line}: {reason[0] if reason else 'syntax error'}")
            continue
        if bib is None:
            continue
        if bib.entry_type.lower() in ("comment", "string", "preamble"):
            continue
        entry, problem = _entry_from_bib(bib, kind=kind, tags=tuple(tags))
        if entry is None:
            result.malformed.append(f"line {line}: @{bib.entry_type}{{{bib.key}}}: {problem}")
        else:
            result.entries.append(entry)
    return result


def _field(bib, name: str) -> str:
    for key, value in bib.items():
        if key.lower() == name:
            text = _unenclose(str(value).strip())
            return " ".join(text.split()) if name != "note" else text.strip()
    return ""


def _unenclose(text: str) -> str:
    # Blocks with a repeated key skip the parser's middlewares and keep their
    # enclosing braces or quotes.
    if len(text) >= 2 and (text[0], text[-1]) in (("{", "}"), ('"', '"')):
        inner = text[1:-1]
        depth = 0
        for char in inner:
            depth += {"{": 1, "}": -1}.get(char, 0)
            if depth < 0:
                return text
        return inner if depth == 0 else text
    return text


def _entry_from_bib(bib, *, kind: str, tags: tuple[str, ...]) -> tuple[Entry | None, str]:
    title = _BRACES.sub("", _field(bib, "title")).strip()
    arxiv = None
    eprint = _field(bib, "eprint")
    prefix = _field(bib, "archiveprefix").lower()
    if eprint and prefix in ("", "arxiv"):
        arxiv = parse_arxiv_id(eprint)
    doi = normalize_doi(_field(bib, "doi"))
    url = _field(bib, "url")
    if arxiv is None and url:
        ref = parse_reference(url)
        arxiv = ref.arxiv_id if ref else None
    if arxiv is None and doi:
        ref = parse_reference(doi)
        arxiv = ref.arxiv_id if ref else None
    if not title:
        return None, "no title"
    year_text = _field(bib, "year")
    year = int(year_text) if year_text.isdigit() else None
    authors = tuple(
        _BRACES.sub("", a).strip()
        for a in re.split(r"\s+and\s+", _field(bib, "author"))
        if a.strip()
    )
    keywords = tuple(k.strip() for k in re.split(r"[,;]", _field(bib, "keywords")) if k.strip())
    primary = _field(bib, "primaryclass") or (arxiv.archive if arxiv else "")
    entry = Entry(
        id=0,
        title=title,
        kind=kind,
        arxiv_id=str(arxiv) if arxiv else "",
        doi=doi,
        url=url,
        authors=authors,
        year=year,
        tags=tags + tuple(k for k in keywords if k not in tags),
        primary_class=primary,
        notes=_field(bib, "note"),
    )
    return entry, ""


def to_bibtex(entries: Iterable[Entry]) -> str:
    """The entries as BibTeX ``@misc`` records with unique citation keys."""
    import bibtexparser
    from bibtexparser.model import Entry as BibEntry
    from bibtexparser.model import Field

    library = bibtexparser.Library()
    used: set[str] = set()
    for entry in entries:
        fields = [Field("title", "{" + _escape(entry.title) + "}")]
        if entry.authors:
            fields.append(Field("author", _escape(" and ".join(entry.authors))))
        if entry.year is not None:
            fields.append(Field("year", str(entry.year)))
        arxiv = parse_arxiv_id(entry.arxiv_id) if entry.arxiv_id else None
        if arxiv is not None:
            fields.append(Field("eprint", str(arxiv)))
            fields.append(Field("archivePrefix", "arXiv"))
            primary = entry.primary_class or arxiv.archive
            if primary:
                fields.append(Field("primaryClass", primary))
        if entry.doi:
            fields.append(Field("doi", entry.doi))
        if entry.link:
            fields.append(Field("url", entry.link))
        if entry.tags:
            fields.append(Field("keywords", _escape(", ".join(entry.tags))))
        library.add(BibEntry("misc", _citation_key(entry, used), fields))
    return bibtexparser.write_string(library)


def _escape(text: str) -> str:
    # Unbalanced braces would break the record; a lone backslash-free brace is dropped.
    if text.count("{") != text.count("}"):
        text = text.replace("{", "").replace("}", "")
    return " ".join(text.split())


def _citation_key(entry: Entry, used: set[str]) -> str:
    surname = ""
    if entry.authors:
        first = entry.authors[0]
        surname = first.split(",")[0] if "," in first else first.split()[-1]
    if is_placeholder_title(entry):
        word = arxiv_base(entry.arxiv_id) or entry.doi
    else:
        word = next((w for w in re.findall(r"[A-Za-z0-9]+", entry.title) if len(w) > 3), "")
    base = re.sub(r"[^a-z0-9]", "", f"{surname}{entry.year or ''}{word}".lower()) or "entry"
    base = f"{base}{entry.id}" if base == "entry" else base
    key = base
    suffix = ord("a")
    while key in used:
        key = f"{base}{chr(suffix)}"
        suffix += 1
    used.add(key)
    return key
