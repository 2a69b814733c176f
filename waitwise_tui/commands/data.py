"""``waitwise-tui data PATH``: profile a dataset headlessly (``--json``, ``--save``).

JSON schema (``--json``; every value plain JSON, ``null`` where it does not apply)::

    {"path", "format", "n_rows", "n_columns", "sampled", "duplicate_rows", "memory_bytes",
     "file_bytes",
     "columns": [{"name", "dtype", "inferred_type", "missing_tokens": {token: count},
                  "parse_failures": {"count", "examples"}, "reading",
                  "nulls", "null_fraction", "unique", "min", "max", "mean", "std", "top"}],
     "alerts": [{"kind", "column", "message"}]}

``inferred_type`` is numeric, bool, datetime or text as the loader read the column (a
numeric column with ``?`` for missing is numeric); ``reading`` says in one line how
(tokens read as missing, thousands separators, dd/mm dates...), or null.

``--save`` writes the same plus "created", per-column "categories" (the full sorted list
when unique <= 50, else null) and "key_candidates" to ``.waitwise/profiles/<stem>.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from waitwise_tui.commands import add_workspace_argument, check_workspace
from waitwise_tui.core import fmt
from waitwise_tui.core.text import display, json_text

if TYPE_CHECKING:
    from waitwise_tui.core.data.profile import Profile


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="CSV/TSV (.gz), Parquet, JSON lines, Feather")
    parser.add_argument("--sep", metavar="S", help="CSV delimiter (default: sniffed)")
    parser.add_argument("--json", action="store_true", help="print the profile as JSON")
    parser.add_argument(
        "--save", action="store_true", help="save the profile to .waitwise/profiles/<stem>.json"
    )
    parser.add_argument(
        "--sample",
        type=int,
        metavar="N",
        help="profile a random sample of N rows (default: every row)",
    )
    parser.add_argument(
        "--missing-tokens",
        choices=("on", "off"),
        help="read ?, NA, N/A, -, null... as missing (default: on, or the setting"
        " data_missing_tokens)",
    )
    add_workspace_argument(parser)


def run(args: argparse.Namespace) -> int:
    from waitwise_tui.core.data.load import DataError, load_dataset
    from waitwise_tui.core.data.profile import profile_frame, profile_to_dict, save_profile

    if args.sample is not None and args.sample < 1:
        print("waitwise-tui data: --sample must be at least 1", file=sys.stderr)
        return 2
    if args.sep is not None:
        args.sep = args.sep.replace("\\t", "\t")  # let users type --sep '\t'
    if args.missing_tokens is None:
        from waitwise_tui.config import Settings

        tokens = Settings.load()[0].data_missing_tokens
    else:
        tokens = args.missing_tokens == "on"
    try:
        loaded = load_dataset(args.path, sep=args.sep, tokens=tokens)
        profile = profile_frame(
            loaded.frame,
            path=args.path,
            format=loaded.format,
            sample_rows=args.sample,
            inference=loaded.inference,
            file_bytes=loaded.file_bytes,
        )
    except DataError as exc:
        print(f"waitwise-tui data: {display(str(exc))}", file=sys.stderr)
        return 2
    for notice in loaded.notices:
        print(f"waitwise-tui data: {display(notice)}", file=sys.stderr)
    saved = None
    if args.save:
        from waitwise_tui.core.workspace import Workspace

        try:
            saved = save_profile(Workspace(check_workspace(args.workspace)), profile)
        except OSError as exc:
            print(
                f"waitwise-tui data: cannot save the profile: {display(str(exc))}",
                file=sys.stderr,
            )
            return 2
    if args.json:
        # Column names and cells are outside text: json_text keeps them readable but
        # escapes C1 controls and bidi overrides, which ensure_ascii=False writes raw.
        sys.stdout.write(json_text(profile_to_dict(profile), indent=2, allow_nan=False) + "\n")
    else:
        sys.stdout.write(summary(profile))
    if saved is not None:
        print(f"saved {display(str(saved))}", file=sys.stderr if args.json else sys.stdout)
    return 0


def summary(profile: Profile) -> str:
    """A readable text summary of a profile.

    Column names, cells, the path and alert messages come from the dataset: each goes
    through ``display``, so none of them can move the cursor or restyle the terminal.
    """
    from waitwise_tui.core.data.profile import plain_value

    on_disk = "" if profile.file_bytes is None else f"file {fmt.size(profile.file_bytes)}, "
    lines = [
        f"{display(profile.path)} ({profile.format}): {profile.n_rows} rows x"
        f" {profile.n_columns} columns, {on_disk}in memory {fmt.size(profile.memory_bytes)},"
        f" {profile.duplicate_rows} duplicate rows",
    ]
    if profile.sampled:
        lines.append(f"sampled {profile.sample_rows} of {profile.n_rows} rows")
    header = f"{'column':<20} {'dtype':<14} {'nulls':>8} {'null%':>6} {'unique':>8}  range / top"
    lines += ["", header]
    for col in profile.columns:
        pct = "" if col.null_fraction is None else f"{col.null_fraction:.1%}"
        if col.min is not None:
            detail = f"{short(plain_value(col.min))} .. {short(plain_value(col.max))}"
            if col.mean is not None:
                detail += f"  mean {col.mean:.4g}"
        else:
            detail = f"top {short(plain_value(col.top))}"
        name, dtype = display(col.name, limit=20), display(col.dtype, limit=14)
        lines.append(f"{name:<20} {dtype:<14} {col.nulls:>8} {pct:>6} {col.unique:>8}  " + detail)
        reading = col.reading()
        if reading:
            lines.append(f"{'':<20} {display(reading)}")
    if profile.alerts:
        width = max(len(a.kind) for a in profile.alerts)
        lines += ["", "alerts:"]
        lines += [f"  {a.kind:<{width}}  {display(a.message)}" for a in profile.alerts]
    return "\n".join(lines) + "\n"


def short(value: object, width: int = 24) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return display(text, limit=width)
