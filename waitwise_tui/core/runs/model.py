"""Shared data types of the run readers (ingest side) and the series/health side.

A reader turns bytes of one log file into ``ReadUpdate``s; the monitor feeds their
points into per-(run, metric) series and computes health from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Point:
    """One scalar. ``step`` is the x the log gives (step, iteration or epoch)."""

    metric: str
    step: float
    value: float
    wall_time: float | None = None


@dataclass(slots=True)
class ReadUpdate:
    """What one poll of a tailed file produced.

    ``reset`` means the reader started over (truncation, replacement, header change):
    the consumer drops what it had for this source before adding ``points``.
    ``progress`` is (n, total) from a progress bar or ``max_steps``; ``finished`` is
    set when the log shows an end marker; ``gone`` when the file was deleted.
    """

    points: list[Point] = field(default_factory=list)
    reset: bool = False
    progress: tuple[float, float] | None = None
    finished: bool = False
    gone: bool = False
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RunCandidate:
    """A run found on disk: ``path`` is a file or (for tfevents) a directory."""

    path: str
    format: str
    name: str


class Tail(Protocol):
    """An incremental reader of one run; ``poll`` reads only new bytes."""

    candidate: RunCandidate

    def poll(self) -> ReadUpdate: ...

    def close(self) -> None: ...
