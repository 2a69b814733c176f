"""``waitwise-tui notes``: list notes, append a line to today's note, export a report."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime

from waitwise_tui.commands import CliError, add_workspace_argument, check_workspace
from waitwise_tui.core.notes import store as notes
from waitwise_tui.core.text import display
from waitwise_tui.core.workspace import Workspace


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_workspace_argument(parser)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list the notes")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    add = actions.add_parser("add", help="append a timestamped line to today's note")
    add.add_argument("text", metavar="TEXT")
    export = actions.add_parser("export", help="all notes as one Markdown report on stdout")
    export.add_argument("--since", type=_iso_date, metavar="DATE", help="YYYY-MM-DD")
    for action in (listing, add, export):
        # -w works before or after the action; SUPPRESS keeps a value given before it.
        action.add_argument(
            "--workspace",
            "-w",
            metavar="DIR",
            default=argparse.SUPPRESS,
            help="project directory holding .waitwise/",
        )


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


def run(args: argparse.Namespace) -> int:
    workspace = Workspace(check_workspace(args.workspace))
    if args.action == "list":
        return _list(workspace, as_json=args.json)
    if args.action == "add":
        return _add(workspace, args.text)
    # Notes hold pasted log lines and run snapshots: shown inert, newlines kept.
    sys.stdout.write(
        display(notes.export_notes(workspace.notes_dir, since=args.since), multiline=True)
    )
    return 0


def _list(workspace: Workspace, *, as_json: bool) -> int:
    found = notes.list_notes(workspace.notes_dir)
    if as_json:
        payload = {
            "notes": [
                {
                    "name": note.name,
                    "path": str(note.path),
                    "size": note.size,
                    "modified": note.modified,
                }
                for note in found
            ]
        }
        print(json.dumps(payload, indent=2))
        return 0
    for note in found:
        stamp = datetime.fromtimestamp(note.modified).strftime("%Y-%m-%d %H:%M")
        print(f"{display(note.name):<30} {note.size:>8} B  {stamp}")
    return 0


def _add(workspace: Workspace, text: str) -> int:
    if not text.strip():
        raise CliError("nothing to add: TEXT is empty")
    now = datetime.now()
    path = notes.note_path(workspace.notes_dir, notes.daily_name(now.date()))
    try:
        notes.append_line(path, notes.note_line(text, now))
    except notes.NoteError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None
    print(display(str(path)))
    return 0
