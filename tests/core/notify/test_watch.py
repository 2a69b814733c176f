"""``waitwise-tui watch`` and ``notify test`` as real processes, notifying a real local
HTTP endpoint; two watchers on one workspace notify once (the lease)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest
from hooks import Hook, Watch, history, write_settings
from waits import wait_until

from waitwise_tui.core.db import connect

pytestmark = pytest.mark.slow


def test_watch_prints_records_and_notifies_a_nan_once(tmp_path, _sandbox_config):
    log = tmp_path / "run.jsonl"
    history(log)
    with Hook() as hook:
        write_settings(_sandbox_config, hook.url)
        watch = Watch(tmp_path, str(log))
        with log.open("a") as f:
            f.write('{"step": 20, "loss": NaN}\n{"step": 21, "loss": NaN}\n')
        wait_until(lambda: watch.lines and hook.bodies, "the NaN line and its message")
        with log.open("a") as f:
            f.write('{"step": 22, "loss": NaN}\n')
        assert watch.stop() == 0
    [line] = watch.lines
    assert line["alert"] == "nan" and line["level"] == "critical" and line["source"] == "run"
    assert line["data"]["step"] == 20 and line["data"]["value"] == "nan"
    [body] = hook.bodies
    assert "run" in body["title"] and "step 20" in body["message"]
    conn = sqlite3.connect(tmp_path / ".waitwise" / "waitwise.db")
    rows = conn.execute(
        "SELECT e.source, a.ok, a.attempt FROM notify_attempts a JOIN events e ON e.id = a.event_id"
    ).fetchall()
    assert rows == [("run", 1, 1)]
    assert conn.execute("SELECT COUNT(*) FROM notify_lease").fetchone()[0] == 0  # released


def test_two_watchers_on_one_workspace_notify_once(tmp_path, _sandbox_config):
    log = tmp_path / "run.jsonl"
    history(log)
    with Hook() as hook:
        write_settings(_sandbox_config, hook.url)
        first = Watch(tmp_path, str(log))
        second = Watch(tmp_path, str(log))
        with log.open("a") as f:
            f.write('{"step": 20, "loss": NaN}\n')
        wait_until(lambda: first.lines and second.lines, "both to see the NaN")
        assert first.stop() == 0 and second.stop() == 0
    assert len(hook.bodies) == 1


def test_a_slow_endpoint_does_not_hold_back_watch(tmp_path, _sandbox_config):
    log = tmp_path / "run.jsonl"
    history(log)
    with Hook("slow", delay=60) as hook:
        write_settings(_sandbox_config, hook.url)
        watch = Watch(tmp_path, str(log))
        with log.open("a") as f:
            f.write('{"step": 20, "loss": NaN}\n')
        wait_until(lambda: hook.requests == 1, "the first message to hang")
        with log.open("a") as f:
            f.write('{"step": 21, "acc": NaN}\n')
        wait_until(lambda: len(watch.lines) == 2, "the second alert while the first hangs")
        assert hook.bodies == []
        watch.proc.kill()
        watch.proc.wait(30)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "waitwise_tui", *args], capture_output=True, text=True, timeout=60
    )


def test_notify_test_reports_success_and_the_channel_error(_sandbox_config):
    with Hook() as good, Hook("down") as bad:
        write_settings(_sandbox_config, good.url, bad.url)
        done = run_cli("notify", "test", "--json")
    assert done.returncode == 1, done.stderr
    results = json.loads(done.stdout)["channels"]
    assert [r["ok"] for r in results] == [True, False]
    assert "error=503" in results[1]["error"]
    assert all("/hook" not in r["channel"] for r in results)
    assert "test message" in good.bodies[0]["message"]
    with Hook() as hook:
        done = run_cli("notify", "test", "--url", hook.url)
    assert done.returncode == 0 and " ok" in done.stdout and hook.bodies


def test_notify_test_without_channels_says_where_to_set_them(_sandbox_config):
    done = run_cli("notify", "test")
    assert done.returncode == 2 and "notify_urls" in done.stderr


def test_watch_raises_gpu_alerts_from_its_own_sampler(tmp_path, monkeypatch):
    """A GPU fault (uncorrected ECC errors in the fake NVML) is printed once as an alert
    and stored, with no run on the GPU: it names the GPU."""
    monkeypatch.setenv("WAITWISE_FAKE_NVML", "ecc")
    log = tmp_path / "run.jsonl"
    history(log)
    watch = Watch(tmp_path, str(log), "--no-notify")
    wait_until(lambda: watch.lines, "the ECC alert")
    assert watch.stop() == 0
    [line] = watch.lines
    assert line["alert"] == "ecc" and line["level"] == "critical"
    assert line["source"] == "GPU 0" and line["data"]["ecc_uncorrected"] == 2
    with connect(tmp_path / ".waitwise" / "waitwise.db") as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 1
