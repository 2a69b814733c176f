"""Which of a poll's new alerts are announced, as core ``Event``s.

The run panel and ``waitwise-tui watch`` both go through ``AlertEvents``, so the same
log gives the same events in both. An alert found while reading a run's history (an
old NaN on the first read) is shown as a badge but not announced: only alerts of runs
already read before the poll become events. Each event carries what a notification
names: the alert's kind, metric and step, the metric's latest value and the run's ETA.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from waitwise_tui.core import events as core_events

if TYPE_CHECKING:
    from waitwise_tui.core.runs.monitor import RunsSnapshot

EVENT_KINDS = {"finished": core_events.RUN_FINISHED, "crashed": core_events.RUN_CRASHED}


class AlertEvents:
    def __init__(self) -> None:
        self._seen_runs: set[str] = set()  # runs read at least once before this poll

    def events(self, snapshot: RunsSnapshot) -> list[core_events.Event]:
        events = []
        for alert in snapshot.new_alerts:
            if alert.run not in self._seen_runs:
                continue
            data: dict[str, object] = {
                "alert": alert.kind,
                "metric": alert.metric,
                "step": alert.step,
            }
            run = snapshot.run(alert.run)
            if run is not None:
                metric = run.metric(alert.metric) if alert.metric else None
                if metric is not None:
                    data["value"] = metric.last
                if run.eta_seconds is not None:
                    data["eta_s"] = run.eta_seconds
            events.append(
                core_events.Event(
                    kind=EVENT_KINDS.get(alert.kind, core_events.ALERT),
                    source=alert.run,
                    message=alert.message
                    if alert.run in alert.message
                    else f"{alert.run}: {alert.message}",
                    time=alert.time,
                    data=data,
                )
            )
        self._seen_runs.update(run.name for run in snapshot.runs)
        return events
