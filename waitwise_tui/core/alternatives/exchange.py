"""Getting entries in and out: text to entries (arXiv ids, DOIs, URLs, BibTeX), the
import report, and the Markdown table export."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from waitwise_tui.core.alternatives.arxiv import (
    parse_reference,
)
from waitwise_tui.core.alternatives.model import Entry, entry_from_reference
from waitwise_tui.core.alternatives.store import AlternativesList
from waitwise_tui.core.text import display


def markdown_table(entries: Iterable[Entry]) -> str:
    """A Markdown table of the entries (pipes and newlines in cells escaped)."""

    def cell(text: str) -> str:
        return display(text.replace("\\", "\\\\").replace("|", "\\|"))

    lines = [
        "| id | title | kind | status | priority | link | tags |",
        "|---:|---|---|---|---:|---|---|",
    ]
    for entry in entries:
        link = entry.link
        lines.append(
            f"| {entry.id} | {cell(entry.title)} | {entry.kind} | {entry.status} "
            f"| {entry.priority} | {f'<{cell(link)}>' if link else ''} "
            f"| {cell(', '.join(entry.tags))} |"
        )
    return "\n".join(lines) + "\n"


def entries_from_text(text: str, *, kind: str, tags: list[str]) -> list[Entry]:
    """Entries for a pasted id, URL, DOI or BibTeX record. Raises ValueError."""
    from waitwise_tui.core.alternatives.bibtex import looks_like_bibtex, parse_bibtex

    if looks_like_bibtex(text):
        parsed = parse_bibtex(text, kind=kind, tags=tags)
        if not parsed.entries:
            reason = parsed.malformed[0] if parsed.malformed else "no entry found"
            raise ValueError(f"BibTeX not readable: {reason}")
        return parsed.entries
    reference = parse_reference(text)
    if reference is None:
        raise ValueError(f"not an arXiv id, DOI, URL or BibTeX entry: {display(text)}")
    return [entry_from_reference(reference, kind=kind, tags=tags)]


@dataclass
class ImportReport:
    added: int = 0
    merged: int = 0
    skipped: int = 0

    def summary(self) -> str:
        return f"{self.added} added, {self.merged} merged as duplicates, {self.skipped} skipped"


def import_entries(
    store: AlternativesList, entries: Iterable[Entry], *, now: datetime | None = None
) -> ImportReport:
    report = ImportReport()
    for entry in entries:
        added, _ = store.add_or_merge(entry, now=now)
        if added:
            report.added += 1
        else:
            report.merged += 1
    return report
