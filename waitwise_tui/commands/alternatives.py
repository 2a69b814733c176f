"""``waitwise-tui alt``: the alternatives reading list without the TUI.

``alt add ID_OR_URL`` (arXiv id, arXiv/DOI/other URL, DOI or a BibTeX entry),
``alt list [--status S] [--json]``, ``alt import FILE.bib``, ``alt export --bibtex|--markdown``.
Entries are named by their short integer id (``#12``), which never changes or gets reused.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from waitwise_tui.commands import CliError, add_workspace_argument, check_workspace
from waitwise_tui.core.alternatives.exchange import (
    ImportReport,
    entries_from_text,
    import_entries,
    markdown_table,
)
from waitwise_tui.core.alternatives.model import (
    KINDS,
    STATUSES,
    Entry,
    apply_metadata,
    entry_to_json,
)
from waitwise_tui.core.alternatives.query import Filter, parse_filter, sort_entries
from waitwise_tui.core.alternatives.store import (
    AlternativesList,
    StoreError,
    load_list,
    update_list,
)
from waitwise_tui.core.atomic import atomic_write_text
from waitwise_tui.core.text import display
from waitwise_tui.core.workspace import Workspace


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = sub.add_parser("add", help="add an arXiv id, a URL, a DOI or a BibTeX entry")
    add.add_argument("reference", metavar="ID_OR_URL")
    add.add_argument(
        "--kind", choices=KINDS, default="other", metavar="K", help=f"one of: {', '.join(KINDS)}"
    )
    add.add_argument("--tag", action="append", default=[], metavar="T", help="repeatable")
    add_workspace_argument(add)

    list_ = sub.add_parser("list", help="list entries")
    list_.add_argument(
        "--status", choices=STATUSES, metavar="S", help=f"one of: {', '.join(STATUSES)}"
    )
    list_.add_argument("--kind", choices=KINDS, metavar="K")
    list_.add_argument("--tag", metavar="T")
    list_.add_argument("--sort", choices=("priority", "added", "status"), default="priority")
    list_.add_argument("--json", action="store_true", help="machine-readable output")
    add_workspace_argument(list_)

    import_ = sub.add_parser("import", help="import a BibTeX file")
    import_.add_argument("file", metavar="FILE.bib")
    add_workspace_argument(import_)

    export = sub.add_parser("export", help="export as BibTeX or a Markdown table")
    form = export.add_mutually_exclusive_group(required=True)
    form.add_argument("--bibtex", action="store_true")
    form.add_argument("--markdown", action="store_true")
    export.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    add_workspace_argument(export)


def run(args: argparse.Namespace) -> int:
    workspace = Workspace(check_workspace(args.workspace))
    path = workspace.alternatives_path
    try:
        if args.action == "add":
            return _add(workspace, args)
        if args.action == "list":
            return _list(path, args)
        if args.action == "import":
            return _import(workspace, Path(args.file))
        return _export(path, args)
    except StoreError as exc:
        raise CliError(str(exc)) from None


def _warn(store: AlternativesList) -> None:
    for problem in store.problems:
        print(f"waitwise-tui: warning: {display(problem)}", file=sys.stderr)


def _add(workspace: Workspace, args: argparse.Namespace) -> int:
    try:
        candidates = entries_from_text(args.reference, kind=args.kind, tags=args.tag)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    candidates = [_maybe_lookup(entry) for entry in candidates]
    workspace.ensure()
    store, results = update_list(
        workspace.alternatives_path, lambda s: [s.add_or_merge(e) for e in candidates]
    )
    _warn(store)
    for added, entry in results:
        verb = "added" if added else "already listed, merged into"
        print(f"{verb} #{entry.id}: {display(entry.title)}")
    return 0


def _maybe_lookup(entry: Entry) -> Entry:
    from waitwise_tui.config import Settings

    settings, _ = Settings.load()
    if not getattr(settings, "alt_online_lookup", False) or not entry.arxiv_id:
        return entry
    from waitwise_tui.core.alternatives.arxiv import (
        ArxivLookupError,
        fetch_arxiv_metadata,
        parse_arxiv_id,
    )

    arxiv = parse_arxiv_id(entry.arxiv_id)
    if arxiv is None:
        return entry
    try:
        return apply_metadata(entry, fetch_arxiv_metadata(arxiv))
    except ArxivLookupError as exc:
        print(f"waitwise-tui: warning: {display(str(exc))}; added without it", file=sys.stderr)
        return entry


def _list(path: Path, args: argparse.Namespace) -> int:
    store = load_list(path)
    _warn(store)
    query = " ".join(
        f"{k}:{v.replace(' ', '-')}"
        for k, v in (("status", args.status), ("kind", args.kind), ("tag", args.tag))
        if v
    )
    flt: Filter = parse_filter(query)
    entries = sort_entries((e for e in store.entries() if flt.matches(e)), args.sort)
    if args.json:
        print(json.dumps({"items": [entry_to_json(e) for e in entries]}, indent=2))
        return 0
    for entry in entries:
        print(
            f"#{entry.id:<4} P{entry.priority} {entry.status:<8} {entry.kind:<18} "
            f"{display(entry.title)}"
        )
    return 0


def _import(workspace: Workspace, file: Path) -> int:
    from waitwise_tui.core.alternatives.bibtex import parse_bibtex

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}") from None
    parsed = parse_bibtex(text)
    report = ImportReport()
    if parsed.entries:
        workspace.ensure()
        store, report = update_list(
            workspace.alternatives_path, lambda s: import_entries(s, parsed.entries)
        )
        _warn(store)
    report.skipped = len(parsed.malformed)
    for problem in parsed.malformed:
        print(f"waitwise-tui: skipped {display(problem)}", file=sys.stderr)
    print(display(report.summary()))
    return 0


def _export(path: Path, args: argparse.Namespace) -> int:
    store = load_list(path)
    _warn(store)
    entries = store.entries()
    if args.bibtex:
        from waitwise_tui.core.alternatives.bibtex import to_bibtex

        text = to_bibtex(entries)
    else:
        text = markdown_table(entries)
    if args.output:
        atomic_write_text(args.output, text)
    else:
        # Titles and fields are outside text; a file written with -o keeps them as they are.
        sys.stdout.write(display(text, multiline=True))
    return 0
