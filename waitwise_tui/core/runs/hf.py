"""Hugging Face Trainer logs: ``trainer_state.json`` and the dicts the Trainer prints.

``trainer_state.json`` is rewritten whole at every save, so it is re-read whole when
its mtime, size or inode change; only log_history entries not emitted before become
points (a history that no longer starts with what was emitted means a reset).
``max_steps`` gives progress. The printed dict lines (``{'loss': 2.3, 'epoch': 0.1}``)
are parsed with ``ast.literal_eval`` after rewriting ``np.float64(x)``, ``nan`` and
``inf`` into literals it accepts; nothing is ever ``eval``-ed.
"""

from __future__ import annotations

import ast
import json
import math
import os
import re

from waitwise_tui.core.runs.keys import STEP_KEY_SET
from waitwise_tui.core.runs.model import Point, ReadUpdate, RunCandidate

STATE_FILE = "trainer_state.json"
CHECKPOINT_DIR = re.compile(r"^checkpoint-(\d+)$")
_NP_SCALAR = re.compile(r"\b(?:np|numpy)\.(?:float|int)(?:16|32|64)\(\s*([^()]*?)\s*\)")
_NAN_INF = re.compile(r"(?<=[:\[,(])(\s*)([-+]?)(nan|inf)\b")
_NAN_MARK = "'__nan__'"


def parse_dict_line(text: str) -> dict[str, float] | None:
    """The numeric items of a printed ``{'key': value, ...}`` dict, or None."""
    start = text.find("{'")
    end = text.rfind("}")
    if start < 0 or end < start:
        return None
    body = _NP_SCALAR.sub(r"\1", text[start : end + 1])
    body = _NAN_INF.sub(_nan_inf_literal, body)
    try:
        data = ast.literal_eval(body)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    out: dict[str, float] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            continue
        if value == _NAN_MARK[1:-1]:
            out[key] = math.nan
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = float(value)
    return out or None


def _nan_inf_literal(m: re.Match[str]) -> str:
    space, sign, word = m.groups()
    if word == "nan":
        return space + _NAN_MARK
    # 1e999 overflows to inf when parsed, so literal_eval accepts it.
    return f"{space}{sign}1e999"


def _numeric(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def newest_state_file(path: str) -> str:
    """The trainer_state.json to read for ``path``.

    ``path`` is the file itself, or a Trainer output directory: then the newest of its
    own ``trainer_state.json`` and those of its ``checkpoint-N`` folders, so the run
    keeps one stable path while checkpoints come and go.
    """
    if not os.path.isdir(path):
        return path
    own = os.path.join(path, STATE_FILE)
    best: tuple[int, int] | None = None
    best_path = own
    try:
        names = os.listdir(path)
    except OSError:
        return own
    for name in [""] + [n for n in names if CHECKPOINT_DIR.match(n)]:
        candidate = os.path.join(path, name, STATE_FILE) if name else own
        try:
            mtime = os.stat(candidate).st_mtime_ns
        except OSError:
            continue
        rank = (mtime, int(name.rsplit("-", 1)[1]) if name else -1)
        if best is None or rank > best:
            best, best_path = rank, candidate
    return best_path


class TrainerStateTail:
    """Tails a ``trainer_state.json`` by re-reading it whole when it changes.

    The candidate path may be an output directory (see ``newest_state_file``); a
    newer checkpoint's history extends the older one, so only new entries are emitted.
    """

    def __init__(self, candidate: RunCandidate) -> None:
        self.candidate = candidate
        self._sig: tuple[int, int, int, str] | None = None
        self._emitted: list[tuple[object, ...]] = []
        self._gone = False
        self._closed = False

    def poll(self) -> ReadUpdate:
        """Points of log_history entries added since the last poll."""
        update = ReadUpdate()
        if self._closed:
            return update
        path = newest_state_file(self.candidate.path)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            if not self._gone and self._sig is not None:
                update.gone = True
            self._gone = True
            return update
        except OSError as exc:
            update.error = f"cannot stat {path}: {exc.strerror or exc}"
            return update
        self._gone = False
        sig = (st.st_mtime_ns, st.st_size, st.st_ino, path)
        if sig == self._sig:
            return update
        try:
            with open(path, "rb") as fh:
                state = json.loads(fh.read().decode("utf-8", "replace"))
        except (OSError, ValueError, RecursionError):
            # Half-written by a save in progress: try again next poll.
            return update
        self._sig = sig
        if not isinstance(state, dict):
            return update
        history = state.get("log_history")
        entries = [e for e in history if isinstance(e, dict)] if isinstance(history, list) else []
        keys = [_entry_key(e) for e in entries]
        done = len(self._emitted)
        if keys[:done] != self._emitted:
            update.reset = True
            done = 0
        for entry in entries[done:]:
            update.points.extend(_entry_points(entry))
        self._emitted = keys
        step, total = state.get("global_step"), state.get("max_steps")
        if _numeric(step) and _numeric(total) and total > 0:
            update.progress = (float(step), float(total))
            update.finished = step >= total
        return update

    def close(self) -> None:
        """Stop tailing."""
        self._closed = True


def _entry_key(entry: dict) -> tuple[object, ...]:
    return (entry.get("step"), tuple(sorted(str(k) for k in entry)))


def _entry_points(entry: dict) -> list[Point]:
    step = entry.get("step")
    if not _numeric(step):
        return []
    return [
        Point(str(key), step, float(value))
        for key, value in entry.items()
        if _numeric(value) and str(key).lower() not in STEP_KEY_SET
    ]
