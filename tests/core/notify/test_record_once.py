"""An alert seen by the TUI and by ``watch`` on one workspace is one row in ``events``."""

from __future__ import annotations

import threading

from hypothesis import given
from hypothesis import strategies as st

from waitwise_tui.core.db import connect
from waitwise_tui.core.events import Event, alert_key, record_event_once


def nan_at(step: float, time: float = 1000.0) -> Event:
    data = {"alert": "nan", "metric": "loss", "step": step, "value": float("nan")}
    return Event("alert", "run", "run: loss is not finite", time=time, data=data)


def rows(db) -> list[tuple]:
    with connect(db) as conn:
        return [tuple(r) for r in conn.execute("SELECT kind, source, time FROM events")]


def test_the_same_alert_from_two_processes_is_stored_once(tmp_path) -> None:
    db = tmp_path / "w.db"
    tui, watch = connect(db), connect(db)
    first, stored = record_event_once(tui, nan_at(20, time=1000.0))
    again, stored_again = record_event_once(watch, nan_at(20, time=1000.4))
    assert stored and not stored_again and again == first
    # Another step is another alert; a finished trial is always its own event.
    assert record_event_once(watch, nan_at(21))[1]
    trial = Event("trial_finished", "study", "trial 3 finished")
    assert record_event_once(tui, trial)[1] and record_event_once(watch, trial)[1]
    assert len(rows(db)) == 4


def test_a_gpu_episode_is_keyed_by_its_name_not_its_time(tmp_path) -> None:
    db = tmp_path / "w.db"
    conn = connect(db)
    data = {"alert": "gpu_memory", "gpu": 0, "episode": "run|gpu_memory|gpu0"}
    assert record_event_once(conn, Event("alert", "run", "a", time=1000.0, data=data))[1]
    assert not record_event_once(conn, Event("alert", "run", "b", time=1030.0, data=data))[1]
    # Long after, the same episode name is a new episode.
    assert record_event_once(conn, Event("alert", "run", "c", time=5000.0, data=data))[1]


def test_racing_writers_store_one_row(tmp_path) -> None:
    db = tmp_path / "w.db"
    connect(db).close()
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def writer() -> None:
        conn = connect(db)
        barrier.wait()
        results.append(record_event_once(conn, nan_at(7))[1])
        conn.close()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
    assert len(rows(db)) == 1


@given(
    st.one_of(st.none(), st.floats(allow_nan=False), st.integers()),
    st.text(max_size=10),
)
def test_the_key_survives_the_json_round_trip(step, metric) -> None:
    import json

    event = Event("alert", "r", "m", data={"alert": "stall", "metric": metric, "step": step})
    stored = Event("alert", "r", "m", data=json.loads(json.dumps(event.data)))
    assert alert_key(stored) == alert_key(event) is not None
