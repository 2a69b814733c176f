"""Notifications from the TUI: a new alert reaches a real local HTTP endpoint, a slow
endpoint does not hold the UI back, and with ``watch`` beside it each alert is sent once."""

from __future__ import annotations

import pytest
from fakes import make_app, make_context, tabs_ready
from hooks import Hook, Watch, history, write_settings
from waits import wait_for

from waitwise_tui.config import Settings
from waitwise_tui.core.events import Event
from waitwise_tui.ui.messages import RecordEvent
from waitwise_tui.ui.monitor.runs import RunsPanel


def notifying_context(ws, url, **kw):
    ctx = make_context(ws, **kw)
    ctx.settings = Settings(
        interval=0.1, notify_urls=[url], notify={"backoff_s": 0.05, "lease_s": 30.0}
    )
    return ctx


@pytest.mark.slow
async def test_a_new_nan_reaches_the_endpoint_once(tmp_path):
    log = tmp_path / "run.jsonl"
    history(log)
    with Hook() as hook:
        ctx = notifying_context(tmp_path, hook.url, run_paths=[str(log)], frozen_runs=False)
        app = make_app(ctx, tabs=())
        async with app.run_test(size=(120, 40)) as pilot:
            await tabs_ready(pilot)
            panel = app.query_one(RunsPanel)
            await wait_for(pilot, lambda: panel.snapshot and panel.snapshot.runs, "the run")
            with log.open("a") as f:
                f.write('{"step": 20, "loss": NaN}\n{"step": 21, "loss": NaN}\n')
            await wait_for(pilot, lambda: hook.bodies, "the NaN at the endpoint")
            app.notifier.close()
    [body] = hook.bodies
    assert body["type"] == "failure" and "step 20" in body["message"]
    assert "loss = nan" in body["message"]


async def test_a_slow_endpoint_does_not_hold_back_the_ui(tmp_path):
    with Hook("slow", delay=60) as hook:
        app = make_app(notifying_context(tmp_path, hook.url), tabs=())
        async with app.run_test(size=(100, 30)) as pilot:
            await tabs_ready(pilot)
            panel = app.query_one(RunsPanel)
            panel.post_message(
                RecordEvent(Event("alert", "r", "r: loss is NaN", data={"alert": "nan"}))
            )
            await wait_for(pilot, lambda: hook.requests == 1, "the first message to hang")
            panel.post_message(
                RecordEvent(Event("alert", "s", "s: stalled", data={"alert": "stall"}))
            )
            await wait_for(
                pilot,
                lambda: any("s: stalled" in n.message for n in app._notifications),
                "the next alert's toast while the endpoint hangs",
            )
            await pilot.press("M")  # keys still work
            assert hook.bodies == []
            app.notifier.close(timeout=0.1)


@pytest.mark.slow
async def test_the_tui_and_watch_side_by_side_notify_once(tmp_path, _sandbox_config):
    log = tmp_path / "run.jsonl"
    history(log)
    with Hook() as hook:
        write_settings(_sandbox_config, hook.url)
        ctx = notifying_context(tmp_path, hook.url, run_paths=[str(log)], frozen_runs=False)
        app = make_app(ctx, tabs=())
        async with app.run_test(size=(120, 40)) as pilot:
            await tabs_ready(pilot)
            panel = app.query_one(RunsPanel)
            await wait_for(pilot, lambda: panel.snapshot and panel.snapshot.runs, "the run")
            watch = Watch(tmp_path, str(log))
            with log.open("a") as f:
                f.write('{"step": 20, "loss": NaN}\n')
            await wait_for(
                pilot,
                lambda: watch.lines and any("not finite" in n.message for n in app._notifications),
                "the NaN in the TUI and in watch",
            )
            await wait_for(pilot, lambda: hook.bodies, "the message")
            app.notifier.close()
        assert watch.stop() == 0
    assert len(hook.bodies) == 1
    assert watch.lines[0]["alert"] == "nan"  # the same alert, printed by watch


async def test_a_failing_channel_is_reported_once_in_the_status_line(tmp_path):
    from waitwise_tui.ui.monitor.system import SystemMonitor

    with Hook("down") as hook:
        ctx = notifying_context(tmp_path, hook.url)
        ctx.settings.notify["retries"] = 1
        app = make_app(ctx, tabs=())
        async with app.run_test(size=(120, 40)) as pilot:
            await tabs_ready(pilot)
            monitor = app.query_one(SystemMonitor)
            for n, kind in enumerate(("nan", "stall", "divergence")):
                app.post_message(
                    RecordEvent(Event("alert", f"r{n}", f"r{n}: {kind}", data={"alert": kind}))
                )
            await wait_for(pilot, lambda: hook.requests >= 6, "every event's attempts")
            await wait_for(
                pilot,
                lambda: any("failing" in line for line in monitor.plain_lines),
                "the failing channel in the status line",
            )
            shown = "\n".join(monitor.plain_lines)
            assert shown.count("notifications to json://127.0.0.1") == 1, shown
            assert "/hook" not in shown  # the URL is redacted
            failing = [n for n in app._notifications if "failing" in n.message]
            assert len(failing) == 1  # one toast for the spell, not one per event
            app.notifier.close(timeout=0.5)
