"""``waitwise-tui tune``: run a study headless (``run``) or print studies (``status``).

``tune run`` drives the study until it has ``max_trials`` ended trials, printing one
line per finished trial; running it again resumes from the workspace database. Jobs
keep running if it is interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace

from waitwise_tui.commands import CliError, add_workspace_argument, check_workspace
from waitwise_tui.config import Settings
from waitwise_tui.core.events import TRIAL_FINISHED
from waitwise_tui.core.text import display
from waitwise_tui.core.workspace import Workspace

POLL_SECONDS = 0.2


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    run_p = sub.add_parser("run", help="run (or resume) a study file until its trials are done")
    run_p.add_argument("study", metavar="STUDY.toml")
    run_p.add_argument("--max-trials", type=_positive_int, metavar="N")
    run_p.add_argument("--parallel", type=_positive_int, metavar="K")
    run_p.add_argument(
        "--fork", action="store_true", help="start a new study if the parameter space changed"
    )
    add_workspace_argument(run_p)
    status_p = sub.add_parser("status", help="print studies, trials and the best trial")
    status_p.add_argument("--study", metavar="NAME", help="only this study")
    status_p.add_argument("--json", action="store_true", help="print JSON")
    add_workspace_argument(status_p)


def run(args: argparse.Namespace) -> int:
    check_workspace(args.workspace)
    if args.action == "run":
        return _run(args)
    return _status(args)


def _run(args: argparse.Namespace) -> int:
    from waitwise_tui.core.tuner.service import (
        FINISHED,
        StudyChanged,
        best_trial,
        get_study,
        list_trials,
        open_service,
        open_study,
    )
    from waitwise_tui.core.tuner.space import StudyFileError, load_study_file

    try:
        spec = load_study_file(args.study)
    except StudyFileError as exc:
        raise CliError(str(exc)) from None
    if args.max_trials is not None:
        spec = replace(spec, max_trials=args.max_trials)
    if args.parallel is not None:
        spec = replace(spec, parallel=args.parallel)
    settings, _problem = Settings.load()
    service = open_service(Workspace(args.workspace), settings.runner_options())
    try:
        study = open_study(service.conn, spec, str(args.study), fork=args.fork)
    except StudyChanged as exc:
        raise CliError(str(exc)) from None
    ended = sum(
        1 for t in list_trials(service.conn, study.id) if t.state not in ("queued", "running")
    )
    # Study names, metric names, trial parameters and messages come from the study file
    # and the trials: every one is shown through display().
    name = display(study.name)
    print(f"study {name}: {ended}/{study.spec.max_trials} trials done", flush=True)
    try:
        while True:
            for event in service.tick([study.id]):
                if event.kind != TRIAL_FINISHED or event.data.get("study") != study.name:
                    continue
                ended += 1
                current = get_study(service.conn, study.id) or study
                best = best_trial(current, list_trials(service.conn, study.id))
                best_text = f" | best {best.value:.4g} (trial {best.number})" if best else ""
                print(
                    f"[{ended}/{current.spec.max_trials}] {display(event.message)}{best_text}",
                    flush=True,
                )
            current = get_study(service.conn, study.id)
            if current is None or current.state != "active":
                break
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        print("interrupted; running trials go on, run the same command to resume", file=sys.stderr)
        return 130
    if current is not None and current.state == FINISHED:
        best = best_trial(current, list_trials(service.conn, study.id))
        if best is not None:
            params = " ".join(f"{display(k)}={display(v)}" for k, v in best.params.items())
            metric = display(current.spec.metric)
            print(f"done: best {metric}={best.value:.6g} trial {best.number} {params}")
        else:
            print("done: no trial produced a value")
    else:
        print(f"study {name} is {current.state if current else 'gone'}; stopping")
    return 0


def _status(args: argparse.Namespace) -> int:
    from waitwise_tui.core.db import connect
    from waitwise_tui.core.tuner.service import find_study, list_studies, study_summary

    ws = Workspace(args.workspace)
    studies: list[dict[str, object]] = []
    if ws.db_path.exists():
        conn = connect(ws.db_path)
        if args.study:
            found = find_study(conn, args.study)
            if found is None:
                raise CliError(f"no study named {args.study!r}")
            chosen = [found]
        else:
            chosen = list_studies(conn)
        studies = [study_summary(conn, s) for s in chosen]
    elif args.study:
        raise CliError(f"no study named {args.study!r}")
    if args.json:
        print(json.dumps({"studies": studies}, indent=2))
        return 0
    if not studies:
        print("no studies")
    for summary in studies:
        trials = summary["trials"]
        assert isinstance(trials, list)
        best = summary["best"]
        best_text = (
            f"best {best['value']:.6g} (trial {best['id']})"
            if isinstance(best, dict)
            else "no result yet"
        )
        print(
            f"{display(summary['name'])} [{display(summary['state'])}] {len(trials)} trials,"
            f" {best_text}"
        )
        for trial in trials:
            value = "" if trial["value"] is None else f"{trial['value']:.6g}"
            state = display(trial["state"])
            print(f"  #{trial['id']:<4} {state:<9} {value:<12} {display(trial['params'])}")
    return 0
