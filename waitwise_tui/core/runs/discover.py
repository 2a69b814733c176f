"""Finding runs on disk and telling log formats apart by their content.

``discover_runs`` scans a workspace (bounded in depth and entries, so the monitor can
repeat it every few seconds) or the paths the user gave. ``detect_format`` sniffs the
first bytes of a file; a file whose content is not a metric log is not a run. Sniff
results are cached by (size, mtime) so a rescan re-reads only files that changed.
"""

from __future__ import annotations

import csv
import json
import os
import re
import stat
from collections.abc import Sequence

from waitwise_tui.core.runs import trackers
from waitwise_tui.core.runs.hf import CHECKPOINT_DIR
from waitwise_tui.core.runs.keys import pick_step_key
from waitwise_tui.core.runs.model import ReadUpdate, RunCandidate
from waitwise_tui.core.runs.textlog import parse_text_lines
from waitwise_tui.core.runs.tfevents import is_event_file_name, starts_with_record

SNIFF_BYTES = 8192
# Text logs often start with set-up noise: look further for a first metric line.
TEXT_SNIFF_BYTES = 64 * 1024
MAX_DEPTH = 6
MAX_ENTRIES = 5000
SKIP_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__"})
_STATE_DIR = ".waitwise"
# Names whose text content is a job's output even before it prints a metric line.
_JOB_LOG = re.compile(r"^(?:nohup\.out|slurm-.*\.out|stdout\.log)$")
_LOG_NAME = re.compile(r"^(?:nohup\.out|slurm-.*\.out|.*\.log)$")
_CSV_RUN_NAMES = frozenset({"metrics.csv", "results.csv", "progress.csv"})

# path -> (inode, size, mtime_ns, format)
_cache: dict[str, tuple[int, int, int, str | None]] = {}


def _read_head(path: str, size: int) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read(size)
    except OSError:
        return None


def _is_text(sample: bytes) -> bool:
    return b"\x00" not in sample


def _complete_lines(sample: bytes, whole: bool) -> list[str]:
    lines = sample.replace(b"\r", b"\n").split(b"\n")
    if not whole:
        lines.pop()
    return [ln.decode("utf-8", "replace") for ln in lines if ln.strip()]


def _looks_trainer_state(sample: bytes, name: str) -> bool:
    head = sample.lstrip()
    if not head.startswith(b"{"):
        return False
    return b'"log_history"' in sample or (
        name == "trainer_state.json" and b'"global_step"' in sample
    )


def _looks_jsonl(lines: list[str]) -> bool:
    for line in lines[:5]:
        try:
            obj = json.loads(line)
        except ValueError:
            return False
        if isinstance(obj, dict) and any(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in obj.values()
        ):
            return True
        if not isinstance(obj, dict):
            return False
    return False


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _looks_csv(lines: list[str]) -> bool:
    if not lines:
        return False
    try:
        rows = list(csv.reader(lines[:6]))
    except csv.Error:
        return False
    header = [h.strip() for h in rows[0]]
    if len(header) < 2 or any(not h or _number(h) for h in header):
        return False
    data = [r for r in rows[1:] if len(r) == len(header)]
    if len(data) != len(rows) - 1:
        return False
    numeric = any(_number(c) for r in data for c in r)
    return numeric or (not data and pick_step_key(header) is not None)


def _looks_text_metrics(lines: list[str]) -> bool:
    update = ReadUpdate()
    parse_text_lines(lines, update)
    return bool(update.points) or update.progress is not None


def detect_format(path: str | os.PathLike, *, lenient: bool = False) -> str | None:
    """The log format of ``path`` by content: tfevents, csv, trainer_state, jsonl, text.

    A directory holding event files is ``tfevents``. With ``lenient`` (a path the user
    named) any non-empty text file is at least ``text``; otherwise a text file counts
    only if it looks like a job's output by name or shows a metric line early on.
    Never raises; unreadable or unrecognised content gives None.
    """
    path = os.fspath(path)
    try:
        if os.path.isdir(path):
            return "tfevents" if any(is_event_file_name(n) for n in os.listdir(path)) else None
        if not os.path.isfile(path):
            # Opening a FIFO or device could block or never end.
            return None
        size = os.path.getsize(path)
    except OSError:
        return None
    name = os.path.basename(path)
    sample = _read_head(path, SNIFF_BYTES)
    if not sample:
        return None
    tracker = trackers.sniff(path, sample)
    if tracker is not None:
        return tracker
    if len(sample) >= 16 and starts_with_record(sample):
        return "tfevents"
    if not _is_text(sample):
        return None
    whole = size <= len(sample)
    if _looks_trainer_state(sample, name):
        return "trainer_state"
    lines = _complete_lines(sample, whole)
    if _looks_jsonl(lines):
        return "jsonl"
    if _looks_csv(lines):
        return "csv"
    if lenient or _JOB_LOG.match(name):
        return "text"
    if size > len(sample):
        more = _read_head(path, TEXT_SNIFF_BYTES)
        if more is None or not _is_text(more):
            return None
        lines = _complete_lines(more, size <= len(more))
    return "text" if _looks_text_metrics(lines) else None


def _cached_format(path: str, st: os.stat_result) -> str | None:
    hit = _cache.get(path)
    if hit is not None and hit[0] == st.st_ino:
        if hit[1:3] == (st.st_size, st.st_mtime_ns):
            return hit[3]
        # A log that was recognised and only grew keeps its format: no re-sniff.
        if hit[3] is not None and st.st_size >= hit[1]:
            return hit[3]
    fmt = detect_format(path)
    if len(_cache) > 4 * MAX_ENTRIES:
        _cache.clear()
    _cache[path] = (st.st_ino, st.st_size, st.st_mtime_ns, fmt)
    return fmt


def _wanted_file(name: str) -> str | None:
    """The format a scan expects for a file name, or None to ignore the file."""
    if name in _CSV_RUN_NAMES:
        return "csv"
    if name == "trainer_state.json":
        return "trainer_state"
    if name.endswith(".jsonl"):
        return "jsonl"
    if _LOG_NAME.match(name):
        return "text"
    if trackers.wanted(name):
        return "store"
    return None


class _Scan:
    def __init__(self, root: str) -> None:
        self.root = root
        self.entries = 0
        self.files: list[tuple[str, str]] = []
        self.event_dirs: list[str] = []

    def walk(self, top: str, depth: int, state: str = "") -> None:
        """Collect (path, format) of run files under ``top``.

        ``state`` is "" outside ``.waitwise``, "state" directly in it, "jobs" in its
        jobs folder, "job" in one job's folder, "demo" under its demo folder.
        """
        if depth > MAX_DEPTH or self.entries >= MAX_ENTRIES:
            return
        try:
            with os.scandir(top) as it:
                entries = list(it)
        except OSError:
            return
        self.entries += len(entries)
        entries.sort(key=lambda e: e.name)
        if state == "" and self._file_store_run(top, entries):
            return
        has_events = False
        dirs: list[tuple[str, str]] = []
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            name = entry.name
            if is_dir:
                sub = self._sub_state(state, name)
                if sub is not None:
                    dirs.append((entry.path, sub))
                continue
            if state in ("state", "jobs"):
                continue
            if state == "job":
                if name == "stdout.log":
                    self._consider(entry)
                continue
            if is_event_file_name(name):
                has_events = True
            elif _wanted_file(name) is not None:
                self._consider(entry)
        if has_events:
            self.event_dirs.append(top)
        for path, sub in dirs:
            self.walk(path, depth + 1, sub)

    def _file_store_run(self, top: str, entries: list[os.DirEntry]) -> bool:
        """Record ``top`` if it is a tracker's run folder (MLflow file store, W&B)."""
        names, dirs = set(), set()
        for entry in entries:
            try:
                (dirs if entry.is_dir(follow_symlinks=False) else names).add(entry.name)
            except OSError:
                continue
        if trackers.is_file_store_run(names, dirs):
            self.files.append((top, "mlruns"))
            return True
        records = [e for e in entries if e.name in names and e.name.endswith(".wandb")]
        if not records:
            return False
        # A W&B run folder: its record file is the run; files/output.log and
        # logs/debug.log inside are wandb's copies, not runs of their own.
        for entry in records:
            self._consider(entry)
        return True

    @staticmethod
    def _sub_state(state: str, name: str) -> str | None:
        if state == "":
            if name == _STATE_DIR:
                return "state"
            if name in SKIP_DIRS or name.startswith("."):
                return None
            return ""
        if state == "state":
            return {"demo": "demo", "jobs": "jobs"}.get(name)
        if state == "jobs":
            return "job"
        if state == "demo":
            return None if name in SKIP_DIRS else "demo"
        return None

    def _consider(self, entry: os.DirEntry) -> None:
        try:
            st = entry.stat(follow_symlinks=True)
        except OSError:
            return
        if st.st_size == 0 or not stat.S_ISREG(st.st_mode):
            return
        fmt = _cached_format(entry.path, st)
        if fmt is not None and fmt != "tfevents":
            self.files.append((entry.path, fmt))


def _trainer_output_dirs(files: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Replace trainer_state.json files by their Trainer output directory (one run each).

    ``out/checkpoint-500/trainer_state.json`` and ``out/trainer_state.json`` are all
    the run ``out``; its tail follows the newest of them.
    """
    out: list[tuple[str, str]] = []
    dirs: dict[str, None] = {}
    for path, fmt in files:
        if fmt != "trainer_state":
            out.append((path, fmt))
            continue
        parent = os.path.dirname(path)
        if CHECKPOINT_DIR.match(os.path.basename(parent)):
            parent = os.path.dirname(parent)
        dirs[parent] = None
    out.extend((d, "trainer_state") for d in dirs)
    return out


def _run_name(path: str, fmt: str, root: str) -> str:
    try:
        rel = os.path.relpath(path, root)
    except ValueError:
        rel = path
    if rel.startswith(".." + os.sep) or rel == "..":
        rel = path
    rel = rel.replace(os.sep, "/")
    if os.path.isdir(path):
        return rel if rel != "." else os.path.basename(os.path.abspath(path))
    head, _, base = rel.rpartition("/")
    if fmt == "trainer_state":
        parts = head.split("/") if head else []
        if parts and CHECKPOINT_DIR.match(parts[-1]):
            parts.pop()
        return (
            "/".join(parts) if parts else os.path.basename(os.path.dirname(os.path.abspath(path)))
        )
    if base == "metrics.csv" and head:
        return head
    if fmt == "wandb":
        return trackers.run_folder_name(rel)
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{head}/{stem}" if head else stem


def _unique(cands: list[RunCandidate]) -> list[RunCandidate]:
    counts: dict[str, int] = {}
    for c in cands:
        counts[c.name] = counts.get(c.name, 0) + 1
    out = []
    seen: set[str] = set()
    for c in cands:
        name = c.name
        if counts[name] > 1:
            name = f"{name} ({os.path.basename(c.path)})"
        base, n = name, 2
        while name in seen:
            name = f"{base} #{n}"
            n += 1
        seen.add(name)
        out.append(RunCandidate(c.path, c.format, name, c.key))
    return out


def _scan_found(top: str) -> list[tuple[str, str]]:
    """(path, format) of the runs under ``top``; event directories come last."""
    scan = _Scan(top)
    scan.walk(top, 0)
    found = _trainer_output_dirs(scan.files)
    found.extend((d, "tfevents") for d in dict.fromkeys(scan.event_dirs))
    return found


def discover_runs(
    root: str | os.PathLike, paths: Sequence[str | os.PathLike] = ()
) -> list[RunCandidate]:
    """Runs under ``root``, or in ``paths`` (files or directories) when given.

    Names are paths relative to ``root`` (for a named path outside it, relative to
    that path's parent), without the file suffix; they are made unique.
    """
    root_s = os.path.abspath(os.fspath(root))
    # (path, format, the directory its name is relative to)
    found: list[tuple[str, str, str]] = []
    if paths:
        for p in paths:
            path = os.path.abspath(os.fspath(p))
            base = root_s if _inside(path, root_s) else os.path.dirname(path)
            if os.path.isdir(path):
                found.extend((f, fmt, base) for f, fmt in _scan_found(path))
            else:
                fmt = detect_format(path, lenient=True)
                if fmt is not None:
                    found.append((path, fmt, base))
    else:
        found.extend((f, fmt, root_s) for f, fmt in _scan_found(root_s))
        found.extend((f, "trackio", root_s) for f in _user_trackio_stores(root_s))
    cands: list[RunCandidate] = []
    seen: set[str] = set()
    for path, fmt, base in found:
        if path in seen:
            continue
        seen.add(path)
        store_runs = trackers.expand(path, fmt)
        if store_runs is None:
            cands.append(RunCandidate(path, fmt, _run_name(path, fmt, base)))
        else:
            cands.extend(RunCandidate(path, fmt, name, key) for key, name in store_runs)
    cands.sort(key=lambda c: c.name)
    return _unique(cands)


def _user_trackio_stores(root: str) -> list[str]:
    """trackio's own project databases (see ``trackiodb.trackio_dir``), found as MLflow
    stores are in a workspace: by content; those under ``root`` are scanned already."""
    out = []
    for path in trackers.user_stores():
        path = os.path.abspath(path)
        if _inside(path, root):
            continue
        try:
            st = os.stat(path)
        except OSError:
            continue
        if st.st_size and _cached_format(path, st) == "trackio":
            out.append(path)
    return out


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)
