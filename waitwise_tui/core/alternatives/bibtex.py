"""BibTeX import and export of alternatives entries (offline, through bibtexparser 2).

Import is lossless: an entry keeps its citation key, its entry type and every field as
written (``Entry.bibtex``); title, authors, year, arXiv id, DOI and URL are read from
them for the list (LaTeX decoded for display). arXiv ids and DOIs are looked for in
``eprint``, ``arxiv``, ``journal``, ``note``, ``howpublished``, ``url``, ``doi`` (and
DBLP's ``volume = {abs/...}``). Export writes an imported entry back as it came, with
only the fields the user changed in the app rewritten, and its other imported keys in
biblatex's ``ids`` field; entries made in the app become ``@misc`` records whose arXiv
ids carry ``eprint``, ``archivePrefix`` and ``primaryClass``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from waitwise_tui.core.alternatives.arxiv import (
    find_arxiv_id,
    find_doi,
    normalize_doi,
    parse_arxiv_id,
    parse_reference,
)
from waitwise_tui.core.alternatives.latex import latex_to_text
from waitwise_tui.core.alternatives.model import Entry, citation_key_base, unique_key

# Where an arXiv id may be written, in the order they are trusted.
ARXIV_FIELDS = ("eprint", "arxiv", "arxivid", "url", "doi", "journal", "note", "howpublished")
DOI_FIELDS = ("doi", "url", "note", "howpublished", "journal")


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
        raw = False
        if isinstance(block, BibEntry):
            bib = block
        elif isinstance(block, DuplicateBlockKeyBlock):
            # A repeated citation key is still a readable record; duplicates of the
            # same paper are merged later by arXiv id or DOI.
            candidate = block.ignore_error_block
            bib = candidate if isinstance(candidate, BibEntry) else None
            raw = True
        elif isinstance(block, ParsingFailedBlock):
            error = block.error
            reason = (getattr(error, "abort_reason", "") or str(error)).strip().splitlines()
            result.malformed.append(f"line {line}: {reason[0] if reason else 'syntax error'}")
            continue
        if bib is None:
            continue
        if bib.entry_type.lower() in ("comment", "string", "preamble"):
            continue
        fields = tuple(
            (f.key, _unenclose(str(f.value)) if raw else str(f.value)) for f in bib.fields
        )
        entry = Entry(
            id=0,
            title="",
            kind=kind,
            cite_key=bib.key,
            entry_type=bib.entry_type,
            bibtex=fields,
        )
        entry = readable(entry, tags=tuple(tags))
        if not entry.title:
            result.malformed.append(f"line {line}: @{bib.entry_type}{{{bib.key}}}: no title")
        else:
            result.entries.append(entry)
    return result


def _unenclose(text: str) -> str:
    # Blocks with a repeated key skip the parser's middlewares and keep their
    # enclosing braces or quotes.
    text = text.strip()
    if len(text) >= 2 and (text[0], text[-1]) in (("{", "}"), ('"', '"')):
        inner = text[1:-1]
        depth = 0
        for char in inner:
            depth += {"{": 1, "}": -1}.get(char, 0)
            if depth < 0:
                return text
        return inner if depth == 0 else text
    return text


def readable(entry: Entry, *, tags: tuple[str, ...] = ()) -> Entry:
    """``entry`` with its list fields read from its raw BibTeX fields (LaTeX decoded)."""
    from dataclasses import replace

    get = entry.bib_field
    arxiv = None
    prefix = (get("archiveprefix") or get("eprinttype")).lower()
    for name in ARXIV_FIELDS:
        value = get(name)
        if not value or (name == "eprint" and prefix not in ("", "arxiv")):
            continue
        arxiv = parse_arxiv_id(value) if name in ("eprint", "arxiv", "arxivid") else None
        arxiv = arxiv or find_arxiv_id(value)
        if arxiv is not None:
            break
    if arxiv is None and latex_to_text(get("journal")).lower() in ("corr", "arxiv"):
        arxiv = find_arxiv_id(get("volume"))  # DBLP: journal = {CoRR}, volume = {abs/...}
    doi = normalize_doi(_unurl(get("doi")))
    for name in DOI_FIELDS:
        doi = doi or find_doi(get(name))
    if arxiv is None and doi:
        ref = parse_reference(doi)
        arxiv = ref.arxiv_id if ref else None
    year = re.search(r"\d{4}", get("year"))
    keywords = tuple(k.strip() for k in re.split(r"[,;]", get("keywords")) if k.strip())
    return replace(
        entry,
        title=latex_to_text(get("title")),
        arxiv_id=str(arxiv) if arxiv else "",
        doi=doi,
        url=_unurl(get("url")),
        authors=tuple(latex_to_text(a) for a in split_authors(get("author")) if a.strip()),
        year=int(year.group()) if year else None,
        tags=tags + tuple(k for k in keywords if k not in tags),
        primary_class=get("primaryclass") or (arxiv.archive if arxiv else ""),
    )


def _unurl(text: str) -> str:
    match = re.fullmatch(r"\s*\\url\{(.*)\}\s*", text)
    return (match.group(1) if match else text).strip()


def split_authors(text: str) -> list[str]:
    """Names of a BibTeX author list, split on ``and`` outside braces."""
    names, depth, start = [], 0, 0
    for match in re.finditer(r"[{}]|\s+and\s+", text):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth = max(0, depth - 1)
        elif depth == 0:
            names.append(text[start : match.start()])
            start = match.end()
    names.append(text[start:])
    return [" ".join(n.split()) for n in names if n.strip()]


def to_bibtex(entries: Iterable[Entry]) -> str:
    """The entries as BibTeX: imported ones as they came (with the user's changes), the
    others as ``@misc``; citation keys unique in the output."""
    import bibtexparser
    from bibtexparser.model import Entry as BibEntry
    from bibtexparser.model import Field

    library = bibtexparser.Library()
    used: set[str] = set()
    for entry in entries:
        fields = [Field(k, v) for k, v in _fields(entry)]
        key = unique_key(entry.cite_key or citation_key_base(entry), used)
        used.add(key)
        library.add(BibEntry(entry.entry_type or "misc", key, fields))
    return bibtexparser.write_string(library)


def _fields(entry: Entry) -> list[tuple[str, str]]:
    fields = dict(entry.bibtex)  # insertion order = the imported order
    names = {k.lower(): k for k in fields}
    was = readable(Entry(0, "", bibtex=entry.bibtex)) if entry.bibtex else Entry(0, "")

    def put(name: str, value: str) -> None:
        fields[names.get(name.lower(), name)] = value

    if entry.title != was.title:
        put("title", "{" + _escape(entry.title) + "}")
    if entry.authors != was.authors and entry.authors:
        put("author", _escape(" and ".join(entry.authors)))
    if entry.year != was.year and entry.year is not None:
        put("year", str(entry.year))
    arxiv = parse_arxiv_id(entry.arxiv_id) if entry.arxiv_id else None
    if arxiv is not None and entry.arxiv_id != was.arxiv_id:
        put("eprint", str(arxiv))
        put("archivePrefix", "arXiv")
        primary = entry.primary_class or arxiv.archive
        if primary:
            put("primaryClass", primary)
    if entry.doi and entry.doi.lower() != was.doi.lower():
        put("doi", entry.doi)
    if not entry.bibtex:
        if entry.link:
            put("url", entry.link)
        if entry.tags:
            put("keywords", _escape(", ".join(entry.tags)))
    else:
        if entry.url and entry.url != was.url:
            put("url", entry.url)
        if entry.tags != was.tags:
            # Tags changed in the app (or given at import): BibTeX's keywords field.
            put("keywords", _escape(", ".join(entry.tags)))
    if entry.cite_aliases and "ids" not in names:
        put("ids", ", ".join(entry.cite_aliases))
    return list(fields.items())


def _escape(text: str) -> str:
    # Unbalanced braces would break the record; a lone backslash-free brace is dropped.
    if text.count("{") != text.count("}"):
        text = text.replace("{", "").replace("}", "")
    return " ".join(text.split())
