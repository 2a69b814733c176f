"""A tracker's run in the run panel: its own status, params and tags under the chart."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

from fakes import make_app, make_context, tabs_ready
from waits import wait_for

from waitwise_tui.ui.monitor.runs import RunsPanel

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "trackers"


async def test_mlflow_run_shows_status_params_and_tags(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    db = ws / "mlflow.db"
    with gzip.open(FIXTURES / "mlflow.db.gz") as src, open(db, "wb") as dst:
        shutil.copyfileobj(src, dst)
    app = make_app(make_context(ws, run_paths=[str(db)], frozen_runs=False), tabs=())
    async with app.run_test(size=(120, 40)) as pilot:
        await tabs_ready(pilot)
        panel = app.query_one(RunsPanel)
        snapshot = await wait_for(
            pilot, lambda: panel.snapshot and panel.snapshot.runs and panel.snapshot
        )
        assert [(r.name, r.status) for r in snapshot.runs] == [
            ("baseline/lr-0.1", "finished"),
            ("sweep/diverged", "crashed"),
        ]
        status = await wait_for(pilot, lambda: panel._shown.get("#runs-status"))
        assert "mlflow FINISHED · params.batch_size=32 · params.lr=0.1 · tags.team=vision" in (
            status.plain
        )
