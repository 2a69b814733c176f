"""Runs logged to trackers: MLflow (SQLite and file store), trackio, W&B run files.

The stores under tests/fixtures/trackers were written by the real libraries
(``make_fixtures.py`` there); each test reads a copy in its tmp dir. The live tests
write more rows with sqlite3 the way the trackers do (one short transaction per log
call) while a tail reads, hold a writer's transaction open, and vacuum the store.
"""

from __future__ import annotations

import gzip
import math
import os
import shutil
import sqlite3
import struct
import sys
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from waitwise_tui.core.runs import trackers, wandbfile
from waitwise_tui.core.runs.discover import detect_format, discover_runs
from waitwise_tui.core.runs.model import RunCandidate
from waitwise_tui.core.runs.monitor import RunMonitor
from waitwise_tui.core.runs.readers import open_tail, read_all

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "trackers"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A workspace holding every fixture store."""
    for name in ("mlruns", "trackio", "wandb"):
        shutil.copytree(FIXTURES / name, tmp_path / name)
    with gzip.open(FIXTURES / "mlflow.db.gz") as src, open(tmp_path / "mlflow.db", "wb") as dst:
        shutil.copyfileobj(src, dst)
    return tmp_path


def _by_name(cands: list[RunCandidate]) -> dict[str, RunCandidate]:
    return {c.name: c for c in cands}


def _values(update, metric: str) -> list[tuple[float, float]]:
    return [(p.step, p.value) for p in update.iter_points() if p.metric == metric]


def test_the_scan_finds_every_tracker_run(ws: Path) -> None:
    cands = discover_runs(ws)
    formats = sorted((c.format, c.name.split(" (")[0]) for c in cands)
    assert formats == [
        ("mlflow", "baseline/lr-0.1"),
        ("mlflow", "sweep/diverged"),
        ("mlruns", "baseline/lr-0.1"),
        ("mlruns", "sweep/diverged"),
        ("trackio", "demo-project/run-a"),
        ("wandb", "wandb/" + next((ws / "wandb").iterdir()).name),
    ]
    # The store's runs share its path and are told apart by their MLflow run id.
    db_runs = [c for c in cands if c.format == "mlflow"]
    assert {c.path for c in db_runs} == {str(ws / "mlflow.db")}
    assert len({c.key for c in db_runs}) == 2 and all(len(c.key) == 32 for c in db_runs)


def test_a_store_named_by_path_is_read(ws: Path) -> None:
    assert detect_format(ws / "mlflow.db", lenient=True) == "mlflow"
    assert detect_format(ws / "trackio" / "demo-project.db", lenient=True) == "trackio"
    names = [c.name for c in discover_runs(ws, [ws / "mlflow.db"])]
    assert names == ["baseline/lr-0.1", "sweep/diverged"]
    run_dir = next(p for p in (ws / "mlruns").glob("*/*") if (p / "metrics").is_dir())
    assert [c.format for c in discover_runs(ws, [run_dir])] == ["mlruns"]


def test_a_sqlite_file_that_is_no_tracker_is_not_a_run(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "app.db")
    conn.execute("CREATE TABLE metrics (a, b)")
    conn.commit()
    conn.close()
    assert detect_format(tmp_path / "app.db", lenient=True) is None
    assert discover_runs(tmp_path) == []


@pytest.mark.parametrize("fmt", ["mlflow", "mlruns"])
def test_mlflow_runs_read_whole_with_status_params_and_tags(ws: Path, fmt: str) -> None:
    runs = {c.name.split(" (")[0]: c for c in discover_runs(ws) if c.format == fmt}
    good = read_all(runs["baseline/lr-0.1"])
    assert _values(good, "loss") == [(s, 2.0 / (s + 1)) for s in range(20)]
    assert [s for s, _ in _values(good, "val/acc")] == [0, 5, 10, 15]
    assert all(p.wall_time and p.wall_time > 1e9 for p in good.iter_points())
    assert good.tracker_status == "FINISHED"
    assert good.details == {"params.batch_size": "32", "params.lr": "0.1", "tags.team": "vision"}
    bad = read_all(runs["sweep/diverged"])
    assert bad.tracker_status == "FAILED"
    assert math.isnan(_values(bad, "loss")[-1][1])


def test_the_tracker_status_decides_the_verdict(ws: Path) -> None:
    monitor = RunMonitor(ws, writers=False)
    try:
        runs = {r.name.split(" (")[0] + "|" + r.format: r for r in monitor.poll().runs}
    finally:
        monitor.close()
    assert runs["baseline/lr-0.1|mlflow"].status == "finished"
    assert runs["sweep/diverged|mlflow"].status == "crashed"
    assert runs["sweep/diverged|mlruns"].status == "crashed"
    assert runs["sweep/diverged|mlflow"].tracker_status == "FAILED"
    assert ("params.lr", "3.0") in runs["sweep/diverged|mlflow"].details


def test_trackio_run_is_read_with_its_config(ws: Path) -> None:
    (cand,) = [c for c in discover_runs(ws) if c.format == "trackio"]
    update = read_all(cand)
    assert _values(update, "loss") == [(s, 1.0 / (s + 1)) for s in range(10)]
    assert len(_values(update, "acc")) == 10
    assert update.details == {"config.lr": "0.01"}


def test_wandb_run_without_wandb_gets_a_one_line_hint(ws: Path, monkeypatch) -> None:
    # Blocked whole: a test before may have imported wandb's submodules already.
    for name in [m for m in sys.modules if m == "wandb" or m.startswith("wandb.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "wandb", None)
    (cand,) = [c for c in discover_runs(ws) if c.format == "wandb"]
    tail = open_tail(cand)
    first = tail.poll()
    assert first.error == wandbfile.MISSING_HINT and not first.has_scalars()
    assert tail.poll().error is None


@pytest.mark.slow
def test_wandb_run_history_summary_and_exit(ws: Path) -> None:
    pytest.importorskip("wandb.proto.wandb_internal_pb2")
    (cand,) = [c for c in discover_runs(ws) if c.format == "wandb"]
    update = read_all(cand)
    assert [v for _, v in _values(update, "loss")] == pytest.approx(
        [3.0 - s * 0.1 for s in range(15)]
    )
    assert len(_values(update, "eval/acc")) == 15
    assert update.tracker_status == "FINISHED"
    assert update.details["config.lr"] == "0.001"
    assert update.details["summary.best_acc"] == "0.93"


# -- live stores ----------------------------------------------------------------------


def _mlflow_log(db: Path, run: str, key: str, step: int, value: float) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
            "VALUES (?, ?, ?, ?, ?, 0)",
            (key, value, 1_700_000_000_000 + step, run, step),
        )
    conn.close()


def test_mlflow_tail_follows_a_writer_and_never_blocks_it(ws: Path) -> None:
    db = ws / "mlflow.db"
    cand = _by_name(discover_runs(ws, [db]))["baseline/lr-0.1"]
    tail = open_tail(cand)
    assert len(_values(tail.poll(), "loss")) == 20
    assert not tail.poll().has_scalars()  # nothing changed: nothing read
    _mlflow_log(db, cand.key, "loss", 20, 0.05)
    assert _values(tail.poll(), "loss") == [(20, 0.05)]
    # A writer in the middle of a transaction: the reader sees the committed rows only
    # and, read-only, takes no lock the writer would wait for.
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute(
        "INSERT INTO metrics VALUES ('loss', 0.04, 1700000000021, ?, 21, 0)", (cand.key,)
    )
    update = tail.poll()
    assert not update.has_scalars() and update.error is None
    writer.execute("COMMIT")
    writer.execute("UPDATE runs SET status = 'KILLED' WHERE run_uuid = ?", (cand.key,))
    writer.close()
    update = tail.poll()
    assert _values(update, "loss") == [(21, 0.04)]
    assert update.tracker_status == "KILLED"


def test_mlflow_tail_survives_vacuum_and_deletion(ws: Path) -> None:
    db = ws / "mlflow.db"
    cands = _by_name(discover_runs(ws, [db]))
    cand = cands["baseline/lr-0.1"]
    tail = open_tail(cand)
    tail.poll()
    conn = sqlite3.connect(db, isolation_level=None)
    # Rows of the other run go away and VACUUM renumbers what is left.
    conn.execute("DELETE FROM metrics WHERE run_uuid = ?", (cands["sweep/diverged"].key,))
    conn.execute("VACUUM")
    conn.close()
    _mlflow_log(db, cand.key, "loss", 20, 0.05)
    update = tail.poll()
    loss = _values(update, "loss")
    if update.reset:
        assert len(loss) == 21
    assert loss[-1] == (20, 0.05)
    os.remove(db)
    assert tail.poll().gone


def test_trackio_tail_follows_new_rows(ws: Path) -> None:
    db = ws / "trackio" / "demo-project.db"
    (cand,) = discover_runs(ws, [db])
    tail = open_tail(cand)
    assert len(_values(tail.poll(), "loss")) == 10
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "INSERT INTO metrics (run_id, timestamp, run_name, step, metrics) VALUES (?,?,?,?,?)",
            (cand.key, "2026-01-01T00:00:00+00:00", "run-a", 10, '{"loss": "NaN", "acc": 1}'),
        )
    conn.close()
    update = tail.poll()
    assert math.isnan(_values(update, "loss")[0][1]) and _values(update, "acc") == [(10, 1.0)]


def test_mlflow_file_store_tail_reads_appended_lines(ws: Path) -> None:
    cand = next(c for c in discover_runs(ws) if c.format == "mlruns" and "baseline" in c.name)
    tail = open_tail(cand)
    assert len(_values(tail.poll(), "loss")) == 20
    with open(Path(cand.path) / "metrics" / "loss", "a") as fh:
        fh.write("1700000000000 0.05 20\n1700000000001 0.04")  # the last line half-written
    assert _values(tail.poll(), "loss") == [(20, 0.05)]
    with open(Path(cand.path) / "metrics" / "loss", "a") as fh:
        fh.write(" 21\n")
    assert _values(tail.poll(), "loss") == [(21, 0.04)]


# -- W&B framing ----------------------------------------------------------------------


def _frame(records: list[bytes]) -> bytes:
    """``records`` in wandb's LevelDB-log framing, as wandb writes them."""
    out = bytearray(b":W&B" + struct.pack("<HB", 0xBEE1, 0))
    for data in records:
        first = True
        while True:
            left = wandbfile.BLOCK - len(out) % wandbfile.BLOCK
            if left < wandbfile.CHUNK_HEADER:
                out += b"\x00" * left
                continue
            room = left - wandbfile.CHUNK_HEADER
            chunk, data = data[:room], data[room:]
            last = not data
            kind = (
                wandbfile.FULL if first and last else
                wandbfile.FIRST if first else wandbfile.LAST if last else wandbfile.MIDDLE
            )  # fmt: skip
            crc = zlib.crc32(chunk, zlib.crc32(bytes([kind])))
            out += struct.pack("<IHB", crc, len(chunk), kind) + chunk
            first = False
            if last:
                break
    return bytes(out)


class _RawRecord:
    """Stands in for wandb's Record class: keeps the bytes it was given."""

    seen: list[bytes] = []

    def ParseFromString(self, data: bytes) -> None:  # protobuf names its methods so
        _RawRecord.seen.append(data)

    def WhichOneof(self, _name: str) -> None:
        return None


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    records=st.lists(st.binary(min_size=0, max_size=40_000), min_size=1, max_size=6),
    cuts=st.lists(st.integers(min_value=1, max_value=70_000), max_size=5),
)
def test_wandb_framing_reassembles_records_across_any_appends(tmp_path, records, cuts) -> None:
    data = _frame(records)
    path = tmp_path / "run-x.wandb"
    path.write_bytes(b"")
    tail = wandbfile.WandbTail(RunCandidate(str(path), "wandb", "x"))
    tail._record = _RawRecord
    _RawRecord.seen = []
    at = 0
    for cut in [*sorted({min(c, len(data)) for c in cuts}), len(data)]:
        with open(path, "ab") as fh:
            fh.write(data[at:cut])
        at = max(at, cut)
        assert tail.poll().error is None
    assert _RawRecord.seen == records
    assert trackers.sniff(str(path), data[:16]) == "wandb"


def test_mlflow_tail_waits_out_a_migration(ws: Path) -> None:
    db = ws / "mlflow.db"
    cand = _by_name(discover_runs(ws, [db]))["baseline/lr-0.1"]
    tail = open_tail(cand)
    tail.poll()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("ALTER TABLE metrics RENAME TO metrics_old")  # a migration half done
    errors = [tail.poll().error for _ in range(3)]
    assert errors[:2] == [None, None] and "no such table" in errors[2]
    conn.execute("ALTER TABLE metrics_old RENAME TO metrics")
    conn.close()
    _mlflow_log(db, cand.key, "loss", 20, 0.05)
    update = tail.poll()
    assert update.error is None and _values(update, "loss") == [(20, 0.05)]


def test_trackio_dir_is_resolved_as_trackio_does(tmp_path: Path) -> None:
    from waitwise_tui.core.runs.trackiodb import trackio_dir

    home = os.path.expanduser("~")
    assert trackio_dir({"TRACKIO_DIR": "/x/t", "HF_HOME": "/x/hf"}) == "/x/t"
    assert trackio_dir({"HF_HOME": "/x/hf", "XDG_CACHE_HOME": "/x/c"}) == "/x/hf/trackio"
    assert trackio_dir({"XDG_CACHE_HOME": "/x/c"}) == "/x/c/huggingface/trackio"
    assert trackio_dir({}) == os.path.join(home, ".cache", "huggingface", "trackio")
    # The test sandbox (tests/conftest.py) points trackio at a private folder.
    assert not trackio_dir().startswith(os.path.join(home, ".cache"))


def test_the_workspace_scan_reads_trackios_own_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trackio = tmp_path / "hf" / "trackio"
    shutil.copytree(FIXTURES / "trackio", trackio)
    (trackio / "notes.db").write_bytes(b"not a database")
    monkeypatch.setenv("TRACKIO_DIR", str(trackio))
    ws = tmp_path / "ws"
    ws.mkdir()
    cands = discover_runs(ws)
    assert [(c.format, c.name, c.path) for c in cands] == [
        ("trackio", "demo-project/run-a", str(trackio / "demo-project.db"))
    ]
    # Named paths are read alone; a trackio folder inside the workspace is not doubled.
    assert discover_runs(ws, [ws]) == []
    assert [c.name for c in discover_runs(tmp_path)] == ["demo-project/run-a"]
    # The monitor shows it like any run of the workspace.
    monitor = RunMonitor(ws, writers=False)
    (run,) = monitor.poll().runs
    assert run.name == "demo-project/run-a" and run.metrics
