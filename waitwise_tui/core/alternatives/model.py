"""Reading-list entries: what an entry holds, its allowed kinds and statuses, and how
two records of the same paper merge (the oldest id and the user's fields win)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from waitwise_tui.core.alternatives.arxiv import (
    ArxivMetadata,
    Reference,
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
    extra: dict[str, Any] = field(default_factory=dict)  # unknown keys, kept as found

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
