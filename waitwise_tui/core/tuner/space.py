"""Study files: parse and validate the TOML, build the hyperopt space, render commands.

A study file has a ``[study]`` table (objective, budget, command) and one
``[params.NAME]`` table per hyperparameter. Every problem is reported as a
``StudyFileError`` naming the field and its line in the file. hyperopt is imported
only inside :func:`hyperopt_space`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from waitwise_tui.core.jobs.backend import BACKENDS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

PARAM_TYPES = ("uniform", "loguniform", "quniform", "int", "choice", "normal", "lognormal")
ALGORITHMS = ("tpe", "random", "anneal")
DIRECTIONS = ("minimize", "maximize")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

# Which numeric keys each type needs (besides ``type``).
_TYPE_KEYS: dict[str, tuple[str, ...]] = {
    "uniform": ("low", "high"),
    "loguniform": ("low", "high"),
    "quniform": ("low", "high", "q"),
    "int": ("low", "high"),
    "choice": ("options",),
    "normal": ("mu", "sigma"),
    "lognormal": ("mu", "sigma"),
}


# Slurm's --mem: a number with an optional K/M/G/T suffix.
MEMORY = re.compile(r"[0-9]+[KMGT]?", re.IGNORECASE)


class StudyFileError(ValueError):
    """A study file problem, already phrased as one line for the user."""


@dataclass(frozen=True)
class ParamSpec:
    name: str
    type: str
    low: float | None = None
    high: float | None = None
    q: float | None = None
    mu: float | None = None
    sigma: float | None = None
    options: tuple[Any, ...] = ()


@dataclass
class StudySpec:
    name: str
    metric: str
    command: list[str]
    workdir: str
    params: list[ParamSpec]
    direction: str = "minimize"
    max_trials: int = 20
    parallel: int = 1
    gpus_per_trial: int = 0
    timeout_minutes: float = 60.0
    seed: int = 0
    algorithm: str = "tpe"
    max_attempts: int = 2  # attempts per trial when its job is killed or lost
    backend: str = "local"  # or "slurm"
    slurm: dict[str, Any] = field(default_factory=dict)  # the study's [slurm] table

    def to_json(self) -> str:
        data = asdict(self)
        data["params"] = [asdict(p) | {"options": list(p.options)} for p in self.params]
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> StudySpec:
        data = json.loads(text)
        data["params"] = [
            ParamSpec(**(p | {"options": tuple(p["options"])})) for p in data["params"]
        ]
        return cls(**data)

    @property
    def space_hash(self) -> str:
        return space_hash(self.params)


def space_hash(params: list[ParamSpec]) -> str:
    """A hash of the normalised parameter space (order of tables does not matter)."""
    normal = sorted(
        (asdict(p) | {"options": list(p.options)} for p in params), key=lambda p: p["name"]
    )
    return hashlib.sha256(json.dumps(normal, sort_keys=True).encode()).hexdigest()[:16]


def _line_of(text: str, section: str, key: str | None = None) -> int | None:
    """1-based line of ``[section]`` (or of ``key`` inside it) in the raw TOML."""
    lines = text.splitlines()
    header = re.compile(
        r"^\s*\[\s*" + r"\s*\.\s*".join(map(re.escape, section.split("."))) + r"\s*\]"
    )
    start = next((i for i, line in enumerate(lines) if header.match(line)), None)
    if start is None:
        return None
    if key is None:
        return start + 1
    key_re = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
    for i in range(start + 1, len(lines)):
        if re.match(r"^\s*\[", lines[i]):
            break
        if key_re.match(lines[i]):
            return i + 1
    return start + 1


class _Checker:
    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.text = text

    def fail(self, section: str, key: str | None, message: str) -> StudyFileError:
        line = _line_of(self.text, section, key)
        where = f"{self.source}:{line}" if line else self.source
        field_name = f"{section}.{key}" if key else section
        return StudyFileError(f"{where}: {field_name}: {message}")

    def number(self, table: dict[str, Any], section: str, key: str) -> float:
        if key not in table:
            raise self.fail(section, None, f"missing {key!r}")
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(section, key, f"must be a number, got {value!r}")
        if not math.isfinite(value):
            raise self.fail(section, key, "must be finite")
        return float(value)

    def integer(
        self,
        table: dict[str, Any],
        key: str,
        default: int,
        minimum: int,
        section: str = "study",
    ) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(section, key, f"must be an integer, got {value!r}")
        if value < minimum:
            raise self.fail(section, key, f"must be at least {minimum}")
        return value


def load_study_file(path: str | Path) -> StudySpec:
    """Read and validate a study file; ``workdir`` comes back absolute."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StudyFileError(f"{path}: cannot read: {exc}") from None
    return parse_study(text, source=str(path), base_dir=path.resolve().parent)


def parse_study(text: str, *, source: str = "<study>", base_dir: Path | None = None) -> StudySpec:
    """Validate study TOML ``text``; relative ``workdir`` is resolved against ``base_dir``."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StudyFileError(f"{source}: not valid TOML: {exc}") from None
    check = _Checker(source, text)
    study = raw.get("study")
    if not isinstance(study, dict):
        raise StudyFileError(f"{source}: missing the [study] table")
    known = {
        "name", "metric", "direction", "max_trials", "parallel", "gpus_per_trial",
        "timeout_minutes", "seed", "algorithm", "command", "workdir", "max_attempts",
        "backend",
    }  # fmt: skip
    for key in study:
        if key not in known:
            raise check.fail("study", key, "unknown field")
    metric = study.get("metric")
    if not isinstance(metric, str) or not metric.strip():
        raise check.fail("study", "metric" if "metric" in study else None, "missing metric")
    name = study.get("name", Path(source).stem)
    if not isinstance(name, str) or not name.strip():
        raise check.fail("study", "name", "must be a non-empty string")
    direction = study.get("direction", "minimize")
    if direction not in DIRECTIONS:
        raise check.fail("study", "direction", f"must be one of {', '.join(DIRECTIONS)}")
    algorithm = study.get("algorithm", "tpe")
    if algorithm not in ALGORITHMS:
        raise check.fail("study", "algorithm", f"must be one of {', '.join(ALGORITHMS)}")
    command = study.get("command")
    if (
        not isinstance(command, list)
        or not command
        or not all(isinstance(part, str) for part in command)
    ):
        raise check.fail(
            "study", "command" if "command" in study else None, "command must be a list of strings"
        )
    workdir = study.get("workdir", ".")
    if not isinstance(workdir, str):
        raise check.fail("study", "workdir", "must be a string")
    timeout = study.get("timeout_minutes", 60)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise check.fail("study", "timeout_minutes", "must be a number above 0")
    backend = study.get("backend", "local")
    if backend not in BACKENDS:
        raise check.fail("study", "backend", f"must be one of {', '.join(BACKENDS)}")
    slurm = _parse_slurm(check, raw.get("slurm", {}))

    raw_params = raw.get("params")
    if not isinstance(raw_params, dict) or not raw_params:
        raise StudyFileError(f"{source}: no [params.NAME] tables")
    params = [_parse_param(check, name_, table) for name_, table in raw_params.items()]

    used = {m.group(1) for part in command for m in PLACEHOLDER.finditer(part)}
    names = {p.name for p in params}
    for unknown in sorted(used - names):
        raise check.fail("study", "command", f"placeholder {{{unknown}}} is not a parameter")
    for unused in sorted(names - used):
        raise check.fail(f"params.{unused}", None, "parameter is never used in the command")

    base = base_dir or Path.cwd()
    return StudySpec(
        name=name.strip(),
        metric=metric.strip(),
        command=list(command),
        workdir=str((base / workdir).resolve()),
        params=params,
        direction=direction,
        max_trials=check.integer(study, "max_trials", 20, 1),
        parallel=check.integer(study, "parallel", 1, 1),
        gpus_per_trial=check.integer(study, "gpus_per_trial", 0, 0),
        timeout_minutes=float(timeout),
        seed=check.integer(study, "seed", 0, 0),
        algorithm=algorithm,
        max_attempts=check.integer(study, "max_attempts", 2, 1),
        backend=backend,
        slurm=slurm,
    )


def _parse_slurm(check: _Checker, table: Any) -> dict[str, Any]:
    """The study's ``[slurm]`` table: per-trial resources and where they run."""
    if not isinstance(table, dict):
        raise check.fail("slurm", None, "must be a table")
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key in ("partition", "account", "qos"):
            if not isinstance(value, str):
                raise check.fail("slurm", key, "must be a string")
            out[key] = value
        elif key == "cpus_per_task":
            out[key] = check.integer(table, key, 1, 1, section="slurm")
        elif key == "mem":
            ok_int = isinstance(value, int) and not isinstance(value, bool) and value > 0
            if not ok_int and not (isinstance(value, str) and MEMORY.fullmatch(value)):
                raise check.fail("slurm", key, "must be a size like 16G or 4000M")
            out[key] = str(value)
        elif key == "extra_args":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise check.fail("slurm", key, "must be a list of strings")
            out[key] = list(value)
        else:
            raise check.fail("slurm", key, "unknown field")
    return out


def _parse_param(check: _Checker, name: str, table: Any) -> ParamSpec:
    section = f"params.{name}"
    if not isinstance(table, dict):
        raise check.fail("params", name, "must be a table [params.NAME]")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise check.fail(section, None, "parameter names are letters, digits and _")
    kind = table.get("type")
    if kind not in PARAM_TYPES:
        raise check.fail(
            section,
            "type" if "type" in table else None,
            f"unknown type {kind!r}; use one of {', '.join(PARAM_TYPES)}",
        )
    allowed = {"type", *_TYPE_KEYS[kind]}
    for key in table:
        if key not in allowed:
            raise check.fail(section, key, f"not a field of a {kind} parameter")
    if kind == "choice":
        options = table.get("options")
        if not isinstance(options, list) or not options:
            raise check.fail(section, "options", "options must be a non-empty list")
        for option in options:
            if isinstance(option, (dict, list)) or (
                isinstance(option, float) and not math.isfinite(option)
            ):
                raise check.fail(section, "options", f"option {option!r} is not a plain value")
        return ParamSpec(name=name, type=kind, options=tuple(options))
    if kind in ("normal", "lognormal"):
        mu = check.number(table, section, "mu")
        sigma = check.number(table, section, "sigma")
        if sigma <= 0:
            raise check.fail(section, "sigma", "sigma must be above 0")
        return ParamSpec(name=name, type=kind, mu=mu, sigma=sigma)
    low = check.number(table, section, "low")
    high = check.number(table, section, "high")
    if low >= high:
        raise check.fail(section, "low", f"low ({low:g}) must be below high ({high:g})")
    if kind == "loguniform" and low <= 0:
        raise check.fail(section, "low", "loguniform bounds must be above 0")
    q = None
    if kind == "quniform":
        q = check.number(table, section, "q")
        if q <= 0:
            raise check.fail(section, "q", "q must be above 0")
    if kind == "int" and (low != int(low) or high != int(high)):
        raise check.fail(section, "low", "int bounds must be whole numbers")
    return ParamSpec(name=name, type=kind, low=low, high=high, q=q)


def hyperopt_space(params: list[ParamSpec]) -> dict[str, Any]:
    """The hyperopt search space (a dict of ``hp`` nodes labelled by parameter name)."""
    from hyperopt import hp

    space: dict[str, Any] = {}
    for p in params:
        if p.type == "uniform":
            space[p.name] = hp.uniform(p.name, p.low, p.high)
        elif p.type == "loguniform":
            space[p.name] = hp.loguniform(p.name, math.log(p.low), math.log(p.high))
        elif p.type == "quniform":
            space[p.name] = hp.quniform(p.name, p.low, p.high, p.q)
        elif p.type == "int":
            space[p.name] = hp.uniformint(p.name, p.low, p.high)
        elif p.type == "choice":
            space[p.name] = hp.choice(p.name, list(range(len(p.options))))
        elif p.type == "normal":
            space[p.name] = hp.normal(p.name, p.mu, p.sigma)
        else:
            space[p.name] = hp.lognormal(p.name, p.mu, p.sigma)
    return space


def values_to_params(params: list[ParamSpec], vals: dict[str, float]) -> dict[str, Any]:
    """hyperopt's raw values -> plain Python parameter values (choice gives the option)."""
    out: dict[str, Any] = {}
    for p in params:
        raw = vals[p.name]
        if p.type == "choice":
            out[p.name] = p.options[int(raw)]
        elif p.type == "int":
            out[p.name] = round(float(raw))
        else:
            out[p.name] = float(raw)
    return out


def format_value(value: Any) -> str:
    """How a parameter value appears in argv: ``repr`` for floats keeps full precision."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def render_command(command: list[str], params: dict[str, Any]) -> list[str]:
    """Fill ``{name}`` placeholders; each element stays one argv element, never shell-parsed."""
    return [PLACEHOLDER.sub(lambda m: format_value(params[m.group(1)]), part) for part in command]
