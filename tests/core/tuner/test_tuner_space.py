"""Study file parsing: every parameter type, every error (with its line), commands."""

from __future__ import annotations

import pytest

from waitwise_tui.core.tuner.space import (
    StudyFileError,
    hyperopt_space,
    parse_study,
    render_command,
    space_hash,
    values_to_params,
)

GOOD = """\
[study]
name = "s"
metric = "val_loss"
direction = "maximize"
max_trials = 5
parallel = 3
seed = 7
algorithm = "random"
command = ["python", "t.py", "{a}", "{b}", "{c}", "{d}", "--x={e}", "{f}", "{g}"]
workdir = "sub"

[params.a]
type = "uniform"
low = 0
high = 1

[params.b]
type = "loguniform"
low = 1e-5
high = 1e-1

[params.c]
type = "quniform"
low = 0
high = 10
q = 2

[params.d]
type = "int"
low = 1
high = 4

[params.e]
type = "choice"
options = [16, "x", 0.5]

[params.f]
type = "normal"
mu = 0
sigma = 1

[params.g]
type = "lognormal"
mu = 0
sigma = 0.5
"""


def test_parses_every_type(tmp_path):
    spec = parse_study(GOOD, source="s.toml", base_dir=tmp_path)
    assert spec.name == "s" and spec.metric == "val_loss" and spec.direction == "maximize"
    assert (spec.max_trials, spec.parallel, spec.seed, spec.algorithm) == (5, 3, 7, "random")
    assert spec.workdir == str((tmp_path / "sub").resolve())
    kinds = {p.name: p.type for p in spec.params}
    assert kinds == {
        "a": "uniform",
        "b": "loguniform",
        "c": "quniform",
        "d": "int",
        "e": "choice",
        "f": "normal",
        "g": "lognormal",
    }
    assert spec.params[4].options == (16, "x", 0.5)
    assert set(hyperopt_space(spec.params)) == set(kinds)


def test_spec_round_trips_through_json(tmp_path):
    spec = parse_study(GOOD, base_dir=tmp_path)
    again = type(spec).from_json(spec.to_json())
    assert again == spec
    assert again.space_hash == spec.space_hash


def test_space_hash_ignores_table_order_and_study_fields(tmp_path):
    spec = parse_study(GOOD, base_dir=tmp_path)
    assert space_hash(list(reversed(spec.params))) == spec.space_hash
    other = parse_study(GOOD.replace("max_trials = 5", "max_trials = 50"), base_dir=tmp_path)
    assert other.space_hash == spec.space_hash
    changed = parse_study(GOOD.replace("high = 10", "high = 12"), base_dir=tmp_path)
    assert changed.space_hash != spec.space_hash


def test_values_become_plain_python(tmp_path):
    import numpy as np

    spec = parse_study(GOOD, base_dir=tmp_path)
    raw = {"a": np.float64(0.5), "b": 0.01, "c": 4.0, "d": 3.0, "e": 1.0, "f": -0.2, "g": 1.5}
    params = values_to_params(spec.params, raw)
    assert params == {"a": 0.5, "b": 0.01, "c": 4.0, "d": 3, "e": "x", "f": -0.2, "g": 1.5}
    assert type(params["a"]) is float and type(params["d"]) is int


def test_render_command_keeps_each_value_one_element():
    argv = render_command(
        ["python", "t.py", "--opt", "{opt}", "--x={x}"], {"opt": "0.1; touch pwned", "x": 1e-05}
    )
    assert argv == ["python", "t.py", "--opt", "0.1; touch pwned", "--x=1e-05"]


def _error(text: str) -> str:
    with pytest.raises(StudyFileError) as info:
        parse_study(text, source="bad.toml")
    return str(info.value)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_unknown_type_names_field_and_line():
    text = GOOD.replace('type = "normal"', 'type = "gaussian"')
    message = _error(text)
    assert f"bad.toml:{line_of(text, 'gaussian')}" in message
    assert "params.f.type" in message and "gaussian" in message


def test_low_not_below_high():
    text = GOOD.replace("low = 1\nhigh = 4", "low = 4\nhigh = 4")
    message = _error(text)
    assert "params.d.low" in message and "must be below high" in message
    assert f"bad.toml:{line_of(text, 'low = 4')}" in message


def test_unknown_placeholder():
    text = GOOD.replace('"{g}"]', '"{g}", "{nope}"]')
    message = _error(text)
    assert "{nope}" in message and "study.command" in message
    assert f"bad.toml:{line_of(text, 'command =')}" in message


def test_unused_parameter():
    text = GOOD.replace(', "{g}"]', "]")
    message = _error(text)
    assert "params.g" in message and "never used" in message
    assert f"bad.toml:{line_of(text, '[params.g]')}" in message


def test_missing_metric():
    message = _error(GOOD.replace('metric = "val_loss"\n', ""))
    assert "missing metric" in message and "bad.toml:1" in message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('direction = "maximize"', 'direction = "up"', "study.direction"),
        ('algorithm = "random"', 'algorithm = "grid"', "study.algorithm"),
        ("max_trials = 5", "max_trials = 0", "study.max_trials"),
        ("parallel = 3", 'parallel = "3"', "study.parallel"),
        ("seed = 7", "sed = 7", "study.sed: unknown field"),
        ("low = 1e-5", "low = 0.0", "loguniform bounds must be above 0"),
        ("q = 2", "q = 0", "params.c.q"),
        ("sigma = 1", "sigma = -1", "params.f.sigma"),
        ('options = [16, "x", 0.5]', "options = []", "params.e.options"),
        ("low = 0\nhigh = 1", 'low = "0"\nhigh = 1', "params.a.low: must be a number"),
        ("mu = 0\nsigma = 1", "sigma = 1", "params.f: missing 'mu'"),
        ("high = 1e-1", "high = 1e-1\nq = 3", "params.b.q: not a field"),
        ("low = 1\nhigh = 4", "low = 1.5\nhigh = 4", "whole numbers"),
        ('command = ["python"', 'command = "python t.py" #', "study.command"),
        ("seed = 7", 'seed = 7\nbackend = "k8s"', "study.backend: must be one of local, slurm"),
    ],
)
def test_each_error(old, new, expected):
    assert old in GOOD
    assert expected in _error(GOOD.replace(old, new))


def test_slurm_backend_and_its_table():
    text = GOOD.replace("seed = 7", 'seed = 7\nbackend = "slurm"') + (
        '\n[slurm]\npartition = "gpu"\ncpus_per_task = 4\nmem = "16G"\n'
        'extra_args = ["--exclusive"]\n'
    )
    spec = parse_study(text)
    assert spec.backend == "slurm"
    assert spec.slurm == {
        "partition": "gpu",
        "cpus_per_task": 4,
        "mem": "16G",
        "extra_args": ["--exclusive"],
    }


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('mem = "lots"', "slurm.mem: must be a size"),
        ("cpus_per_task = 0", "slurm.cpus_per_task: must be at least 1"),
        ("nodes = 2", "slurm.nodes: unknown field"),
        ('extra_args = "--exclusive"', "slurm.extra_args: must be a list of strings"),
    ],
)
def test_slurm_table_errors(table, expected):
    assert expected in _error(GOOD + f"\n[slurm]\n{table}\n")


def test_not_toml_and_no_params():
    assert "not valid TOML" in _error("[study\n")
    assert "[study]" in _error("x = 1\n")
    assert "no [params" in _error('[study]\nmetric = "m"\ncommand = ["a"]\n')
