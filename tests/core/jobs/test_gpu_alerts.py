"""Hang, straggler and idle-GPU detection on recorded per-GPU series (made by
data/make_gpu_series.py), asserted on the alerts fired and not fired; and the
time-limit verdicts and their events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from waitwise_tui.core.events import ALERT
from waitwise_tui.core.jobs.gpu_alerts import (
    HANG,
    IDLE_GPU,
    STRAGGLER,
    JobGpuAlerts,
    hung_gpus,
    idle_gpus,
    series_from_history,
    straggler_gpus,
)
from waitwise_tui.core.jobs.slurm_cli import SlurmError
from waitwise_tui.core.jobs.timelimit import TimeLimitWatch, check

SESSIONS = json.loads((Path(__file__).parent / "data" / "gpu_series.json").read_text())
END = 895.0  # the last sample of every session
STALL = 300.0  # the run's stall threshold


def series(name: str, until: float = END) -> dict:
    return {k: [tuple(s) for s in v if s[0] <= until] for k, v in SESSIONS[name].items()}


def replay(name: str, *, stalled_from: float | None = None, live: bool = True):
    """Feed the session to JobGpuAlerts once a poll (every 5 s); every event fired."""
    alerts = JobGpuAlerts("42", run="r")
    fired = []
    for now in range(60, int(END) + 1, 5):
        stalled = None if stalled_from is None else max(0.0, now - stalled_from)
        fired += alerts.update(
            series(name, now),
            float(now),
            stalled_s=stalled,
            stall_threshold_s=STALL,
            run_live=live,
        )
    return fired


def kinds(events) -> list[tuple[str, str]]:
    return [(e.data["alert"], e.data["gpu"]) for e in events]


def test_healthy_fires_nothing_even_when_the_step_stalls():
    # Stalled step (say a slow eval) but GPUs at full power: not a hang.
    assert replay("healthy", stalled_from=300) == []


def test_hang_fires_once_on_all_ranks():
    fired = replay("hang", stalled_from=540)
    assert kinds(fired) == [(HANG, "")]
    assert fired[0].kind == ALERT and fired[0].data["gpus"] == sorted(SESSIONS["hang"])
    assert "possible collective hang on 8 ranks" in fired[0].message
    # Fired once the stall threshold passed (540 + 300), not when power fell (720).
    assert fired[0].time == 540 + STALL


def test_hang_needs_the_stalled_step():
    assert replay("hang", stalled_from=None) == []
    assert hung_gpus(series("hang"), END, stalled_s=100, stall_threshold_s=STALL) == []


def test_hang_not_on_low_utilisation():
    low = {k: [(t, 50.0, p) for t, _u, p in v] for k, v in series("hang").items()}
    assert hung_gpus(low, END, stalled_s=600, stall_threshold_s=STALL) == []


def test_straggler_fires_for_the_slow_gpu_only():
    fired = replay("straggler")
    assert kinds(fired) == [(STRAGGLER, "n2/gpu3")]
    # After "more than a minute": its drop began at 780.
    assert fired[0].time > 780 + 60 - 5
    assert straggler_gpus(series("healthy"), END) == []


def test_idle_gpu_fires_while_live_only():
    assert kinds(replay("idle")) == [(IDLE_GPU, "n1/gpu2")]
    # Without a live run a GPU at 0 % is only far below the others.
    assert kinds(replay("idle", live=False)) == [(STRAGGLER, "n1/gpu2")]
    assert idle_gpus(series("healthy"), END, run_live=True) == []


def test_cleared_alert_may_fire_again():
    alerts = JobGpuAlerts("1")
    idle = series("idle")
    args = {"stalled_s": None, "stall_threshold_s": STALL}
    assert len(alerts.update(idle, END, run_live=True, **args)) == 1
    assert alerts.update(idle, END, run_live=True, **args) == []
    assert alerts.update(series("healthy"), END, run_live=True, **args) == []
    assert len(alerts.update(idle, END, run_live=True, **args)) == 1


def test_series_from_collector_history():
    history = {("n1", 0): [(1.0, {"util_percent": 90, "power_w": 300.0}), (2.0, {})]}
    assert series_from_history(history) == {"n1/gpu0": [(1.0, 90.0, 300.0), (2.0, None, None)]}


def test_time_limit_verdict():
    v = check(now=0, end_time=3600, eta_s=3600 + 4200, step=5000, step_rate=10.0)
    assert v is not None and v.hits and not v.within_lead
    assert v.step_at_end == 41000
    assert v.message("7") == (
        "Slurm job 7 will hit the time limit at about step 41,000, 1h10m before it would"
        " finish (1h00m left)"
    )
    fine = check(now=0, end_time=3600, eta_s=1000)
    assert fine is not None and not fine.hits
    assert check(now=0, end_time=None, eta_s=10) is None
    assert check(now=0, end_time=100, eta_s=None) is None
    assert check(now=200, end_time=100, eta_s=10) is None


@pytest.mark.parametrize("signal", ["", "USR1"])
def test_time_limit_warns_early_then_at_the_lead_time(signal):
    sent = []
    watch = TimeLimitWatch("7", signal=signal, send_signal=lambda j, s: sent.append((j, s)))
    early = check(now=0, end_time=7200, eta_s=9000, lead_s=1800)
    assert len(watch.update(early, 0)) == 1
    assert watch.update(early, 5) == []
    late = check(now=6000, end_time=7200, eta_s=3000, lead_s=1800)
    events = watch.update(late, 6000)
    assert len(events) == 1 and events[0].data["lead"]
    assert watch.update(late, 6005) == []
    assert sent == ([("7", "USR1")] if signal else [])
    assert ("sent SIGUSR1" in events[0].message) == bool(signal)


def test_time_limit_signal_failure_is_said():
    def refuse(job_id, signal):
        raise SlurmError("scancel: invalid job id")

    watch = TimeLimitWatch("7", signal="USR1", send_signal=refuse)
    events = watch.update(check(now=0, end_time=60, eta_s=600), 0)
    assert "could not send SIGUSR1: scancel: invalid job id" in events[0].message
