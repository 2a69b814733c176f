"""Hostile outside text through every CLI subcommand, each run as a real process.

Issue: untrusted text never runs, never styles, never moves the cursor. Metric and
column names, CSV cells, trial parameters, job commands and output, test ids and
output, BibTeX titles, note names, process command lines and Slurm's answers come from
``tests/hostile.py``'s corpus. Every run's stdout and stderr must be valid UTF-8 with no
raw control character (``assert_inert``), no payload may have run (no canary file),
the escape must be visible (``\\x1b[2J`` printed literally) and ``--json`` must parse.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hostile import assert_inert, corpus, identifier_corpus

CLEAR = "lo\x1b[2Jss"  # in the corpus; shown as the next line says
SHOWN = "lo\\x1b[2Jss"
C1_SHOWN = "\\x9b2J"
BIDI_SHOWN = "rtl\\u202eevil"
HOSTILE_NAME = "n\x1b[2J\x1b]8;;x\x07\u202e\x9b"  # fits in a file name
HOSTILE_NAME_SHOWN = "n\\x1b[2J\\x1b]8;;x\\x07\\u202e\\x9b"


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


def waitwise(
    tmp: Path,
    *args: str,
    env: dict[str, str] | None = None,
    argv: list[str] | None = None,
) -> Ran:
    """Run ``waitwise-tui ARGS`` (or ``argv``) and check its output is inert."""
    full_env = {**os.environ, "WAITWISE_CONFIG_DIR": str(tmp / "config")}
    full_env.pop("WAITWISE_FAKE_NVML", None)
    full_env.update(env or {})
    proc = subprocess.run(
        argv or [sys.executable, "-m", "waitwise_tui", *args],
        cwd=tmp,
        env=full_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
        check=False,
    )
    # Strict decoding: a lone C1 byte or an undecodable file name would fail here.
    ran = Ran(proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8"))
    assert_inert(tmp, ran.out)
    assert_inert(tmp, ran.err)
    return ran


def parsed(ran: Ran) -> dict:
    assert ran.code == 0, ran.err
    return json.loads(ran.out)


def one_line_error(ran: Ran) -> str:
    assert ran.code == 2, (ran.out, ran.err)
    assert ran.err.count("\n") == 1, ran.err
    return ran.err


# -- runs -------------------------------------------------------------------------------


def test_runs_metric_names_and_run_dir(tmp_path: Path) -> None:
    hostile = corpus(tmp_path)
    ws = tmp_path / "ws"
    run = ws / HOSTILE_NAME
    run.mkdir(parents=True)
    with open(run / "metrics.jsonl", "w", encoding="utf-8") as handle:
        for step in (1, 2, 3):
            values = {name: step * 0.5 for name in hostile}
            values[CLEAR] = float("nan") if step == 2 else step  # an alert names it
            handle.write(json.dumps({"step": step, **values}) + "\n")
    names = identifier_corpus(tmp_path)
    with open(run / "metrics.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", *names])
        for step in (1, 2):
            writer.writerow([step, *(step * 0.25 for _ in names)])

    text = waitwise(tmp_path, "runs", "-w", str(ws))
    assert text.code == 0, text.err
    assert SHOWN in text.out and C1_SHOWN in text.out and BIDI_SHOWN in text.out
    assert HOSTILE_NAME_SHOWN in text.out  # the run's name and path
    assert f"! nan: {SHOWN}" in text.out

    doc = parsed(waitwise(tmp_path, "runs", "-w", str(ws), "--json"))
    by_format = {run["format"]: run for run in doc["runs"]}
    assert set(by_format["jsonl"]["metrics"]) == set(hostile)  # data kept exactly
    assert CLEAR in by_format["csv"]["metrics"]  # the CSV reader tidies some names
    assert HOSTILE_NAME in by_format["jsonl"]["path"]


def test_runs_bad_arguments_are_quoted_inert(tmp_path: Path) -> None:
    err = one_line_error(waitwise(tmp_path, "runs", str(tmp_path / f"{CLEAR}.jsonl")))
    assert "no such file" in err and SHOWN in err
    ran = waitwise(tmp_path, "runs", f"--{CLEAR}")  # argparse quotes it
    assert ran.code == 2 and SHOWN in ran.err
    # The TUI waits for a path that does not exist yet (issue #15): no error to check.


# -- data -------------------------------------------------------------------------------


@pytest.mark.slow  # two runs that import pandas
def test_data_column_names_cells_and_file_name(tmp_path: Path) -> None:
    names = identifier_corpus(tmp_path)
    path = tmp_path / f"{HOSTILE_NAME}.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*names, "x"])
        for i in range(len(names)):
            writer.writerow([*(names[(i + j) % len(names)] for j in range(len(names))), i])
    ws = tmp_path / "ws"
    ws.mkdir()

    text = waitwise(tmp_path, "data", str(path), "-w", str(ws))
    assert text.code == 0, text.err
    assert SHOWN in text.out and C1_SHOWN in text.out and HOSTILE_NAME_SHOWN in text.out

    ran = waitwise(tmp_path, "data", str(path), "--json", "--save", "-w", str(ws))
    doc = parsed(ran)
    assert [c["name"] for c in doc["columns"]] == [*names, "x"]
    assert doc["path"] == str(path)
    assert "saved" in ran.err

    # Data tests generated from the saved profile: the file names and diff are shown inert.
    (profile,) = (ws / ".waitwise" / "profiles").glob("*.json")
    project = tmp_path / "proj"
    project.mkdir()
    ran = waitwise(tmp_path, "test", "generate", str(profile), "--project", str(project))
    assert ran.code == 0, ran.err
    again = waitwise(
        tmp_path,
        "test",
        "generate",
        str(profile),
        "--project",
        str(project),
        "--null-tolerance",
        "0.5",
    )
    assert again.code == 1 and "diff above" in again.err


@pytest.mark.slow
def test_data_missing_file_is_quoted_inert(tmp_path: Path) -> None:
    err = one_line_error(waitwise(tmp_path, "data", str(tmp_path / f"{CLEAR}.csv")))
    assert "no such file" in err and SHOWN in err


# -- tune -------------------------------------------------------------------------------

TRIAL = (
    "import json, os, sys\n"
    "sys.stdout.write(' '.join(sys.argv[1:]))\n"
    "with open(os.environ['WAITWISE_RESULT'], 'w') as f:\n"
    "    json.dump({'m': 0.5}, f)\n"
)


def _study(tmp: Path, values: list[str]) -> Path:
    placeholders = [f"{{p{i}}}" for i in range(len(values))]
    lines = [
        "[study]",
        f"name = {json.dumps(CLEAR + ' study')}",
        'metric = "m"',
        "max_trials = 1",
        "parallel = 1",
        'algorithm = "random"',
        f"command = {json.dumps(['python', '-c', TRIAL, *placeholders])}",
        'workdir = "."',
    ]
    for i, value in enumerate(values):
        # JSON string escapes (\u001b, \n, \") are valid TOML basic-string escapes.
        lines += [f"[params.p{i}]", 'type = "choice"', f"options = [{json.dumps(value)}]"]
    path = tmp / f"{HOSTILE_NAME}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow  # `tune run` imports hyperopt (about 2 s)
def test_tune_trial_parameters(tmp_path: Path) -> None:
    values = [v for v in corpus(tmp_path) if "\x00" not in v]  # argv cannot hold NUL
    study = _study(tmp_path, values)
    ws = ["-w", str(tmp_path)]

    ran = waitwise(tmp_path, "tune", "run", str(study), *ws)
    assert ran.code == 0, ran.err
    assert "[1/1]" in ran.out and "done: best m=0.5" in ran.out
    assert SHOWN in ran.out and C1_SHOWN in ran.out and BIDI_SHOWN in ran.out

    status = waitwise(tmp_path, "tune", "status", *ws)
    assert status.code == 0 and SHOWN in status.out
    (summary,) = parsed(waitwise(tmp_path, "tune", "status", "--json", *ws))["studies"]
    assert summary["name"] == CLEAR + " study"
    assert summary["best"]["params"] == {f"p{i}": v for i, v in enumerate(values)}
    (job,) = parsed(waitwise(tmp_path, "jobs", "list", "--json", *ws))["jobs"]
    assert job["argv"][3:] == values  # passed as argv words, never shell-parsed

    err = one_line_error(waitwise(tmp_path, "tune", "status", "--study", CLEAR, *ws))
    assert "\\x1b[2J" in err
    missing = tmp_path / f"{CLEAR}.toml"
    assert SHOWN in one_line_error(waitwise(tmp_path, "tune", "run", str(missing), *ws))
    ran = waitwise(tmp_path, "tune", "run", str(study), "--max-trials", CLEAR, *ws)
    assert ran.code == 2 and "\\x1b[2J" in ran.err


# -- jobs -------------------------------------------------------------------------------

ECHO = (
    "import json, sys\n"
    "out = sys.stdout.buffer\n"
    "for text in json.loads(sys.argv[-1]):\n"
    "    out.write(text.encode('utf-8', 'surrogatepass') + b'\\n')\n"
    "out.write(b'tqdm 10%\\r tqdm 20%\\r\\n')\n"
    "out.write('caf\\u00e9 '.encode() + b'\\xff bad byte\\n')\n"
)


@pytest.mark.slow
def test_jobs_commands_and_output(tmp_path: Path) -> None:
    hostile = corpus(tmp_path)
    words = [v for v in hostile if "\x00" not in v]
    ws = ["-w", str(tmp_path)]
    command = [sys.executable, "-c", ECHO, *words, json.dumps(hostile)]

    ran = waitwise(tmp_path, "jobs", "submit", *ws, "--", *command)
    assert ran.code == 0 and ran.out.startswith("job 1 "), ran.err
    logs = waitwise(tmp_path, "jobs", "logs", "1", "--follow", *ws)
    assert logs.code == 0, logs.err
    assert SHOWN in logs.out and C1_SHOWN in logs.out and "nul\\x00byte" in logs.out
    assert "new\nline" in logs.out  # job output keeps its lines
    assert "tqdm 10%\\r tqdm 20%\n" in logs.out  # CR LF ends a line
    assert "café \\xff bad byte\n" in logs.out

    ran = waitwise(tmp_path, "jobs", "submit", "--name", CLEAR, *ws, "--", sys.executable, "-V")
    assert ran.code == 0, ran.err
    listing = waitwise(tmp_path, "jobs", "list", *ws)
    assert listing.code == 0 and SHOWN in listing.out and C1_SHOWN in listing.out
    jobs = parsed(waitwise(tmp_path, "jobs", "list", "--json", *ws))["jobs"]
    assert jobs[0]["argv"] == command and jobs[1]["name"] == CLEAR


SQUEUE = """\
import sys
if "--fail" in open(sys.argv[0] + ".mode").read():
    sys.stderr.write("squeue: error: lo\\x1b[2Jss \\x1b]52;c;SEVBQ0tFRA==\\x07\\n")
    sys.exit(1)
rows = [
    "101|PENDING|Resources\\x1b[2J|0:00|1:00:00|(null)|gres:gpu:1|gpu|me|(null)|lo\\x1b[2Jss",
    "102|RUNNING|None|1:02|1:00:00|node\\x1b]8;;x\\x07\\u202e|N/A|gpu|me|(null)|a|b\\x9b2J",
]
sys.stdout.write("\\n".join(rows) + "\\n")
"""


def test_jobs_cluster_shows_slurm_answers_inert(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    squeue = bin_dir / "squeue"
    squeue.write_text(f"#!{sys.executable}\n{SQUEUE}", encoding="utf-8")
    squeue.chmod(0o755)
    mode = bin_dir / "squeue.mode"
    mode.write_text("ok")
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    ws = ["-w", str(tmp_path)]

    ran = waitwise(tmp_path, "jobs", "cluster", *ws, env=env)
    assert ran.code == 0, ran.err
    assert SHOWN in ran.out and "(Resources\\x1b[2J)" in ran.out
    assert "on node\\x1b]8;;x\\x07\\u202e" in ran.out and "a|b\\x9b2J" in ran.out
    rows = parsed(waitwise(tmp_path, "jobs", "cluster", "--json", *ws, env=env))["jobs"]
    assert [r["name"] for r in rows] == [CLEAR, "a|b\x9b2J"]

    mode.write_text("--fail")
    assert SHOWN in one_line_error(waitwise(tmp_path, "jobs", "cluster", *ws, env=env))


# -- test -------------------------------------------------------------------------------


@pytest.mark.slow  # three pytest runs
def test_test_ids_and_output(tmp_path: Path) -> None:
    hostile = corpus(tmp_path)
    project = tmp_path / "proj"
    project.mkdir()
    (project / "test_hostile.py").write_text(
        "import json, sys\n"
        "import pytest\n"
        f"CORPUS = json.loads({json.dumps(json.dumps(hostile))})\n"
        "@pytest.mark.parametrize('text', CORPUS, ids=CORPUS)\n"
        "def test_hostile(text):\n"
        "    sys.stdout.write(text)\n"
        "    sys.stderr.write(text)\n"
        "    assert False, text\n",
        encoding="utf-8",
    )
    # The project's pytest loads only waitwise's plugin: a third of the start-up time.
    env = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    ran = waitwise(tmp_path, "test", "--project", str(project), env=env)
    assert ran.code == 1, ran.err
    assert SHOWN in ran.out and C1_SHOWN in ran.out and "FAILED: " in ran.out
    assert f"{len(hostile)} failed" in ran.out

    ran = waitwise(tmp_path, "test", "--project", str(project), "--json", env=env)
    assert ran.code == 1, ran.err
    events = [json.loads(line) for line in ran.out.splitlines()]
    results = [e for e in events if e["event"] == "result"]
    assert len(results) == len(hostile) and events[-1]["event"] == "finished"
    assert any(CLEAR in e["message"] for e in results)

    ran = waitwise(tmp_path, "test", "--project", str(project), "--", f"--{CLEAR}", env=env)
    assert ran.code == 4 and SHOWN in ran.err  # pytest's usage error, its log tail shown


# -- alt --------------------------------------------------------------------------------


@pytest.mark.slow
def test_alt_bibtex_titles(tmp_path: Path) -> None:
    titles = [t for t in corpus(tmp_path) if "{" not in t and "}" not in t and "\\" not in t]
    assert CLEAR in titles
    bib = tmp_path / f"{HOSTILE_NAME}.bib"
    bib.write_text(
        "".join(
            f"@misc{{k{i}, title={{{t}}}, author={{{t}}}, doi={{10.1/{i}}}}}\n"
            for i, t in enumerate(titles)
        )
        + "@misc{broken, title={lo\x1b[2Jss\n",
        encoding="utf-8",
    )
    ws = ["-w", str(tmp_path)]
    ran = waitwise(tmp_path, "alt", "import", str(bib), *ws)
    assert ran.code == 0, ran.err
    assert "1 skipped" in ran.out

    listing = waitwise(tmp_path, "alt", "list", *ws)
    assert listing.code == 0 and SHOWN in listing.out and C1_SHOWN in listing.out
    items = parsed(waitwise(tmp_path, "alt", "list", "--json", *ws))["items"]
    assert CLEAR in {item["title"] for item in items}
    ran = waitwise(tmp_path, "alt", "export", "--bibtex", *ws)
    assert ran.code == 0 and SHOWN in ran.out, ran.err

    entry = "@misc{x, title={lo\x1b[2Jss added}, doi={10.1/x}}"
    ran = waitwise(tmp_path, "alt", "add", entry, *ws)
    assert ran.code == 0 and "lo\\x1b[2Jss added" in ran.out, ran.err
    assert SHOWN in one_line_error(waitwise(tmp_path, "alt", "add", CLEAR, *ws))


# -- notes ------------------------------------------------------------------------------


def test_notes_names_and_text(tmp_path: Path) -> None:
    notes_dir = tmp_path / ".waitwise" / "notes"
    notes_dir.mkdir(parents=True)
    names = [n for n in identifier_corpus(tmp_path) if "/" not in n]
    for name in names:
        (notes_dir / f"{name}.md").write_text(f"body {name}\n", encoding="utf-8")
    (notes_dir / b"raw\xff.md".decode("utf-8", "surrogateescape")).write_text("x")
    ws = ["-w", str(tmp_path)]

    ran = waitwise(tmp_path, "notes", "add", "pasted lo\x1b[2Jss line", *ws)
    assert ran.code == 0, ran.err
    listing = waitwise(tmp_path, "notes", "list", *ws)
    assert listing.code == 0 and SHOWN in listing.out and "raw\\xff" in listing.out
    listed = parsed(waitwise(tmp_path, "notes", "list", "--json", *ws))["notes"]
    assert set(names) <= {note["name"] for note in listed}
    report = waitwise(tmp_path, "notes", "export", *ws)
    assert report.code == 0 and "pasted lo\\x1b[2Jss line" in report.out
    assert f"body {SHOWN}" in report.out


# -- gpu and demo -----------------------------------------------------------------------

RUN_MAIN = (
    "import json, sys\nfrom waitwise_tui.cli import main\nsys.exit(main(json.loads(sys.argv[1])))"
)


def test_gpu_process_command_lines_and_env(tmp_path: Path) -> None:
    words = [v for v in corpus(tmp_path) if "\x00" not in v]
    env = {"WAITWISE_FAKE_NVML": "two", "CUDA_VISIBLE_DEVICES": CLEAR}
    for extra in ([], ["--json"]):
        # The fake NVML reports this very process on GPU 0: its command line is hostile.
        args = json.dumps(["gpu", "-w", str(tmp_path), *extra])
        ran = waitwise(tmp_path, argv=[sys.executable, "-c", RUN_MAIN, args, *words], env=env)
        assert ran.code == 0, ran.err
        if extra:
            doc = json.loads(ran.out)
            assert doc["nvml"]["cuda_visible_devices"] == CLEAR
        else:
            assert f"CUDA_VISIBLE_DEVICES={SHOWN}" in ran.out and C1_SHOWN in ran.out


def test_demo_path(tmp_path: Path) -> None:
    ws = tmp_path / HOSTILE_NAME
    ws.mkdir()
    ran = waitwise(tmp_path, "demo", "--seconds", "0.3", "-w", str(ws))
    assert ran.code == 0, ran.err
    assert HOSTILE_NAME_SHOWN in ran.out
    pid = int(ran.out.split("(pid ", 1)[1].split(")", 1)[0])
    with contextlib.suppress(ProcessLookupError):  # the demo this test started: stop it
        os.kill(pid, signal.SIGTERM)


@pytest.mark.parametrize("subcommand", ["notes", "tune"])
def test_missing_workspace_is_quoted_inert(tmp_path: Path, subcommand: str) -> None:
    action = {"notes": "list", "tune": "status"}[subcommand]
    err = one_line_error(waitwise(tmp_path, subcommand, action, "-w", str(tmp_path / CLEAR)))
    assert "\\x1b[2J" in err
