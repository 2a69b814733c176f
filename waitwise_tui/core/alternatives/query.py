"""Queries on the reading list: the filter language (``status:reading kind:optimiser
adam``), sort orders, and "read now" (the unread entry that fits the time left)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from waitwise_tui.core import fmt
from waitwise_tui.core.alternatives.model import (
    KINDS,
    STATUSES,
    UNREAD,
    Entry,
    fold,
    normalise_choice,
)

# ---------------------------------------------------------------- queries


@dataclass(frozen=True)
class Filter:
    """``status:S kind:K tag:T words`` — every given part must match."""

    status: str = ""
    kind: str = ""
    tag: str = ""
    text: str = ""

    def matches(self, entry: Entry) -> bool:
        if self.status and fold(entry.status) != fold(self.status):
            return False
        if self.kind and fold(entry.kind) != fold(self.kind):
            return False
        if self.tag and fold(self.tag) not in {fold(t) for t in entry.tags}:
            return False
        if self.text:
            haystack = " ".join(
                (
                    entry.title,
                    " ".join(entry.authors),
                    " ".join(entry.tags),
                    entry.notes,
                    entry.arxiv_id,
                    entry.doi,
                    entry.url,
                    " ".join(entry.links),
                )
            ).lower()
            if not all(word in haystack for word in self.text.lower().split()):
                return False
        return True

    def describe(self) -> str:
        parts = [
            f"{k}:{v}"
            for k, v in (("status", self.status), ("kind", self.kind), ("tag", self.tag))
            if v
        ]
        if self.text:
            parts.append(repr(self.text))
        return " ".join(parts)


def parse_filter(query: str) -> Filter:
    """``status:to-read kind:optim tag:nlp adam`` -> Filter (unique prefixes of a status
    or kind are enough). Raises ValueError."""
    fields_: dict[str, str] = {"status": "", "kind": "", "tag": ""}
    words = []
    for token in query.split():
        key, sep, value = token.partition(":")
        if sep and key.lower() in fields_ and value:
            fields_[key.lower()] = value
        else:
            words.append(token)
    if fields_["status"]:
        fields_["status"] = normalise_choice(fields_["status"], STATUSES, "status", prefix=True)
    if fields_["kind"]:
        fields_["kind"] = normalise_choice(fields_["kind"], KINDS, "kind", prefix=True)
    return Filter(text=" ".join(words), **fields_)


def sort_entries(entries: Iterable[Entry], key: str) -> list[Entry]:
    """Order for display: priority (1 first), added (newest first) or status."""
    oldest = datetime.min.replace(tzinfo=timezone.utc)
    items = list(entries)
    if key == "priority":
        return sorted(items, key=lambda e: (e.priority, e.added or oldest, e.id))
    if key == "added":
        return sorted(items, key=lambda e: (e.added or oldest, e.id), reverse=True)
    if key == "status":
        return sorted(items, key=lambda e: (STATUSES.index(e.status), e.priority, e.id))
    raise ValueError(f"unknown sort key {key!r}")


@dataclass(frozen=True)
class ReadNow:
    entry: Entry | None
    message: str


def pick_read_now(entries: Iterable[Entry], eta_seconds: float | None) -> ReadNow:
    """The highest-priority unread entry that fits the training ETA, when one is known."""
    oldest = datetime.min.replace(tzinfo=timezone.utc)
    unread = sorted(
        (e for e in entries if e.status in UNREAD),
        key=lambda e: (e.priority, e.added or oldest, e.id),
    )
    if not unread:
        return ReadNow(None, "nothing left to read")
    if eta_seconds is None:
        return ReadNow(unread[0], "training ETA unknown; highest priority unread")
    left = fmt.duration(eta_seconds, minutes=True)
    for entry in unread:
        if entry.minutes is not None and entry.minutes * 60 <= eta_seconds:
            return ReadNow(entry, f"{entry.minutes} min read fits the {left} of training left")
    return ReadNow(None, f"no unread entry with a reading time fits the {left} left")
