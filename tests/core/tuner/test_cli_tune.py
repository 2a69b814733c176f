"""``tune`` and ``jobs`` subcommands: exit codes, messages, JSON shapes."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import pytest

from waitwise_tui.cli import main

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_bad_study_file_is_one_line_and_nonzero(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[study]\nmetric = "m"\ncommand = ["x", "{y}"]\n[params.z]\ntype = "u"\n')
    assert main(["tune", "run", str(bad), "-w", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "bad.toml:5" in err and "params.z.type" in err
    assert main(["tune", "run", str(tmp_path / "missing.toml"), "-w", str(tmp_path)]) == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.slow  # real trials as subprocesses, hyperopt import
def test_example_study_runs_resumes_and_reports(tmp_path, capsys):
    for name in ("train_mlp.py", "mlp_study.toml"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    study = str(tmp_path / "mlp_study.toml")
    assert main(["tune", "run", study, "--max-trials", "2", "-w", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "[1/2]" in out and "[2/2]" in out and "done: best val_loss=" in out
    assert main(["tune", "run", study, "--max-trials", "3", "-w", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2/3 trials done" in out and "[3/3]" in out
    assert main(["tune", "status", "--study", "mlp-search", "--json", "-w", str(tmp_path)]) == 0
    (summary,) = json.loads(capsys.readouterr().out)["studies"]
    assert set(summary) >= {"name", "metric", "trials", "best"}
    assert [t["id"] for t in summary["trials"]] == [0, 1, 2]
    assert set(summary["trials"][0]) >= {"id", "state", "params", "value", "job_id", "attempts"}
    assert summary["best"]["id"] in (0, 1, 2)
    text = tmp_path / "mlp_study.toml"
    text.write_text(text.read_text().replace("high = 0.3", "high = 0.4"))
    assert main(["tune", "run", study, "-w", str(tmp_path)]) == 2
    assert "--fork" in capsys.readouterr().err


def test_status_of_empty_workspace(tmp_path, capsys):
    assert main(["tune", "status", "--json", "-w", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out) == {"studies": []}
    assert not (tmp_path / ".waitwise").exists()
    assert main(["tune", "status", "--study", "nope", "-w", str(tmp_path)]) == 2


def test_jobs_submit_list_logs_cancel(tmp_path, capsys):
    ws = ["-w", str(tmp_path)]
    code = "import sys; print('args', sys.argv[1:])"
    assert main(["jobs", "submit", *ws, "--", sys.executable, "-c", code, "$(id)"]) == 0
    assert capsys.readouterr().out.startswith("job 1 running")
    assert main(["jobs", "logs", "1", "--follow", *ws]) == 0
    assert "args ['$(id)']" in capsys.readouterr().out
    assert (
        main(["jobs", "submit", *ws, "--", sys.executable, "-c", "import time; time.sleep(30)"])
        == 0
    )
    capsys.readouterr()
    time.sleep(0.2)
    assert main(["jobs", "cancel", "2", *ws]) == 0
    assert "job 2 cancelled" in capsys.readouterr().out
    assert main(["jobs", "list", "--json", *ws]) == 0
    jobs = json.loads(capsys.readouterr().out)["jobs"]
    assert [(j["id"], j["state"]) for j in jobs] == [(1, "done"), (2, "cancelled")]
    assert main(["jobs", "cancel", "2", *ws]) == 2
    assert main(["jobs", "logs", "9", *ws]) == 2
    assert main(["jobs", "submit", *ws]) == 2
