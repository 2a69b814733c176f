"""Shared data types of the run readers (ingest side) and the series/health side.

A reader turns bytes of one log file into ``ReadUpdate``s; the monitor feeds their
points into per-(run, metric) series and computes health from them. A reader that
parses a big chunk in bulk hands its scalars over as ``Column``s (numpy arrays, one
per metric) instead of one ``Point`` object per scalar.

numpy is only named for type checking here: importing the model stays light.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True, slots=True)
class Point:
    """One scalar. ``step`` is the x the log gives (step, iteration or epoch)."""

    metric: str
    step: float
    value: float
    wall_time: float | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Column:
    """Scalars of one metric in log order, as float64 arrays of equal length.

    ``walls`` is None when the log has no wall times (NaN entries mark single
    points without one). The arrays are handed over: a consumer may keep them
    (``Series.append`` does), so nobody modifies them once the column is made. Arrays
    may be shared between columns (one step array for every metric of a CSV block).
    Compared by identity: arrays have no plain ``==``.
    """

    metric: str
    steps: np.ndarray
    values: np.ndarray
    walls: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.steps)

    def iter_points(self) -> Iterator[Point]:
        """The column as ``Point`` objects (for consumers off the hot path)."""
        walls = [None] * len(self.steps) if self.walls is None else self.walls.tolist()
        for step, value, wall in zip(self.steps.tolist(), self.values.tolist(), walls, strict=True):
            yield Point(self.metric, step, value, None if wall != wall else wall)


@dataclass(slots=True)
class ReadUpdate:
    """What one poll of a tailed file produced.

    ``reset`` means the reader started over (truncation, replacement, header change):
    the consumer drops what it had for this source before adding the new scalars.
    ``progress`` is (n, total) from a progress bar or ``max_steps``; ``finished`` is
    set when the log shows an end marker; ``gone`` when the file was deleted. ``crash``
    is the line that says the run died (a traceback's exception, CUDA out of memory,
    ``Killed``) when it is the last word of the poll: no metric line followed it.

    The new scalars are in ``columns`` and ``points``; both may be filled by one
    poll. Order: every scalar in ``columns`` was logged before every scalar in
    ``points`` (a reader switches from columns to points within a poll, never
    back), and each holds its own scalars in log order. So, per metric, the log
    order is: its columns in list order, then its points.
    """

    points: list[Point] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)
    reset: bool = False
    progress: tuple[float, float] | None = None
    finished: bool = False
    gone: bool = False
    error: str | None = None
    # Set by readers of trackers that keep a run's own record (MLflow, W&B): the
    # tracker's status word (RUNNING, FINISHED, FAILED, KILLED...) and the run's
    # params/tags/summary as text; None means "unchanged since the last poll".
    tracker_status: str | None = None
    details: dict[str, str] | None = None
    # A huge file opened tail first (see ``tail.FileTail``): (bytes of history read,
    # bytes of history in all) while it fills in behind the tail; None otherwise.
    loading: tuple[int, int] | None = None
    # Scalars of that history, older than everything in the run so far, in log order
    # per metric: the consumer builds them up apart from the run it shows.
    history: list[Column] = field(default_factory=list)
    # With ``reset``: the history built up from ``history`` (this poll's included) is
    # now the whole run (not a new run), so its health and alerts are kept.
    handover: bool = False
    crash: str | None = None

    def has_scalars(self) -> bool:
        """Whether the poll brought any scalar (in ``points`` or ``columns``)."""
        return bool(self.points) or any(len(c) for c in self.columns)

    def iter_points(self) -> Iterator[Point]:
        """Every scalar as a ``Point``, in the documented order (columns first)."""
        for column in self.columns:
            yield from column.iter_points()
        yield from self.points


@dataclass(frozen=True, slots=True)
class RunCandidate:
    """A run found on disk: ``path`` is a file or (for tfevents) a directory.

    ``key`` tells apart the runs of one store that holds many (an MLflow or trackio
    database): the run's id inside the store; empty for one-run-per-path formats.
    """

    path: str
    format: str
    name: str
    key: str = ""


class Tail(Protocol):
    """An incremental reader of one run; ``poll`` reads only new bytes."""

    candidate: RunCandidate

    def poll(self) -> ReadUpdate: ...

    def close(self) -> None: ...
