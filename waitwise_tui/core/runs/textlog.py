"""Plain-text training logs (stdout of a training script, nohup.out, slurm-*.out).

Conservative on purpose: a line becomes points only when it looks like a metric line.
Recognised shapes:

- Hugging Face Trainer dicts: ``{'loss': 2.34, 'learning_rate': 4.9e-05, 'epoch': 0.01}``
- nanoGPT: ``iter 100: loss 2.3456, time 12.3ms`` (and ``step 250: train loss 1.9, ...``)
- mmengine: ``Epoch [1][658/742]  lr: 1e-02 ... loss: 0.123`` (also ``Epoch(train)``,
  ``Iter(train) [100/1000]``)
- ``key=value`` / ``key: value`` pairs with a step-like key, or at least two pairs
- tqdm / Lightning / Keras progress bars (``| 658/742 [``, ``658/742 [==``), which give
  ``ReadUpdate.progress``; their postfix pairs (``loss=0.12``) are points too.
- labelled progress without a bar: ``train 166/3000 loss=0.41``, ``step 5 of 100``,
  ``iter [20/500]``: the count is the step and gives the progress.
- ``Epoch N/M`` lines with metrics (``Epoch 1/200 | Loss: 0.6924 | Acc: 85.0%``,
  ``-`` or ``,`` separators, multi-word keys): the epoch is the step; keys are lower
  case with ``_`` for spaces (``Train Loss`` -> ``train_loss``).

A line of one ``key : value`` pair without a step (a trailer block of final metrics,
``Accuracy : 0.75``) is not a point. ``CRASH_MARKERS`` (a traceback's exception line,
CUDA out of memory, ``Killed``, NCCL errors) set ``ReadUpdate.crash`` when no metric
line follows them in the poll.

Only numeric values count (a unit of ms, s or % may follow); keys such as pid, port,
rank or seed are ignored. ``END_MARKERS`` lists the lines that set ``finished``.
"""

from __future__ import annotations

import math
import re

from waitwise_tui.core.runs.hf import parse_dict_line
from waitwise_tui.core.runs.keys import STEP_KEY_SET, STEP_KEYS
from waitwise_tui.core.runs.model import Point, ReadUpdate, RunCandidate
from waitwise_tui.core.runs.tail import LineTail

# Lines that mean the training loop ended normally (matched case-insensitively).
END_MARKERS = (
    r"\btraining (?:is )?(?:complete|completed|finished|done)\b",
    r"\bfinished training\b",
    r"`?trainer\.fit`? stopped",
    r"^\s*done!\s*$",
)
_END = re.compile("|".join(END_MARKERS), re.I)
# Lines that mean the run died, when they are the last word of its stdout.
CRASH_MARKERS = (
    r"\bCUDA out of memory\b",
    r"\bOutOfMemoryError\b",
    r"^\s*Killed\s*$",
    r"\bNCCL (?:error|WARN .*(?:timeout|abort))",
    r"\bSegmentation fault\b",
    r"\bcore dumped\b",
    r"^Traceback \(most recent call last\):",
)
_CRASH = re.compile("|".join(CRASH_MARKERS), re.I)
# The exception line that ends a traceback: "RuntimeError: ...", "KeyboardInterrupt".
_EXCEPTION = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?\w*(?:Error|Exception|Interrupt|Exit)\b")

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)"
_UNIT = r"(?:ms|s|%)?"
_PAIR = re.compile(
    rf"(?<![\w./-])([A-Za-z_][\w./-]*)\s*(?:=|:\s)\s*({_NUM}){_UNIT}(?=$|[\s,;|)\]}}])", re.I
)
_NANOGPT = re.compile(r"^\s*(?:iter|step)\s+(\d+)\s*:\s*(.*)$", re.I)
_NANOGPT_PAIR = re.compile(rf"^\s*([A-Za-z_][\w ./-]*?)\s*[:= ]\s*({_NUM}){_UNIT}\s*$", re.I)
_MM_EPOCH = re.compile(r"\bEpoch(?:\(\w+\))?\s*\[(\d+)\]\s*\[\s*(\d+)\s*/\s*(\d+)\s*\]")
_MM_ITER = re.compile(r"\bIter(?:\(\w+\))?\s*\[\s*(\d+)\s*/\s*(\d+)\s*\]")
_BAR = re.compile(r"(?:\|\s*|(?<![\w/.:-]))(\d+)/(\d+)\s*\[")
_BAR_EPOCH = re.compile(r"\bEpoch\s+(\d+)\b")
_KERAS_EPOCH = re.compile(r"^\s*Epoch\s+(\d+)/(\d+)\s*$")
# "train 166/3000", "step 5 of 100", "Iteration: [20/500]" (a word that says progress).
_LABELLED = re.compile(
    r"(?<![\w/.-])(?:train(?:ing)?|step|iter(?:ation)?|batch|it)\s*:?\s*\[?\s*"
    r"(\d+)\s*(?:/|\bof\b)\s*(\d+)\s*\]?(?![\w/.])",
    re.I,
)
# "Epoch 1/200 | Loss: 0.69 | Acc: 85%" and "[Epoch 3/10] - loss 0.5 - acc 0.8".
_EPOCH_LINE = re.compile(r"^\s*\[?\s*Epoch\s*:?\s*\[?\s*(\d+)\s*/\s*(\d+)\s*\]?\s*(.*)$", re.I)
_SEGMENT_SPLIT = re.compile(r"\s*(?:\||,|;|\s-\s|\t)\s*")
_SEGMENT = re.compile(
    rf"^([A-Za-z][\w./-]*(?:\s[A-Za-z][\w./-]*){{0,3}}?)\s*[:=]?\s*({_NUM})\s*"
    r"(?:ms|sec|s|%)?$",
    re.I,
)
_IGNORED_KEYS = frozenset(
    {
        "pid",
        "ppid",
        "port",
        "rank",
        "local_rank",
        "world_size",
        "seed",
        "gpu",
        "device",
        "node",
        "job_id",
        "jobid",
        "date",
        "v_num",
        "version",
        "eta",
    }
)


def _pairs(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in _PAIR.findall(text):
        if key.lower() not in _IGNORED_KEYS:
            out[key] = float(value)
    return out


def _progress(text: str) -> tuple[int, int] | None:
    found = None
    for m in _BAR.finditer(text):
        n, total = int(m.group(1)), int(m.group(2))
        if total > 0 and n <= total:
            found = (n, total)
    return found


def _labelled(text: str) -> tuple[int, int, str] | None:
    """(n, total, the text after it) of a labelled progress count."""
    m = _LABELLED.search(text)
    if m is None:
        return None
    n, total = int(m.group(1)), int(m.group(2))
    return (n, total, text[m.end() :]) if total > 0 and n <= total else None


def _segments(text: str) -> dict[str, float]:
    """``Loss: 0.69 | Val Acc: 85%`` as {"loss": 0.69, "val_acc": 85.0}."""
    out: dict[str, float] = {}
    for part in _SEGMENT_SPLIT.split(text.strip(" \t|,;-")):
        m = _SEGMENT.match(part)
        if m is None:
            continue
        key = re.sub(r"\s+", "_", m.group(1).strip()).lower()
        if key not in _IGNORED_KEYS:
            out[key] = float(m.group(2))
    return out


class TextParser:
    """Turns text lines into points; keeps the line counter used as x when none is given."""

    def __init__(self) -> None:
        self.count = 0
        # Keras prints "Epoch 3/10" on its own line before that epoch's bar.
        self.keras_epoch: int | None = None
        self._in_traceback = False

    def feed(self, lines: list[str], update: ReadUpdate) -> None:
        """Parse complete lines into ``update`` (points, progress, finished)."""
        for line in lines:
            if _END.search(line):
                update.finished = True
            self._crash_line(line, update)
            self._line(line, update)

    def _crash_line(self, line: str, update: ReadUpdate) -> None:
        stripped = line.strip()
        if _CRASH.search(line):
            self._in_traceback = stripped.startswith("Traceback")
            update.crash = stripped
        elif self._in_traceback and _EXCEPTION.match(stripped):
            # The exception line says more than "Traceback (most recent call last):".
            update.crash = stripped
            self._in_traceback = False

    def _emit(self, update: ReadUpdate, step: float, items: dict[str, float]) -> None:
        update.points.extend(Point(k, step, v) for k, v in items.items())
        if items:
            # Training went on after it: what came before was not the end.
            update.crash = None
            self._in_traceback = False

    def _line(self, line: str, update: ReadUpdate) -> None:
        if "{'" in line:
            items = parse_dict_line(line)
            if items:
                epoch = items.pop("epoch", None)
                step = epoch if epoch is not None and not math.isnan(epoch) else self.count
                self.count += 1
                self._emit(update, step, items)
                return
        m = _NANOGPT.match(line)
        if m is not None:
            items = {}
            for part in m.group(2).split(","):
                pm = _NANOGPT_PAIR.match(part)
                if pm is not None and pm.group(1).lower() not in _IGNORED_KEYS:
                    items[pm.group(1)] = float(pm.group(2))
            if items:
                self._emit(update, int(m.group(1)), items)
            return
        m = _MM_EPOCH.search(line)
        if m is not None:
            epoch, it, total = (int(g) for g in m.groups())
            if total > 0:
                update.progress = (float(it), float(total))
                items = _pairs(line[m.end() :])
                if items:
                    self._emit(update, max(epoch - 1, 0) * total + it, items)
            return
        m = _MM_ITER.search(line)
        if m is not None:
            it, total = int(m.group(1)), int(m.group(2))
            if total > 0:
                update.progress = (float(it), float(total))
                items = _pairs(line[m.end() :])
                if items:
                    self._emit(update, it, items)
            return
        km = _KERAS_EPOCH.match(line)
        if km is not None:
            self.keras_epoch = int(km.group(1))
            return
        em = _EPOCH_LINE.match(line)
        if em is not None:
            epoch, total = int(em.group(1)), int(em.group(2))
            if total > 0 and epoch <= total:
                update.progress = (float(epoch), float(total))
                items = _segments(em.group(3)) or _pairs(em.group(3))
                self._emit(update, epoch, items)
            return
        progress = _progress(line)
        items = _pairs(line)
        if progress is None:
            labelled = _labelled(line)
            if labelled is not None:
                update.progress = (float(labelled[0]), float(labelled[1]))
                self._emit(update, labelled[0], items or _segments(labelled[2]))
                return
        if progress is not None:
            update.progress = (float(progress[0]), float(progress[1]))
            if items:
                em = _BAR_EPOCH.search(line)
                if em is not None:
                    base = int(em.group(1)) * progress[1]
                elif self.keras_epoch is not None:
                    base = max(self.keras_epoch - 1, 0) * progress[1]
                else:
                    base = 0
                self._emit(update, base + progress[0], items)
            return
        lowered = {k.lower(): k for k in items}
        step_key = next((lowered[k] for k in STEP_KEYS if k in lowered), None)
        if step_key is not None:
            step = items.pop(step_key)
            for key in [k for k in items if k.lower() in STEP_KEY_SET]:
                del items[key]
            if items:
                self._emit(update, step, items)
        elif len(items) >= 2:
            self._emit(update, self.count, items)
            self.count += 1


def parse_text_lines(lines: list[str], update: ReadUpdate) -> None:
    """Parse ``lines`` of a text log from its start into ``update``."""
    TextParser().feed(lines, update)


class TextTail(LineTail):
    """Tails one plain-text training log."""

    def __init__(self, candidate: RunCandidate) -> None:
        super().__init__(candidate)
        self._parser = TextParser()

    def _restart_lines(self) -> None:
        self._parser = TextParser()

    def _partial(self, rem: bytes, update: ReadUpdate) -> None:
        progress = _progress(rem.decode("utf-8", "replace"))
        if progress is not None:
            update.progress = (float(progress[0]), float(progress[1]))

    def _lines(self, lines: list[bytes], update: ReadUpdate) -> None:
        self._parser.feed([raw.decode("utf-8", "replace") for raw in lines], update)
