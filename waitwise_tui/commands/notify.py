"""``waitwise-tui notify test [--url URL] [--json]``: send a test message to each channel.

The channels are the settings' ``notify_urls`` (or just ``--url``); each gets one
message, without retries, and is reported as ``ok`` or with the channel's own error.
URLs are shown redacted. The exit status is 1 when any channel failed.
"""

from __future__ import annotations

import argparse
import json

from waitwise_tui.commands import CliError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    test = sub.add_parser("test", help="send a test message to every channel")
    test.add_argument("--url", metavar="URL", help="an Apprise URL to try instead")
    test.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    from waitwise_tui.config import Settings
    from waitwise_tui.core.notify.channels import Channel, parse
    from waitwise_tui.core.notify.message import Note, host_name
    from waitwise_tui.core.notify.send import AppriseSender
    from waitwise_tui.core.text import display

    settings, problem = Settings.load()
    if args.url is not None:
        config, problems = parse([{"url": args.url, "level": "info"}], {})
        if problems:
            raise CliError(problems[0])
        channels = config.channels
    else:
        channels = settings.notify_config().channels
        if problem:
            print(f"waitwise-tui: {display(problem)}", flush=True)
    if not channels:
        raise CliError(f"no notification channels: set notify_urls in {Settings.path()}")
    note = Note(
        f"waitwise · {host_name()} · test",
        "A test message from waitwise-tui: alerts will arrive here.",
        "info",
    )
    sender = AppriseSender()
    results = []
    for channel in channels:
        test_channel = Channel(channel.url, "info")
        error = sender.send(test_channel, note)
        results.append({"channel": channel.name, "ok": error is None, "error": error or ""})
    if args.json:
        print(json.dumps({"channels": results}, indent=2))
    else:
        for result in results:
            status = "ok" if result["ok"] else f"failed: {result['error']}"
            print(f"{display(result['channel'])}  {display(status)}")
    return 0 if all(r["ok"] for r in results) else 1
