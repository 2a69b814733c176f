"""Entry points of the ingest side: open a tail for a found run, or read it whole."""

from __future__ import annotations

from waitwise_tui.core.runs.csvlog import CsvTail
from waitwise_tui.core.runs.hf import TrainerStateTail
from waitwise_tui.core.runs.jsonl import JsonlTail
from waitwise_tui.core.runs.model import ReadUpdate, RunCandidate, Tail
from waitwise_tui.core.runs.textlog import TextTail
from waitwise_tui.core.runs.tfevents import TfeventsTail

_TAILS = {
    "tfevents": TfeventsTail,
    "csv": CsvTail,
    "trainer_state": TrainerStateTail,
    "jsonl": JsonlTail,
    "text": TextTail,
}
FORMATS = tuple(_TAILS)


def open_tail(candidate: RunCandidate) -> Tail:
    """A tail for ``candidate``; its first ``poll`` reads everything already written."""
    try:
        cls = _TAILS[candidate.format]
    except KeyError:
        raise ValueError(f"unknown run format: {candidate.format!r}") from None
    return cls(candidate)


def read_all(candidate: RunCandidate) -> ReadUpdate:
    """Read a run whole: poll a fresh tail until a poll brings nothing new."""
    tail = open_tail(candidate)
    try:
        total = tail.poll()
        while True:
            more = tail.poll()
            if more.reset:
                total = more
                continue
            if not (more.points or more.progress or more.finished or more.gone or more.error):
                return total
            total.points.extend(more.points)
            total.progress = more.progress or total.progress
            total.finished = total.finished or more.finished
            total.gone = total.gone or more.gone
            total.error = more.error or total.error
            if more.gone or not more.points:
                return total
    finally:
        tail.close()
