"""Atomic writes keep permissions; the database migrates once; events round-trip."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from waitwise_tui.core import db, events
from waitwise_tui.core.atomic import atomic_write_text


def test_atomic_write_creates_parents_and_replaces(tmp_path):
    target = tmp_path / "a" / "b.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["b.txt"]


def test_atomic_write_keeps_permissions(tmp_path):
    target = tmp_path / "note.md"
    target.write_text("old")
    os.chmod(target, 0o600)
    atomic_write_text(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_atomic_write_failure_leaves_old_file(tmp_path, monkeypatch):
    target = tmp_path / "keep.txt"
    target.write_text("old")

    def boom(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_migrations_apply_once(tmp_path):
    path = tmp_path / "w.db"
    conn = db.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(db.MIGRATIONS)
    conn.close()
    conn = db.connect(path)  # second open: nothing to do, no error
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_concurrent_first_opens_migrate_once(tmp_path):
    # The app's event writer and a tab's worker can open a fresh database at the
    # same moment; the loser of the race must find the tables, not recreate them.
    path = tmp_path / "w.db"
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def open_it() -> None:
        barrier.wait()
        try:
            db.connect(path).close()
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    conn = db.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(db.MIGRATIONS)


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "w.db"
    conn = db.connect(path)
    conn.execute(f"PRAGMA user_version = {len(db.MIGRATIONS) + 5}")
    conn.close()
    with pytest.raises(db.SchemaTooNew):
        db.connect(path)


def test_events_round_trip(tmp_path):
    conn = db.connect(tmp_path / "w.db")
    events.record_event(
        conn, events.Event("alert", "runs", "loss is NaN", time=10.0, data={"step": 5})
    )
    events.record_event(conn, events.Event("job_finished", "tuner", "job 1 done", time=20.0))
    got = events.recent_events(conn)
    assert [e.message for e in got] == ["job 1 done", "loss is NaN"]
    assert got[1].data == {"step": 5}
    assert [e.kind for e in events.recent_events(conn, kind="alert")] == ["alert"]
    assert events.recent_events(conn, since=15.0)[0].kind == "job_finished"
