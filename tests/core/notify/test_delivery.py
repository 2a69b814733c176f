"""The notifier against a real local HTTP endpoint (Apprise ``json://``) and a real
workspace database: fields, episodes, retries, failures reported once, digests."""

from __future__ import annotations

import math

import pytest
from hooks import Hook
from waits import wait_until

from waitwise_tui.core import events as core_events
from waitwise_tui.core.db import connect
from waitwise_tui.core.events import Event, record_event
from waitwise_tui.core.notify.channels import Channel, NotifyConfig
from waitwise_tui.core.notify.delivery import EventQueue, Notifier, Queued
from waitwise_tui.core.notify.message import host_name
from waitwise_tui.core.notify.store import attempts


def nan_event(step: float = 120, run: str = "bert-base") -> Event:
    return Event(
        kind=core_events.ALERT,
        source=run,
        message=f"{run}: loss is NaN at step {step:g}",
        data={"alert": "nan", "metric": "loss", "step": step, "value": math.nan, "eta_s": 3720},
    )


def config(url: str, **kw) -> NotifyConfig:
    kw.setdefault("backoff_s", 0.01)
    return NotifyConfig(channels=(Channel(url, "info"),), **kw)


@pytest.mark.slow
def test_a_nan_alert_arrives_once_with_its_fields(tmp_path):
    db = tmp_path / "w.db"
    conn = connect(db)
    with Hook() as hook:
        notifier = Notifier(config(hook.url), db_path=db).start()
        event = nan_event()
        event_id = record_event(conn, event)
        notifier.submit(event, event_id)
        notifier.submit(nan_event(step=121), None)  # the same NaN, still NaN: same episode
        notifier.close()
    assert len(hook.bodies) == 1
    body = hook.bodies[0]
    assert body["type"] == "failure"
    assert host_name() in body["title"] and "bert-base" in body["title"]
    assert "loss is NaN at step 120" in body["message"]
    assert "step 120" in body["message"] and "loss = nan" in body["message"]
    assert "ETA 1h02m" in body["message"]
    [attempt] = attempts(conn, event_id=event_id)
    assert attempt.ok and attempt.attempt == 1
    assert attempt.channel.startswith("json://127.0.0.1:") and "/hook" not in attempt.channel


@pytest.mark.slow
def test_a_down_endpoint_is_retried_recorded_and_reported_once(tmp_path):
    db = tmp_path / "w.db"
    conn = connect(db)
    problems: list[str] = []
    with Hook("down") as hook:
        notifier = Notifier(
            config(hook.url, retries=2), db_path=db, on_problem=problems.append
        ).start()
        ids = []
        for run in ("a", "b"):
            event = nan_event(run=run)
            ids.append(record_event(conn, event))
            notifier.submit(event, ids[-1])
        wait_until(lambda: len(attempts(conn)) >= 6, "three tries of each alert")
        notifier.close()
    assert hook.requests == 6  # two alerts, three tries each
    rows = attempts(conn, event_id=ids[0])
    assert [(r.attempt, r.ok) for r in rows] == [(1, False), (2, False), (3, False)]
    assert "error=503" in rows[-1].error
    assert len(problems) == 1 and "failing" in problems[0]
    assert "/hook" not in problems[0]


@pytest.mark.slow
def test_a_burst_of_200_events_becomes_one_digest(tmp_path):
    with Hook() as hook:
        notifier = Notifier(
            # A window no loaded machine outlasts: the burst is one burst; close() sends
            # the pending digest.
            config(hook.url, digest_after=3, digest_window_s=600),
            db_path=tmp_path / "w.db",
        ).start()
        for n in range(200):
            notifier.submit(
                Event(core_events.TRIAL_FINISHED, "study", f"trial {n} finished: loss 0.{n}")
            )
        notifier.close()
    assert len(hook.bodies) == 4
    digest = hook.bodies[-1]
    assert "200 events" not in digest["title"] and "197 events" in digest["title"]
    assert "197 trial_finished" in digest["message"]


@pytest.mark.slow
def test_kinds_and_levels_choose_the_channels(tmp_path):
    with Hook() as quiet, Hook() as loud:
        cfg = NotifyConfig(
            channels=(
                Channel(quiet.url, "critical"),
                Channel(loud.url, "info", {"finished": False}),
            ),
            kinds={"stall": False},
        )
        notifier = Notifier(cfg, db_path=None).start()
        notifier.submit(nan_event())
        notifier.submit(Event(core_events.RUN_FINISHED, "r", "r finished"))
        notifier.submit(Event(core_events.ALERT, "r", "r stalled", data={"alert": "stall"}))
        notifier.submit(Event(core_events.JOB_FINISHED, "jobs", "job 3 finished"))
        notifier.close()
    assert [b["message"].splitlines()[0] for b in quiet.bodies] == [
        "bert-base: loss is NaN at step 120"
    ]
    assert [b["message"].splitlines()[0] for b in loud.bodies] == [
        "bert-base: loss is NaN at step 120",
        "job 3 finished",
    ]


@pytest.mark.slow
def test_log_text_reaches_the_message_as_plain_text(tmp_path):
    with Hook() as hook:
        notifier = Notifier(config(hook.url), db_path=None).start()
        notifier.submit(
            Event(core_events.ALERT, "run\x1b]0;x\x07", "loss\x1b[2J NaN", data={"alert": "nan"})
        )
        notifier.close()
    [body] = hook.bodies
    assert "\x1b" not in body["message"] and "\x1b" not in body["title"]
    assert "\\x1b" in body["message"]


def item(level: str, n: int) -> Queued:
    return Queued(Event("k", "s", f"{level}{n}"), n, level)


def test_a_full_queue_drops_the_oldest_info_first_and_never_a_critical():
    queue = EventQueue(3)
    for q in (item("info", 1), item("critical", 2), item("warning", 3), item("info", 4)):
        queue.put(q)
    queue.put(item("critical", 5))
    queue.put(item("critical", 6))
    queue.put(item("critical", 7))
    kept = [queue.get(0).event.message for _ in range(len(queue))]
    dropped = [q.event.message for q in queue.take_dropped()]
    assert dropped == ["info1", "info4", "warning3"]
    assert kept == ["critical2", "critical5", "critical6", "critical7"]


@pytest.mark.parametrize("incoming", ["info", "warning"])
def test_a_full_queue_of_criticals_drops_the_newcomer(incoming):
    queue = EventQueue(2)
    queue.put(item("critical", 1))
    queue.put(item("critical", 2))
    queue.put(item(incoming, 3))
    assert [q.event.message for q in queue.take_dropped()] == [f"{incoming}3"]
    assert len(queue) == 2
