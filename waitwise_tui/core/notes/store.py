"""Markdown notes store: files in ``.waitwise/notes/``, templates, search, journal, export.

Notes are plain ``NAME.md`` files; the daily note is ``YYYY-MM-DD.md``. Every write is
atomic (core/atomic.py). A save checks the file on disk first: if it changed since it
was read, the disk version is kept as a conflict copy before the buffer is written, so
no text is ever lost. A note that is not valid UTF-8 is read-only and never rewritten.
The run snapshot block inserted into notes is built here too (``snapshot_block``).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from waitwise_tui.core import fmt
from waitwise_tui.core.atomic import atomic_write_bytes, atomic_write_text
from waitwise_tui.core.events import Event
from waitwise_tui.core.text import display

NOTE_SUFFIX = ".md"
TEMPLATES_DIRNAME = "templates"
DEFAULT_TEMPLATE_NAME = "default"
DEFAULT_TEMPLATE = "# {{date}}\n\nRun: {{run}}\n\n## Notes\n\n"

_DAILY_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_CONFLICT_RE = re.compile(r"\.conflict-\d{8}-\d{6}(-\d+)?$")
# Appends from the journal and the CLI are read-modify-write; serialise them in-process.
_APPEND_LOCK = threading.Lock()


class NoteError(ValueError):
    """A bad note name or an unusable note file (the message is one line for the user)."""


class NotUtf8Error(NoteError):
    """The note's bytes are not valid UTF-8; it must not be rewritten."""


@dataclass(frozen=True)
class NoteInfo:
    name: str
    path: Path
    size: int
    modified: float


@dataclass(frozen=True)
class Fingerprint:
    """What a note looked like on disk; a change in any field means someone wrote it."""

    mtime_ns: int
    size: int
    sha256: str


@dataclass(frozen=True)
class LoadedNote:
    text: str
    fingerprint: Fingerprint | None  # None: the file does not exist (yet)
    readonly_reason: str | None = None


@dataclass(frozen=True)
class SaveResult:
    fingerprint: Fingerprint
    conflict_path: Path | None = None


@dataclass(frozen=True)
class SearchHit:
    name: str
    line: int  # 0-based
    column: int  # 0-based
    text: str


# ---------------------------------------------------------------- names and paths


def daily_name(day: date) -> str:
    return day.isoformat()


def note_date(name: str) -> date | None:
    """The date of a daily note's name, else None."""
    match = _DAILY_RE.match(name)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def check_note_name(name: str) -> str:
    """Return the note name (without ``.md``) or raise NoteError saying why it is unusable."""
    name = name.strip()
    if name.endswith(NOTE_SUFFIX):
        name = name[: -len(NOTE_SUFFIX)]
    if not name:
        raise NoteError("a note needs a name")
    if "/" in name or "\\" in name or "\0" in name:
        raise NoteError(f"note name {display(name)} may not contain a path separator")
    if name.startswith("."):
        raise NoteError(f"note name {display(name)} may not start with a dot")
    if display(name) != name:  # C0/C1 controls, DEL, bidi overrides, undecodable bytes
        raise NoteError(f"note name {display(name)} may not contain control characters")
    if len(name.encode("utf-8")) > 200:
        raise NoteError("note name is too long")
    return name


def note_path(notes_dir: Path, name: str) -> Path:
    return Path(notes_dir) / f"{check_note_name(name)}{NOTE_SUFFIX}"


def list_notes(notes_dir: Path) -> list[NoteInfo]:
    """All notes, sorted by name. A missing directory means no notes (nothing is created)."""
    try:
        entries = list(os.scandir(notes_dir))
    except (FileNotFoundError, NotADirectoryError):
        return []
    notes = []
    for entry in entries:
        if entry.name.startswith(".") or not entry.name.endswith(NOTE_SUFFIX):
            continue
        try:
            if not entry.is_file():
                continue
            info = entry.stat()
        except OSError:
            continue
        notes.append(
            NoteInfo(
                name=entry.name[: -len(NOTE_SUFFIX)],
                path=Path(entry.path),
                size=info.st_size,
                modified=info.st_mtime,
            )
        )
    notes.sort(key=lambda note: note.name)
    return notes


# ---------------------------------------------------------------- read and save


def fingerprint(path: Path) -> Fingerprint | None:
    """The file's mtime, size and content hash; None when it does not exist."""
    try:
        data = Path(path).read_bytes()
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return _fingerprint_of(data, info)


def _fingerprint_of(data: bytes, info: os.stat_result) -> Fingerprint:
    return Fingerprint(info.st_mtime_ns, len(data), hashlib.sha256(data).hexdigest())


def load_note(path: Path) -> LoadedNote:
    """Read a note; a file that is not UTF-8 comes back read-only (decoded with replacements)."""
    path = Path(path)
    try:
        data = path.read_bytes()
        info = os.stat(path)
    except FileNotFoundError:
        return LoadedNote("", None)
    fp = _fingerprint_of(data, info)
    try:
        return LoadedNote(data.decode("utf-8"), fp)
    except UnicodeDecodeError as exc:
        reason = f"{path.name} is not valid UTF-8 (byte {exc.start}); opened read-only"
        return LoadedNote(data.decode("utf-8", errors="replace"), fp, reason)


def conflict_path(path: Path, now: datetime) -> Path:
    """A free ``NAME.conflict-YYYYmmdd-HHMMSS.md`` next to ``path``."""
    path = Path(path)
    base = f"{path.stem}.conflict-{now:%Y%m%d-%H%M%S}"
    candidate = path.with_name(base + NOTE_SUFFIX)
    counter = 2
    while candidate.exists():
        candidate = path.with_name(f"{base}-{counter}{NOTE_SUFFIX}")
        counter += 1
    return candidate


def save_note(
    path: Path, text: str, expected: Fingerprint | None, *, now: datetime | None = None
) -> SaveResult:
    """Write ``text`` atomically, keeping the file's permissions.

    ``expected`` is the fingerprint the buffer was loaded from (None: the file did not
    exist). If the disk differs, its current bytes are first saved as a conflict copy.
    Raises OSError (read-only dir, full disk: nothing on disk is harmed) to the caller.
    """
    path = Path(path)
    conflict: Path | None = None
    try:
        current = path.read_bytes()
    except FileNotFoundError:
        current = None
    if current is not None and (
        expected is None or hashlib.sha256(current).hexdigest() != expected.sha256
    ):
        conflict = conflict_path(path, now or datetime.now())
        atomic_write_bytes(conflict, current)
    atomic_write_text(path, text)
    new = fingerprint(path)
    if new is None:  # pragma: no cover - deleted between our rename and stat
        raise OSError(f"{path.name} vanished right after saving")
    return SaveResult(new, conflict)


def disk_changed(path: Path, known: Fingerprint | None) -> bool:
    """Whether the file differs from ``known`` (cheap stat first, hash only when needed)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return known is not None
    if known is None:
        return True
    if info.st_mtime_ns == known.mtime_ns and info.st_size == known.size:
        return False
    current = fingerprint(path)
    return current is None or current.sha256 != known.sha256


def append_line(path: Path, line: str) -> None:
    """Append one line to a note atomically (creating it); refuses a non-UTF-8 note."""
    path = Path(path)
    with _APPEND_LOCK:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = b""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise NotUtf8Error(f"{path.name} is not valid UTF-8; not appending to it") from None
        atomic_write_text(path, append_to_text(text, line))


def append_to_text(text: str, line: str) -> str:
    """``text`` with ``line`` added as its own last line."""
    if text and not text.endswith("\n"):
        text += "\n"
    return f"{text}{line.rstrip(chr(10))}\n"


# ---------------------------------------------------------------- templates


def list_templates(notes_dir: Path) -> dict[str, str]:
    """Template name -> text: the built-in default plus ``templates/*.md`` (theirs win)."""
    templates = {DEFAULT_TEMPLATE_NAME: DEFAULT_TEMPLATE}
    directory = Path(notes_dir) / TEMPLATES_DIRNAME
    try:
        paths = sorted(directory.glob(f"*{NOTE_SUFFIX}"))
    except OSError:
        return templates
    for path in paths:
        try:
            templates[path.stem] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    return templates


def render_template(template: str, *, now: datetime, run: str | None) -> str:
    """Fill ``{{date}}``, ``{{time}}`` and ``{{run}}`` (an unknown run becomes ``-``)."""
    return (
        template.replace("{{date}}", now.strftime("%Y-%m-%d"))
        .replace("{{time}}", now.strftime("%H:%M"))
        .replace("{{run}}", run or "-")
    )


# ---------------------------------------------------------------- search and export


def search_notes(
    notes_dir: Path,
    query: str,
    *,
    texts: Mapping[str, str] | None = None,
    limit: int = 200,
) -> list[SearchHit]:
    """Case-insensitive substring matches across all notes, in name then line order.

    ``texts`` maps note names to text to search instead of the file (an unsaved buffer);
    a name there that has no file yet is searched too.
    """
    needle = query.casefold()
    if not needle:
        return []
    texts = dict(texts or {})
    sources: dict[str, Path | None] = {note.name: note.path for note in list_notes(notes_dir)}
    for name in texts:
        sources.setdefault(name, None)
    hits: list[SearchHit] = []
    for name in sorted(sources):
        path = sources[name]
        if name in texts:
            text = texts[name]
        else:
            try:
                text = path.read_bytes().decode("utf-8", errors="replace") if path else ""
            except OSError:
                continue
        for number, line in enumerate(text.splitlines()):
            column = line.casefold().find(needle)
            if column >= 0:
                hits.append(SearchHit(name, number, column, line))
                if len(hits) >= limit:
                    return hits
    return hits


def export_notes(notes_dir: Path, *, since: date | None = None) -> str:
    """All notes as one Markdown report, in date order, each under a ``## name`` heading.

    A daily note's date is its name; any other note's is its modification day.
    Conflict copies are left out of the report.
    """
    dated = []
    for note in list_notes(notes_dir):
        if _CONFLICT_RE.search(note.name):
            continue
        day = note_date(note.name) or datetime.fromtimestamp(note.modified).date()
        if since is not None and day < since:
            continue
        dated.append((day, note.name, note))
    dated.sort(key=lambda item: (item[0], item[1]))
    parts = ["# Notes\n"]
    for day, name, note in dated:
        try:
            body = note.path.read_bytes().decode("utf-8", errors="replace")
        except OSError:
            continue
        heading = name if note_date(name) else f"{name} ({day.isoformat()})"
        parts.append(f"\n## {heading}\n\n{body.rstrip()}\n")
    return "".join(parts)


# ---------------------------------------------------------------- journal


def journal_line(event: Event) -> str:
    """``- HH:MM kind message`` for one event, on a single line."""
    when = datetime.fromtimestamp(event.time).strftime("%H:%M")
    message = _one_line(event.message)  # a metric or run name: escaped, never raw ESC
    kind = event.kind.replace("_", " ")
    return f"- {when} {kind} {message}".rstrip()


def note_line(text: str, now: datetime) -> str:
    """``- HH:MM text`` for ``notes add``."""
    return f"- {now:%H:%M} {' '.join(text.split())}"


# ---------------------------------------------------------------- run snapshot


@dataclass(frozen=True)
class GpuLine:
    index: int
    name: str | None = None
    util_percent: float | None = None
    mem_used_mib: float | None = None
    mem_total_mib: float | None = None


@dataclass(frozen=True)
class BestTrial:
    study: str
    number: int
    value: float
    params: Mapping[str, object] = field(default_factory=dict)
    direction: str | None = None


@dataclass(frozen=True)
class SnapshotParts:
    """What is known about the run right now; every field may be missing."""

    time: datetime | None = None
    run: str | None = None
    step: float | None = None
    epoch: float | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    eta_seconds: float | None = None
    gpus: Sequence[GpuLine] = ()
    best_trial: BestTrial | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None


def snapshot_block(parts: SnapshotParts) -> str:
    """A Markdown block describing the run; absent parts are left out, never faked."""
    heading = "### Snapshot"
    if parts.time is not None:
        heading += f" {parts.time:%Y-%m-%d %H:%M:%S}"
    lines = [heading, ""]
    if parts.run:
        lines.append(f"- run: {_one_line(parts.run)}")
    progress = []
    if parts.step is not None:
        progress.append(f"step {_number(parts.step)}")
    if parts.epoch is not None:
        progress.append(f"epoch {_number(parts.epoch)}")
    if progress:
        lines.append(f"- progress: {', '.join(progress)}")
    if parts.metrics:
        shown = ", ".join(
            f"{_one_line(name)} {_number(value)}" for name, value in sorted(parts.metrics.items())
        )
        lines.append(f"- metrics: {shown}")
    if parts.eta_seconds is not None and math.isfinite(parts.eta_seconds):
        lines.append(f"- ETA: {fmt.duration(parts.eta_seconds)}")
    for gpu in parts.gpus:
        lines.append(f"- {_gpu_text(gpu)}")
    if parts.best_trial is not None:
        lines.append(f"- {_trial_text(parts.best_trial)}")
    if parts.git_commit:
        dirty = ""
        if parts.git_dirty is not None:
            dirty = " (dirty)" if parts.git_dirty else " (clean)"
        lines.append(f"- git: {parts.git_commit}{dirty}")
    if len(lines) == 2:
        return heading + "\n"
    return "\n".join(lines) + "\n"


def _gpu_text(gpu: GpuLine) -> str:
    text = f"GPU {gpu.index}"
    if gpu.name:
        text += f" {_one_line(gpu.name)}"
    details = []
    if gpu.util_percent is not None:
        details.append(f"util {gpu.util_percent:.0f}%")
    if gpu.mem_used_mib is not None and gpu.mem_total_mib:
        details.append(f"mem {gpu.mem_used_mib / 1024:.1f}/{gpu.mem_total_mib / 1024:.1f} GiB")
    elif gpu.mem_used_mib is not None:
        details.append(f"mem {gpu.mem_used_mib / 1024:.1f} GiB")
    return f"{text}: {', '.join(details)}" if details else text


def _trial_text(trial: BestTrial) -> str:
    text = f"best trial: {_one_line(trial.study)} #{trial.number} = {_number(trial.value)}"
    if trial.direction:
        text += f" ({trial.direction})"
    if trial.params:
        params = ", ".join(f"{key}={_param(value)}" for key, value in sorted(trial.params.items()))
        text += f" [{_one_line(params)}]"
    return text


def _param(value: object) -> str:
    if isinstance(value, float):
        return _number(value)
    return str(value)


def _number(value: float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _one_line(text: str) -> str:
    return display(" ".join(str(text).split()))
