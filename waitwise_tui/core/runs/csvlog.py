"""CSV metric logs: Lightning CSVLogger, Keras CSVLogger, Ultralytics results.csv, ...

The first line is the header; metric names are the stripped column names. x is the
preferred step-like column (step over epoch), else the row index. Empty cells and
``NA`` give no point; ``nan`` gives a NaN point (a cell is a number exactly when
Python's ``float`` takes it). Lightning rewrites the whole file with a new header when a
metric appears: the tail notices the changed first bytes and starts over.

Logs of a million rows are common, so a poll that brings at least ``BULK_BYTES`` of
complete lines (a first read, a catch-up) is parsed by pyarrow's C++ CSV reader into
one ``Column`` per metric, with no Python object per cell. pyarrow keeps "no value"
(null: empty, ``NA``) apart from a NaN value and parses floats correctly rounded, as
``float`` does. A block it would read differently from the rules above (quotes, a
cell that is not a number, a ragged row, a very long line) is parsed by the small
path instead, still into columns. Small appends take the small path into ``Point``s:
``csv`` over the chunk, one ``float`` map per column.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from itertools import repeat
from typing import Any

from waitwise_tui.core.runs.keys import STEP_KEY_SET, pick_step_key
from waitwise_tui.core.runs.model import Column, Point, ReadUpdate, RunCandidate
from waitwise_tui.core.runs.tail import MAX_LINE, LineTail, split_lines

# New complete-line bytes in one poll from which the columnar bulk path pays off.
BULK_BYTES = 256 * 1024
# Bulk blocks are gathered up to this size per pyarrow call: bigger calls parse on
# several threads and pay the per-call cost less often.
BATCH_BYTES = 16 << 20
# Cells that ``float`` refuses and pyarrow must read as null, not as an error.
_NULLS = ["", "NA"]


def _cell(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _rows(lines: list[str]) -> list[list[str]]:
    """Parse lines in bulk; on a malformed line fall back to line by line, skipping it."""
    try:
        return list(csv.reader(lines))
    except csv.Error:
        rows = []
        for line in lines:
            try:
                rows.extend(csv.reader([line]))
            except csv.Error:
                continue
        return rows


def _columns(text: str, ncol: int) -> tuple[list[Sequence[str]], int]:
    """The ``ncol`` columns of the rows in ``text`` (rows padded or cut to fit) and the row count.

    Metric logs rarely quote anything: when no line has a quote and every line has
    exactly ``ncol - 1`` commas, one split of the whole text and strided slices give
    the columns without building a list per row.
    """
    lines = text.split("\n")
    if '"' not in text and set(map(str.count, lines, repeat(","))) == {ncol - 1}:
        cells = text.replace("\n", ",").split(",")
        return [cells[j::ncol] for j in range(ncol)], len(lines)
    rows = _rows(lines)
    if any(len(r) != ncol for r in rows):
        rows = [(r + [""] * ncol)[:ncol] for r in rows]
    if not rows:
        return [[] for _ in range(ncol)], 0
    return list(zip(*rows, strict=True)), len(rows)


class CsvTail(LineTail):
    """Tails one CSV metrics file; a huge one opens header and tail first."""

    tail_first = True

    def __init__(self, candidate: RunCandidate) -> None:
        super().__init__(candidate)
        self._restart_lines()

    def _restart_lines(self) -> None:
        self._names: list[str] | None = None
        self._x: int | None = None
        self._metrics: list[tuple[int, str]] = []
        self._row = 0
        self._arrow: tuple[Any, Any, Any] | None = None
        self._batch: list[bytes] = []
        self._batch_size = 0

    def _head_target(self) -> int:
        # Compare the whole header (up to the line cap) to catch Lightning's rewrites.
        return MAX_LINE + 2

    def _tail_prefix(self, head: bytes) -> int | None:
        # The header line (after any blank lines) is read before the tail.
        body = head.lstrip(b"\r\n")
        ends = [i for i in (body.find(b"\n"), body.find(b"\r")) if i >= 0]
        return len(head) - len(body) + min(ends) + 1 if ends else None

    def _skipped(self, nbytes: int, sample: bytes) -> None:
        # Without a step column x is the row index: estimate it until the history is in.
        self._row += self._estimate_lines(nbytes, sample)

    def _consume(self, data: bytes, update: ReadUpdate) -> None:
        while self._names is None and data:
            # The header goes through the line path on its own. Blank lines before it
            # give nothing: drop them at once (one by one would be quadratic).
            if not self._rem and not self._skipping:
                data = data.lstrip(b"\r\n")
                if not data:
                    return
            ends = [i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0]
            if not ends:
                super()._consume(data, update)
                return
            super()._consume(data[: min(ends) + 1], update)
            data = data[min(ends) + 1 :]
        if not data:
            return
        # Columns come before points within a poll: once points were made, stay there;
        # once chunks were gathered for columns, the rest of the poll joins them.
        small = not update.columns and len(self._rem) + len(data) < BULK_BYTES
        if not self._batch and (update.points or small):
            super()._consume(data, update)
            return
        self._batch.append(data)
        self._batch_size += len(data)
        if self._batch_size >= BATCH_BYTES:
            self._flush(update)

    def _flush(self, update: ReadUpdate) -> None:
        """Parse the gathered bulk chunks (their complete lines) into columns."""
        if not self._batch:
            return
        buf, start, end = self._take(self._batch)
        self._batch = []
        self._batch_size = 0
        if start < end:
            columns = self._bulk(buf, start, end)
            update.columns.extend(columns if columns is not None else self._slow(buf[start:end]))

    def _finish_poll(self, update: ReadUpdate) -> None:
        self._flush(update)
        super()._finish_poll(update)

    def _lines(self, lines: list[bytes], update: ReadUpdate) -> None:
        out = update.points
        for name, steps, values in self._parse(lines):
            out.extend(map(Point, repeat(name), steps, values))

    def _slow(self, block: bytes) -> list[Column]:
        """Columns of ``block`` parsed the small path's way."""
        import numpy as np

        lines = split_lines(block)
        return [
            Column(name, np.array(steps, dtype="float64"), np.array(values, dtype="float64"))
            for name, steps, values in self._parse(lines)
        ]

    def _parse(self, lines: list[bytes]) -> Iterator[tuple[str, Sequence[float], Sequence[float]]]:
        """(metric, steps, values) of ``lines``: the header first if not seen yet."""
        if self._names is None:
            header = next(iter(_rows([lines[0].decode("utf-8", "replace")])), [])
            self._names = [h.strip() for h in header]
            step_key = pick_step_key(self._names)
            self._x = self._names.index(step_key) if step_key is not None else None
            self._metrics = [
                (i, n) for i, n in enumerate(self._names) if n and n.lower() not in STEP_KEY_SET
            ]
            lines = lines[1:]
            if not lines:
                return
        ncol = len(self._names)
        columns, n = _columns(b"\n".join(lines).decode("utf-8", "replace"), ncol)
        steps: list[float | None] | range
        if self._x is None:
            steps = range(self._row, self._row + n)
            dense = True
        else:
            try:
                steps = list(map(float, columns[self._x]))
                dense = True
            except ValueError:
                steps = [_cell(v) for v in columns[self._x]]
                dense = False
        self._row += n
        for j, name in self._metrics:
            col = columns[j]
            if dense:
                try:
                    values = list(map(float, col))
                except ValueError:
                    pass
                else:
                    yield name, steps, values
                    continue
            kept_steps: list[float] = []
            kept_values: list[float] = []
            for step, text_value in zip(steps, col, strict=True):
                if step is None:
                    continue
                value = _cell(text_value)
                if value is not None:
                    kept_steps.append(step)
                    kept_values.append(value)
            yield name, kept_steps, kept_values

    def _bulk(self, buf: bytes, start: int, end: int) -> list[Column] | None:
        """Columns of the complete lines ``buf[start:end]`` read by pyarrow.

        None: the block needs the small path.
        """
        assert self._names is not None
        # Quotes need ``csv``'s rules; pyarrow would read "nan(1)", which ``float`` refuses.
        if (
            buf.find(b'"', start, end) >= 0
            or buf.find(b"(", start, end) >= 0
            or not _short_lines(buf, start, end)
        ):
            return None
        import numpy as np
        import pyarrow as pa
        import pyarrow.csv as pacsv

        if self._arrow is None:
            names = [f"c{i}" for i in range(len(self._names))]
            # Only x and the metrics are converted (not e.g. ``epoch`` beside ``step``).
            wanted = [names[j] for j, _ in self._metrics]
            if self._x is not None:
                wanted.append(names[self._x])
            self._arrow = (
                pacsv.ReadOptions(column_names=names),
                pacsv.ParseOptions(quote_char=False, ignore_empty_lines=True),
                pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.float64()),
                    null_values=_NULLS,
                    include_columns=wanted,
                ),
            )
        read, parse, convert = self._arrow
        if buf.find(b"\r", start, end) >= 0:
            data = pa.py_buffer(buf[start:end].replace(b"\r", b"\n"))
        else:
            data = pa.py_buffer(memoryview(buf)[start:end])
        try:
            table = pacsv.read_csv(
                pa.BufferReader(data),
                read_options=read,
                parse_options=parse,
                convert_options=convert,
            )
        except (pa.ArrowException, ValueError):
            return None
        n = table.num_rows
        if self._x is None:
            steps = np.arange(self._row, self._row + n, dtype="float64")
            placed = None
        else:
            steps, placed = _array(table.column(f"c{self._x}"))
        self._row += n
        out = []
        for j, name in self._metrics:
            values, valid = _array(table.column(f"c{j}"))
            keep = valid if placed is None else placed if valid is None else placed & valid
            if keep is None:
                out.append(Column(name, steps, values))
            else:
                out.append(Column(name, steps[keep], values[keep]))
        return out


def _array(column: Any) -> tuple[Any, Any]:
    """A pyarrow float column as (float64 array, mask of non-null cells or None)."""
    import numpy as np

    values = np.asarray(column.to_numpy(), dtype="float64")
    if not column.null_count:
        return values, None
    return values, ~np.asarray(column.is_null().to_numpy(), dtype=bool)


def _short_lines(buf: bytes, start: int, end: int) -> bool:
    """Whether every line of ``buf[start:end]`` is surely within ``MAX_LINE``.

    Each window of half the cap holding a line end bounds every line below the cap;
    a block that fails this (rarely) goes to the small path, which drops long lines.
    """
    half = MAX_LINE // 2
    for lo in range(start, end, half):
        hi = min(lo + half, end)
        if buf.find(b"\n", lo, hi) < 0 and buf.find(b"\r", lo, hi) < 0:
            return False
    return True
