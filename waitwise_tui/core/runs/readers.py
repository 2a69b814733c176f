"""Entry points of the ingest side: open a tail for a found run, or read it whole."""

from __future__ import annotations

from waitwise_tui.core.runs.csvlog import CsvTail
from waitwise_tui.core.runs.hf import TrainerStateTail
from waitwise_tui.core.runs.jsonl import JsonlTail
from waitwise_tui.core.runs.mlflowstore import MlflowDbTail, MlflowFilesTail
from waitwise_tui.core.runs.model import ReadUpdate, RunCandidate, Tail
from waitwise_tui.core.runs.tail import as_columns
from waitwise_tui.core.runs.textlog import TextTail
from waitwise_tui.core.runs.tfevents import TfeventsTail
from waitwise_tui.core.runs.trackiodb import TrackioTail
from waitwise_tui.core.runs.wandbfile import WandbTail

_TAILS = {
    "tfevents": TfeventsTail,
    "csv": CsvTail,
    "trainer_state": TrainerStateTail,
    "jsonl": JsonlTail,
    "text": TextTail,
    "mlflow": MlflowDbTail,
    "mlruns": MlflowFilesTail,
    "trackio": TrackioTail,
    "wandb": WandbTail,
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
    """Read a run whole: poll a fresh tail until a poll brings nothing new.

    A huge file opened tail first comes back whole: its history, gathered here as it
    fills in, becomes the columns of the handover.
    """
    tail = open_tail(candidate)
    try:
        total = tail.poll()
        history = total.history
        total.history = []
        while True:
            more = tail.poll()
            history.extend(more.history)
            more.history = []
            if more.reset:
                if more.handover:
                    more.columns[:0] = history
                history = []
                total = more
                continue
            scalars = more.has_scalars()
            loading = more.loading is not None
            if not (
                scalars or loading or more.progress or more.finished or more.gone or more.error
            ):
                return total
            if total.points and more.columns:
                # Keep "columns before points": earlier points become a column.
                total.columns.extend(as_columns(total.points))
                total.points = []
            total.columns.extend(more.columns)
            total.points.extend(more.points)
            total.progress = more.progress or total.progress
            total.finished = total.finished or more.finished
            total.gone = total.gone or more.gone
            total.error = more.error or total.error
            if more.gone or not (scalars or loading):
                return total
    finally:
        tail.close()
