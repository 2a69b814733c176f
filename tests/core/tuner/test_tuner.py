"""Ask/tell against the database: distinct parallel asks, seeding, resume, space changes."""

from __future__ import annotations

import math

import pytest

from waitwise_tui.core.db import connect
from waitwise_tui.core.tuner.service import (
    DONE,
    FAILED,
    StudyChanged,
    ask,
    best_trial,
    finish_trial,
    list_studies,
    list_trials,
    open_study,
)
from waitwise_tui.core.tuner.space import parse_study

STUDY = """\
[study]
name = "s"
metric = "loss"
direction = "{direction}"
max_trials = 30
seed = 3
algorithm = "{algorithm}"
command = ["python", "t.py", "{{x}}", "{{k}}"]

[params.x]
type = "uniform"
low = -3
high = 3

[params.k]
type = "choice"
options = [1, 2, 4]
"""


def spec_of(tmp_path, algorithm="tpe", direction="minimize", text=None):
    text = text or STUDY.format(algorithm=algorithm, direction=direction)
    return parse_study(text, base_dir=tmp_path)


def objective(params):
    return (params["x"] - 1.0) ** 2 + params["k"] * 0.1


def run_sequential(conn, study, n):
    for _ in range(n):
        (trial,) = ask(conn, study, 1)
        finish_trial(conn, trial.id, DONE, objective(trial.params), "")
    return [(t.params, t.value) for t in list_trials(conn, study.id)]


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["tpe", "random", "anneal"])
def test_parallel_asks_differ_and_are_plain_values(tmp_path, algorithm):
    conn = connect(tmp_path / "db.sqlite")
    study = open_study(conn, spec_of(tmp_path, algorithm), "s.toml")
    run_sequential(conn, study, 21 if algorithm == "tpe" else 3)  # tpe: past its start-up
    pending = ask(conn, study, 4)
    xs = [t.params["x"] for t in pending]
    assert len(set(xs)) == 4
    for trial in pending:
        assert type(trial.params["x"]) is float
        assert trial.params["k"] in (1, 2, 4) and type(trial.params["k"]) is int
    first = pending[0].number
    assert [t.number for t in pending] == [first, first + 1, first + 2, first + 3]


@pytest.mark.slow
def test_same_seed_same_proposals_and_resume_equals_uninterrupted(tmp_path):
    a = connect(tmp_path / "a.sqlite")
    uninterrupted = run_sequential(a, open_study(a, spec_of(tmp_path), "s.toml"), 24)
    b_path = tmp_path / "b.sqlite"
    b = connect(b_path)
    first = run_sequential(b, open_study(b, spec_of(tmp_path), "s.toml"), 10)
    b.close()
    b = connect(b_path)  # a "restart": everything is rebuilt from the database
    study = open_study(b, spec_of(tmp_path), "s.toml")
    resumed = run_sequential(b, study, 14)
    assert first == uninterrupted[:10]
    assert resumed == uninterrupted


@pytest.mark.slow
def test_tpe_improves_on_random_start(tmp_path):
    conn = connect(tmp_path / "db.sqlite")
    results = run_sequential(conn, open_study(conn, spec_of(tmp_path), "s.toml"), 30)
    values = [v for _, v in results]
    assert min(values[20:]) <= min(values[:20])


@pytest.mark.slow
def test_failed_and_nan_trials_count_as_failed(tmp_path):
    conn = connect(tmp_path / "db.sqlite")
    study = open_study(conn, spec_of(tmp_path), "s.toml")
    for number in range(22):
        (trial,) = ask(conn, study, 1)
        if number % 3 == 0:
            finish_trial(conn, trial.id, FAILED, None, "value is nan")
        else:
            finish_trial(conn, trial.id, DONE, objective(trial.params), "")
    (trial,) = ask(conn, study, 1)
    assert math.isfinite(trial.params["x"])
    states = [t.state for t in list_trials(conn, study.id)]
    assert states.count(FAILED) == 8


@pytest.mark.slow
def test_best_respects_direction(tmp_path):
    conn = connect(tmp_path / "db.sqlite")
    study = open_study(conn, spec_of(tmp_path, direction="maximize"), "s.toml")
    run_sequential(conn, study, 5)
    trials = list_trials(conn, study.id)
    assert best_trial(study, trials).value == max(t.value for t in trials)


@pytest.mark.slow
def test_changed_space_is_refused_or_forked(tmp_path):
    conn = connect(tmp_path / "db.sqlite")
    study = open_study(conn, spec_of(tmp_path), "s.toml")
    run_sequential(conn, study, 2)
    changed = spec_of(
        tmp_path,
        text=STUDY.format(algorithm="tpe", direction="minimize").replace("high = 3", "high = 5"),
    )
    with pytest.raises(StudyChanged, match="--fork"):
        open_study(conn, changed, "s.toml")
    forked = open_study(conn, changed, "s.toml", fork=True)
    assert forked.name == "s-2" and forked.id != study.id
    assert [s.name for s in list_studies(conn)] == ["s", "s-2"]
    assert len(list_trials(conn, study.id)) == 2 and list_trials(conn, forked.id) == []
    # Same space again: resumes the original study.
    assert open_study(conn, spec_of(tmp_path), "s.toml").id == study.id
