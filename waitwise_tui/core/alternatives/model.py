"""Reading-list entries: what an entry holds, its allowed kinds and statuses, and how
two records of the same paper merge (the oldest id and the user's fields win).

An entry imported from BibTeX keeps its record whole beside the reading-list fields:
its citation key, its entry type and every field verbatim (``bibtex``), so export can
give the user's LaTeX paper back the same record. Title, authors and year are the
readable (LaTeX-decoded) forms of those fields."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from waitwise_tui.core.alternatives.arxiv import (
    ArxivMetadata,
    Reference,
    arxiv_base,
    parse_arxiv_id,
)

KINDS = (
    "architecture",
    "vectorisation",
    "normalisation",
    "feature extraction",
    "optimiser",
    "training trick",
    "library",
    "other",
)
STATUSES = ("to-read", "reading", "done", "tried", "dropped")
UNREAD = ("to-read", "reading")
PRIORITIES = (1, 2, 3, 4, 5)  # 1 is the most important
DEFAULT_PRIORITY = 3
SORT_KEYS = ("priority", "added", "status")


@dataclass(frozen=True)
class Entry:
    """One item of the reading list."""

    id: int
    title: str
    kind: str = "other"
    status: str = "to-read"
    priority: int = DEFAULT_PRIORITY
    arxiv_id: str = ""  # as written, version kept: "2106.09685v2", "hep-th/9901001"
    doi: str = ""
    url: str = ""
    authors: tuple[str, ...] = ()
    year: int | None = None
    minutes: int | None = None  # estimated reading time
    tags: tuple[str, ...] = ()
    primary_class: str = ""  # arXiv primary category, e.g. "cs.CL"
    links: tuple[str, ...] = ()  # "trial 12: val_loss 0.31 against 0.35"
    added: datetime | None = None
    updated: datetime | None = None
    notes: str = ""  # Markdown
    cite_key: str = ""  # the BibTeX key export writes; never changes once given
    cite_aliases: tuple[str, ...] = ()  # other keys this paper was imported under
    entry_type: str = ""  # BibTeX entry type as imported ("article"); "" for app-made
    bibtex: tuple[tuple[str, str], ...] = ()  # imported (field, raw value), in order
    extra: dict[str, Any] = field(default_factory=dict)  # unknown keys, kept as found

    def bib_field(self, name: str) -> str:
        """The raw value of an imported BibTeX field (any case), "" if absent."""
        wanted = name.lower()
        return next((value for key, value in self.bibtex if key.lower() == wanted), "")

    @property
    def venue(self) -> str:
        """Where it appeared (journal, booktitle or publisher), LaTeX decoded."""
        from waitwise_tui.core.alternatives.latex import latex_to_text

        for name in ("journal", "booktitle", "publisher", "howpublished"):
            value = self.bib_field(name)
            if value:
                return latex_to_text(value)
        return ""

    @property
    def link(self) -> str:
        """The URL to open: the stored one, else one derived from the arXiv id or DOI."""
        if self.url:
            return self.url
        parsed = parse_arxiv_id(self.arxiv_id) if self.arxiv_id else None
        if parsed is not None:
            return parsed.abs_url
        return f"https://doi.org/{self.doi}" if self.doi else ""


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def merge_entries(kept: Entry, incoming: Entry) -> Entry:
    """Fill the blanks of ``kept`` from ``incoming``; what the user set always wins."""
    title = kept.title
    if is_placeholder_title(kept) and incoming.title and not is_placeholder_title(incoming):
        title = incoming.title
    tags = kept.tags + tuple(t for t in incoming.tags if t not in kept.tags)
    links = kept.links + tuple(x for x in incoming.links if x not in kept.links)
    cite_key = kept.cite_key or incoming.cite_key
    known = {cite_key, *kept.cite_aliases}
    aliases = list(kept.cite_aliases)
    for key in (incoming.cite_key, *incoming.cite_aliases):
        if key and key not in known:
            aliases.append(key)
            known.add(key)
    return replace(
        kept,
        title=title,
        arxiv_id=kept.arxiv_id or incoming.arxiv_id,
        doi=kept.doi or incoming.doi,
        url=kept.url or incoming.url,
        authors=kept.authors or incoming.authors,
        year=kept.year if kept.year is not None else incoming.year,
        minutes=kept.minutes if kept.minutes is not None else incoming.minutes,
        primary_class=kept.primary_class or incoming.primary_class,
        tags=tags,
        links=links,
        notes=kept.notes or incoming.notes,
        cite_key=cite_key,
        cite_aliases=tuple(aliases),
        entry_type=kept.entry_type or incoming.entry_type,
        bibtex=kept.bibtex or incoming.bibtex,
    )


def placeholder_title(reference: Reference) -> str:
    """The title a quick-added entry gets until its real title is known."""
    if reference.arxiv_id is not None:
        return f"arXiv:{reference.arxiv_id}"
    if reference.doi:
        return f"doi:{reference.doi}"
    return reference.url


def is_placeholder_title(entry: Entry) -> bool:
    title = entry.title.strip()
    return not title or title in (
        f"arXiv:{entry.arxiv_id}",
        f"doi:{entry.doi}",
        entry.url,
    )


def entry_from_reference(
    reference: Reference, *, kind: str = "other", tags: Iterable[str] = ()
) -> Entry:
    """A new entry (id 0 until added) for a pasted id or URL."""
    return Entry(
        id=0,
        title=placeholder_title(reference),
        kind=kind,
        arxiv_id=str(reference.arxiv_id) if reference.arxiv_id else "",
        doi=reference.doi,
        url=reference.url,
        primary_class=reference.arxiv_id.archive if reference.arxiv_id else "",
        tags=tuple(tags),
    )


def apply_metadata(entry: Entry, meta: ArxivMetadata) -> Entry:
    """Fill an entry's blanks from an arXiv API record."""
    incoming = Entry(
        id=entry.id,
        title=meta.title,
        arxiv_id=str(meta.arxiv_id),
        doi=meta.doi,
        authors=meta.authors,
        year=meta.year,
        primary_class=meta.primary_class,
    )
    return merge_entries(entry, incoming)


def normalise_choice(
    value: Any, choices: tuple[str, ...], name: str, *, prefix: bool = False
) -> str:
    if isinstance(value, str):
        wanted = fold(value)
        for choice in choices:
            if fold(choice) == wanted:
                return choice
        starts = [choice for choice in choices if fold(choice).startswith(wanted)]
        if prefix and wanted and len(starts) == 1:
            return starts[0]
    raise ValueError(f"{name} {value!r} is not one of: {', '.join(choices)}")


def fold(text: str) -> str:
    return " ".join(text.lower().replace("-", " ").replace("_", " ").split())


def entry_to_json(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "title": entry.title,
        "arxiv_id": entry.arxiv_id,
        "doi": entry.doi,
        "url": entry.link,
        "kind": entry.kind,
        "status": entry.status,
        "priority": entry.priority,
        "tags": list(entry.tags),
    }


_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "on",
        "in",
        "for",
        "to",
        "and",
        "with",
        "from",
        "by",
        "at",
        "as",
        "is",
        "are",
        "via",
        "using",
        "towards",
        "toward",
    ]
)


def citation_key_base(entry: Entry) -> str:
    """The usual ``authorYEARword`` key for an entry (``hu2021lora``), before uniqueness."""
    import unicodedata

    surname = ""
    if entry.authors:
        first = re.sub(r"\s+(et\s+al\.?|and\s+others)$", "", entry.authors[0].strip())
        surname = first.split(",")[0] if "," in first else (first.split() or [""])[-1]
    if is_placeholder_title(entry):
        word = arxiv_base(entry.arxiv_id) or entry.doi
    else:
        words = re.findall(r"[^\W_]+", entry.title)
        word = next((w for w in words if w.lower() not in _STOPWORDS), "")
    text = unicodedata.normalize("NFKD", f"{surname}{entry.year or ''}{word}")
    return re.sub(r"[^a-z0-9]", "", text.encode("ascii", "ignore").decode().lower())


def unique_key(base: str, used: set[str]) -> str:
    """``base``, or ``base`` with the first free suffix a, b, ..., z, aa, ab, ..."""
    base = base or "entry"
    key, n = base, 0
    while key in used:
        n += 1
        suffix, rest = "", n
        while rest:
            rest, digit = divmod(rest - 1, 26)
            suffix = chr(ord("a") + digit) + suffix
        key = base + suffix
    return key
