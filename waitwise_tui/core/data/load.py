"""Loading a dataset (pandas): format detection, CSV sniffing, chunked reads that can be
cancelled, sampling of large files, and column types as a user means them (``infer``:
missing-value tokens, formatted numbers, dates; ``tokens=False`` reads cells as written).

Formats: CSV/TSV (delimiter and header sniffed; gzip too), Parquet, JSON lines, Feather/Arrow.
Every failure a user can cause (empty file, ragged rows, binary garbage, a file that vanishes)
becomes a :class:`DataError` with one readable line.
"""

from __future__ import annotations

import csv
import gzip
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from waitwise_tui.core.data.infer import ColumnInference


FORMATS = ("csv", "parquet", "jsonl", "feather")
HEAD_ROWS = 100
# Above this many rows the UI profiles a sample first (the user can ask for the exact profile).
SAMPLE_THRESHOLD = 500_000
SAMPLE_ROWS = 200_000
# Small chunks keep each parser call short, so a UI thread is never starved for long.
_CHUNK_ROWS = 50_000


class DataError(Exception):
    """A dataset problem to show as one line (UI) or print with exit 2 (CLI)."""


class LoadCancelled(Exception):
    """The user cancelled a load in progress."""


@dataclass(frozen=True)
class CsvDialect:
    sep: str
    header: bool
    encoding: str
    compression: str | None


@dataclass
class Loaded:
    """A dataset in memory plus what the loader noticed on the way."""

    path: str
    format: str
    frame: pd.DataFrame
    notices: list[str] = field(default_factory=list)
    sep: str | None = None
    # What type inference found or changed, by column (columns it left alone are absent).
    inference: dict[str, ColumnInference] = field(default_factory=dict)
    file_bytes: int | None = None  # the file's size on disk
    tokens: bool = True  # whether missing-value tokens were read as nulls


# --------------------------------------------------------------------------- loading


def detect_format(path: str | os.PathLike[str]) -> str:
    """The format by suffix, then by magic bytes; CSV when nothing else fits."""
    name = Path(path).name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    suffix = name.rsplit(".", 1)[-1] if "." in name else ""
    if suffix in ("parquet", "pq"):
        return "parquet"
    if suffix in ("jsonl", "ndjson", "json"):
        return "jsonl"
    if suffix in ("feather", "arrow", "ipc"):
        return "feather"
    if suffix in ("csv", "tsv", "txt", "tab"):
        return "csv"
    try:
        with open(path, "rb") as handle:
            magic = handle.read(8)
    except OSError as exc:
        raise DataError(_os_message(path, exc)) from None
    if magic.startswith(b"PAR1"):
        return "parquet"
    if magic.startswith(b"ARROW1"):
        return "feather"
    return "csv"


def sniff_csv(path: str | os.PathLike[str], sep: str | None = None) -> CsvDialect:
    """Delimiter, header and encoding from the first KB (``csv.Sniffer`` plus checks)."""
    compression = "gzip" if _is_gzip(path) else None
    try:
        if compression:
            with gzip.open(path, "rb") as handle:
                raw = handle.read(4096)
        else:
            with open(path, "rb") as handle:
                raw = handle.read(4096)
    except (OSError, EOFError) as exc:
        raise DataError(_os_message(path, exc)) from None
    if not raw.strip():
        raise DataError(f"{Path(path).name} is empty")
    if b"\x00" in raw:
        raise DataError(f"{Path(path).name} looks binary, not CSV/TSV text")
    try:
        text = raw.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the 4 KB boundary is not an encoding problem.
        if exc.start >= len(raw) - 3:
            text = raw[: exc.start].decode("utf-8")
            encoding = "utf-8"
        else:
            text = raw.decode("latin-1")
            encoding = "latin-1"
    sample = text[:1024]
    lines = sample.splitlines()
    if len(lines) > 1 and not sample.endswith("\n"):
        # The sniffer is easily fooled by a cut last line.
        sample = "\n".join(lines[:-1]) + "\n"
    header = True
    if sep is None:
        if Path(path).name.lower().removesuffix(".gz").endswith((".tsv", ".tab")):
            sep = "\t"
        else:
            try:
                sep = csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
            except csv.Error:
                sep = ","
    try:
        header = csv.Sniffer().has_header(sample) or not _first_row_numeric(sample, sep)
    except csv.Error:
        header = True
    return CsvDialect(sep=sep, header=header, encoding=encoding, compression=compression)


def _first_row_numeric(sample: str, sep: str) -> bool:
    first = sample.splitlines()[0] if sample.splitlines() else ""
    cells = [c.strip() for c in first.split(sep)]
    numeric = 0
    for cell in cells:
        try:
            float(cell)
            numeric += 1
        except ValueError:
            pass
    return numeric == len(cells) and numeric > 0


def _is_gzip(path: str | os.PathLike[str]) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(2) == b"\x1f\x8b"
    except OSError as exc:
        raise DataError(_os_message(path, exc)) from None


def _os_message(path: str | os.PathLike[str], exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"no such file: {path}"
    if isinstance(exc, IsADirectoryError):
        return f"{path} is a directory, not a data file"
    if isinstance(exc, PermissionError):
        return f"permission denied: {path}"
    return f"cannot read {path}: {_first_line(exc)}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def read_head(
    path: str | os.PathLike[str],
    *,
    sep: str | None = None,
    nrows: int = HEAD_ROWS,
    tokens: bool = True,
) -> Loaded:
    """The first ``nrows`` rows, fast, so the UI can show something at once."""
    fmt = detect_format(path)
    return _guarded(path, fmt, lambda: _read(path, fmt, sep, nrows, None, None, tokens))


def load_dataset(
    path: str | os.PathLike[str],
    *,
    sep: str | None = None,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    tokens: bool = True,
) -> Loaded:
    """Read the whole dataset. ``progress`` gets fractions 0..1; ``cancelled`` stops early.

    With ``tokens`` (the default) cells such as ``?``, ``NA`` or ``-`` are read as missing
    (see ``infer.MISSING_TOKENS``); without, only empty cells are.
    """
    fmt = detect_format(path)
    loaded = _guarded(path, fmt, lambda: _read(path, fmt, sep, None, progress, cancelled, tokens))
    if loaded.frame.shape[1] == 0:
        raise DataError(f"{Path(path).name} has no columns")
    if len(loaded.frame) == 0:
        raise DataError(f"{Path(path).name} has a header but no data rows")
    return loaded


def _guarded(path: str | os.PathLike[str], fmt: str, read: Callable[[], Loaded]) -> Loaded:
    import pandas as pd

    name = Path(path).name
    try:
        return read()
    except (DataError, LoadCancelled):
        raise
    except pd.errors.EmptyDataError:
        raise DataError(f"{name} is empty") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"{name}: ragged or malformed rows ({_first_line(exc)})") from None
    except (OSError, EOFError) as exc:
        if isinstance(exc, (FileNotFoundError, IsADirectoryError, PermissionError)):
            raise DataError(_os_message(path, exc)) from None
        raise DataError(f"{name}: not a readable {fmt} file ({_first_line(exc)})") from None
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise DataError(f"{name}: not a readable {fmt} file ({_first_line(exc)})") from None
    except Exception as exc:
        # pyarrow raises its own error classes (ArrowInvalid, ...) for corrupt files.
        raise DataError(f"{name}: not a readable {fmt} file ({_first_line(exc)})") from None


def _read(
    path: str | os.PathLike[str],
    fmt: str,
    sep: str | None,
    nrows: int | None,
    progress: Callable[[float], None] | None,
    cancelled: Callable[[], bool] | None,
    tokens: bool = True,
) -> Loaded:
    import pandas as pd

    from waitwise_tui.core.data.infer import infer_frame

    notices: list[str] = []
    dialect_sep: str | None = None
    if fmt == "csv":
        dialect = sniff_csv(path, sep)
        dialect_sep = dialect.sep
        try:
            frame = _read_csv(path, dialect, dialect.encoding, nrows, progress, cancelled)
            encoding = dialect.encoding
        except UnicodeDecodeError:
            encoding = "latin-1"
            frame = _read_csv(path, dialect, encoding, nrows, progress, cancelled)
        if encoding != "utf-8":
            notices.append(f"{Path(path).name} is not valid UTF-8: read as latin-1")
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        if nrows is not None:
            batch = next(parquet.iter_batches(batch_size=nrows), None)
            if batch is None:
                frame = parquet.schema_arrow.empty_table().to_pandas()
            else:
                frame = batch.to_pandas()
        else:
            frame = _read_row_groups(parquet, progress, cancelled)
    elif fmt == "jsonl":
        frame = pd.read_json(path, lines=True, nrows=nrows, compression="infer")
    elif fmt == "feather":
        frame = pd.read_feather(path)
        if nrows is not None:
            frame = frame.head(nrows)
    else:
        raise DataError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    if isinstance(frame.index, pd.DatetimeIndex):
        frame = frame.reset_index()  # a time index is the series' time column
    frame.columns = [str(c) for c in frame.columns]
    inference = infer_frame(frame, tokens=tokens, cancelled=cancelled)
    if cancelled is not None and cancelled():
        raise LoadCancelled()
    if progress is not None:
        progress(1.0)
    try:
        file_bytes: int | None = os.path.getsize(path)
    except OSError:
        file_bytes = None
    return Loaded(
        path=str(path),
        format=fmt,
        frame=frame,
        notices=notices,
        sep=dialect_sep,
        inference=inference,
        file_bytes=file_bytes,
        tokens=tokens,
    )


def _read_csv(
    path: str | os.PathLike[str],
    dialect: CsvDialect,
    encoding: str,
    nrows: int | None,
    progress: Callable[[float], None] | None,
    cancelled: Callable[[], bool] | None,
) -> pd.DataFrame:
    import pandas as pd

    options: dict[str, Any] = {
        "sep": dialect.sep,
        "header": 0 if dialect.header else None,
        "encoding": encoding,
        # Only empty cells are nulls at parse time: infer.py reads the tokens (NA, ?, -...)
        # afterwards, so it can count them and knows which column they were in.
        "keep_default_na": False,
        "na_values": [""],
    }
    if nrows is not None or (progress is None and cancelled is None):
        # One call on the path is the fastest read (no chunk bookkeeping, no concat).
        with warnings.catch_warnings():
            # A column with numbers first and text later is read as mixed; that is fine.
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            frame = pd.read_csv(path, nrows=nrows, compression=dialect.compression, **options)
        if not dialect.header:
            frame.columns = [f"column_{i}" for i in range(frame.shape[1])]
        return frame
    size = max(os.path.getsize(path), 1)
    with open(path, "rb") as raw:
        source: Any = gzip.GzipFile(fileobj=raw) if dialect.compression else raw
        chunks = []
        with pd.read_csv(source, chunksize=_CHUNK_ROWS, **options) as reader:
            for chunk in reader:
                chunks.append(chunk)
                if cancelled is not None and cancelled():
                    raise LoadCancelled()
                if progress is not None:
                    progress(min(raw.tell() / size, 0.99))
    if not chunks:
        raise pd.errors.EmptyDataError("no data")
    frame = chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)
    if not dialect.header:
        frame.columns = [f"column_{i}" for i in range(frame.shape[1])]
    return frame


def _read_row_groups(
    parquet: Any,
    progress: Callable[[float], None] | None,
    cancelled: Callable[[], bool] | None,
) -> pd.DataFrame:
    import pyarrow as pa

    groups = parquet.num_row_groups
    tables = []
    for index in range(groups):
        if cancelled is not None and cancelled():
            raise LoadCancelled()
        tables.append(parquet.read_row_group(index))
        if progress is not None:
            progress(min((index + 1) / max(groups, 1), 0.99))
    if not tables:
        return parquet.schema_arrow.empty_table().to_pandas()
    return pa.concat_tables(tables).to_pandas()
