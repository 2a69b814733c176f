"""``waitwise-tui watch [PATH...] [--json]``: the monitor's health checks without a terminal.

It reads the same runs as the TUI (PATHs, else the workspace), raises the same alerts
(``core.runs.alerts``), records each as an event in the workspace database, prints it
as one line (or one JSON object) and hands it to the notifier, which sends it to the
``notify_urls`` channels while this process holds the workspace's notify lease: with
the TUI open on the same workspace, each alert is sent once. Meant for ``nohup``,
``systemd --user`` or a Slurm job next to the training; SIGTERM or Ctrl-C stop it,
after the queued notifications went out.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading
import time
from typing import Any

from waitwise_tui.commands import add_workspace_argument, positive_float, runs_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="training logs or run dirs")
    add_workspace_argument(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object per event")
    parser.add_argument(
        "--interval", type=positive_float, default=None, metavar="SECONDS", help="poll period"
    )
    parser.add_argument(
        "--no-notify", action="store_true", help="print and record events, send nothing"
    )
    parser.add_argument(
        "--no-gpu", action="store_true", help="no GPU alerts (input-bound, memory, throttling)"
    )


def run(args: argparse.Namespace) -> int:
    from waitwise_tui.core.events import record_event_once
    from waitwise_tui.core.notify.delivery import Notifier
    from waitwise_tui.core.runs.alerts import AlertEvents
    from waitwise_tui.core.runs.monitor import RunMonitor
    from waitwise_tui.core.runs.totals import TotalStore
    from waitwise_tui.core.text import display
    from waitwise_tui.core.workspace import Workspace

    settings = runs_settings(args, _err)
    workspace = Workspace(args.workspace)
    interval = args.interval or max(1.0, settings.interval)
    config = settings.notify_config()
    if args.no_notify:
        config = type(config)()
    notifier = Notifier(config, db_path=workspace.db_path, role="watch", on_problem=_err).start()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    monitor = RunMonitor(
        workspace.root,
        args.paths,
        health=settings.health_config(),
        totals=TotalStore(workspace.db_path),
    )
    alerts = AlertEvents()
    gpu = None if args.no_gpu else _GpuJudge(settings)
    conn = None
    _err(
        f"watching {', '.join(args.paths) or workspace.root} every {interval:g} s;"
        f" notifying {len(config.channels)} channel(s)"
    )
    first = True
    try:
        while not stop.is_set():
            snapshot = monitor.poll()
            if first:
                first = False
                names = ", ".join(run.name for run in snapshot.runs)
                _err(f"{len(snapshot.runs)} run(s) found{': ' if names else ''}{names}")
            found = alerts.events(snapshot)
            if gpu is not None:
                found += gpu.events(snapshot)
            for event in found:
                event_id = None
                try:
                    if conn is None:
                        from waitwise_tui.core.db import connect

                        workspace.ensure()
                        conn = connect(workspace.db_path)
                    # The TUI on this workspace may have stored it already: one row.
                    event_id, _stored = record_event_once(conn, event)
                except Exception as exc:  # print and notify it anyway
                    _err(f"could not store event: {exc}")
                _print(event, args.json, display)
                notifier.submit(event, event_id)
            stop.wait(interval)
    finally:
        monitor.close()
        if gpu is not None:
            gpu.close()
        notifier.close(timeout=5.0)
        if conn is not None:
            conn.close()
    return 0


class _GpuJudge:
    """The GPU alerts tied to the runs (``core.runs.gpu_alerts``), over this process's
    own NVML sampler: the same judge as the TUI's system poller."""

    def __init__(self, settings: Any) -> None:
        from waitwise_tui.core.gpu.sampler import GpuSampler, nvml_from_env
        from waitwise_tui.core.runs.gpu_alerts import GpuAlerts, WriterCpu

        try:
            nvml = nvml_from_env()
        except ValueError as exc:
            _err(str(exc))
            nvml = None
        self.sampler = GpuSampler(nvml)
        self.alerts = GpuAlerts(settings.gpu_alert_config())
        self.cpu = WriterCpu()
        self._said = False

    def events(self, snapshot: Any) -> list[Any]:
        try:
            status, gpus = self.sampler.sample()
            if not status.ok:
                if not self._said:
                    self._said = True
                    _err(f"no GPU alerts: {status.error}")
                return []
            loads = self.cpu.loads(snapshot.runs)
            return self.alerts.update(time.time(), gpus, loads)
        except Exception as exc:  # keep watching the logs; say it once
            if not self._said:
                self._said = True
                _err(f"GPU alerts failed: {exc}")
            return []

    def close(self) -> None:
        self.sampler.close()


def _print(event: Any, as_json: bool, display: Any) -> None:
    from waitwise_tui.core.notify.message import kind_of, level_of

    if as_json:
        record = {
            "time": event.time,
            "kind": event.kind,
            "alert": kind_of(event),
            "level": level_of(event),
            "source": event.source,
            "message": event.message,
            "data": {k: _finite(v) for k, v in event.data.items()},
        }
        print(json.dumps(record), flush=True)
        return
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(event.time))
    print(
        f"{stamp} {level_of(event):<8} {display(kind_of(event))} {display(event.message)}",
        flush=True,
    )


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _err(text: str) -> None:
    from waitwise_tui.core.text import display

    print(f"waitwise-tui watch: {display(text)}", file=sys.stderr, flush=True)
