"""Dataset loading and profiling (pandas), the profile's JSON form, recents and saved profiles.

Formats: CSV/TSV (delimiter and header sniffed; gzip too), Parquet, JSON lines, Feather/Arrow.
Every failure a user can cause (empty file, ragged rows, binary garbage, a file that vanishes)
becomes a :class:`DataError` with one readable line. Profiling avoids Python loops over rows:
each column is hashed once (``value_counts``) and duplicate rows are found by hashing rows.

Alert thresholds, chosen in the spirit of ydata-profiling's defaults:

- ``missing``: more than 1 % nulls; ``all_missing``: every value is null.
- ``constant``: one distinct non-null value; ``unique``: every value distinct (id-like).
- ``high_cardinality``: a non-numeric column with more than 50 distinct values that is not
  all-unique (ydata's ``cardinality_threshold`` is 50 too).
- ``skewed``: |skew| > 20 (ydata's ``skewness_threshold``).
- ``high_correlation``: |Pearson r| > 0.9 between two numeric columns (on a sample of
  100k rows and the first 100 numeric columns, to bound the cost).
- ``imbalance``: a column with 2..50 classes whose normalised entropy is below 0.5
  (ydata's ``imbalance_threshold`` of 0.5 on 1 - entropy / log(k)).
- ``infinite``: any +/-inf; ``zeros``: more than 10 % zeros in a numeric column.
- ``duplicates``: any duplicate rows (dataset level, column ``None``).
"""

from __future__ import annotations

import csv
import datetime as _dt
import gzip
import json
import math
import os
import re
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from waitwise_tui.core.atomic import atomic_write_text

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from waitwise_tui.core.workspace import Workspace

FORMATS = ("csv", "parquet", "jsonl", "feather")
HEAD_ROWS = 100
# Above this many rows the UI profiles a sample first (the user can ask for the exact profile).
SAMPLE_THRESHOLD = 500_000
SAMPLE_ROWS = 200_000
CATEGORY_LIMIT = 50
RECENT_LIMIT = 10
MISSING_THRESHOLD = 0.01
SKEW_THRESHOLD = 20.0
CORRELATION_THRESHOLD = 0.9
IMBALANCE_THRESHOLD = 0.5
ZEROS_THRESHOLD = 0.10
CORRELATION_SAMPLE = 100_000
CORRELATION_MAX_COLUMNS = 100
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


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    dtype: str
    kind: str  # "numeric", "bool", "datetime", "text"
    non_null: int
    nulls: int
    null_fraction: float | None
    unique: int
    min: Any
    max: Any
    mean: float | None
    std: float | None
    top: Any
    top_count: int
    skew: float | None
    zeros: int
    infinite: int
    categories: tuple[Any, ...] | None  # every distinct value when unique <= CATEGORY_LIMIT
    # 1 - normalised entropy of the classes (0 = balanced) for non-numeric columns with
    # 2..CATEGORY_LIMIT classes; None elsewhere.
    imbalance: float | None


@dataclass(frozen=True)
class Alert:
    kind: str
    column: str | None
    message: str


@dataclass(frozen=True)
class Profile:
    path: str
    format: str
    n_rows: int  # rows in the dataset (not in the sample)
    n_columns: int
    sampled: bool
    sample_rows: int  # rows the statistics were computed from
    duplicate_rows: int
    memory_bytes: int
    columns: tuple[ColumnProfile, ...]
    alerts: tuple[Alert, ...]

    @property
    def key_candidates(self) -> list[str]:
        """Columns whose values are all present and all distinct."""
        return [
            c.name
            for c in self.columns
            if c.nulls == 0 and self.sample_rows > 0 and c.unique == self.sample_rows
        ]

    def column(self, name: str) -> ColumnProfile:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


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
    path: str | os.PathLike[str], *, sep: str | None = None, nrows: int = HEAD_ROWS
) -> Loaded:
    """The first ``nrows`` rows, fast, so the UI can show something at once."""
    fmt = detect_format(path)
    return _guarded(path, fmt, lambda: _read(path, fmt, sep, nrows, None, None))


def load_dataset(
    path: str | os.PathLike[str],
    *,
    sep: str | None = None,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Loaded:
    """Read the whole dataset. ``progress`` gets fractions 0..1; ``cancelled`` stops early."""
    fmt = detect_format(path)
    loaded = _guarded(path, fmt, lambda: _read(path, fmt, sep, None, progress, cancelled))
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
) -> Loaded:
    import pandas as pd

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
        frame = _parse_dates(frame)
    elif fmt == "feather":
        frame = pd.read_feather(path)
        if nrows is not None:
            frame = frame.head(nrows)
    else:
        raise DataError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    if progress is not None:
        progress(1.0)
    frame.columns = [str(c) for c in frame.columns]
    return Loaded(path=str(path), format=fmt, frame=frame, notices=notices, sep=dialect_sep)


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
    }
    if nrows is not None or (progress is None and cancelled is None):
        # One call on the path is the fastest read (no chunk bookkeeping, no concat).
        with warnings.catch_warnings():
            # A column with numbers first and text later is read as mixed; that is fine.
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            frame = pd.read_csv(path, nrows=nrows, compression=dialect.compression, **options)
        if not dialect.header:
            frame.columns = [f"column_{i}" for i in range(frame.shape[1])]
        return _parse_dates(frame)
    size = max(os.path.getsize(path), 1)
    # Dates are parsed chunk by chunk: one to_datetime over millions of rows would hold
    # the GIL (and so freeze the UI) for most of a second.
    candidates: list[str] | None = None
    originals: dict[str, list[pd.Series]] = {}
    failed: set[str] = set()
    with open(path, "rb") as raw:
        source: Any = gzip.GzipFile(fileobj=raw) if dialect.compression else raw
        chunks = []
        with pd.read_csv(source, chunksize=_CHUNK_ROWS, **options) as reader:
            for chunk in reader:
                if candidates is None:
                    candidates = _date_candidates(chunk)
                    originals = {name: [] for name in candidates}
                for name in candidates:
                    originals[name].append(chunk[name])
                    if name not in failed:
                        parsed = _to_dates(chunk[name])
                        if parsed is None:
                            failed.add(name)
                        else:
                            chunk[name] = parsed
                chunks.append(chunk)
                if cancelled is not None and cancelled():
                    raise LoadCancelled()
                if progress is not None:
                    progress(min(raw.tell() / size, 0.99))
    if not chunks:
        raise pd.errors.EmptyDataError("no data")
    frame = chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)
    for name in failed:  # not dates after all: keep the text as read
        frame[name] = pd.concat(originals[name], ignore_index=True)
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


_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"
)


def _parse_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn text columns that hold ISO dates (judged on their first values) into datetimes."""
    for name in _date_candidates(frame):
        parsed = _to_dates(frame[name])
        if parsed is not None:
            frame[name] = parsed
    return frame


def _date_candidates(frame: pd.DataFrame) -> list[str]:
    import pandas as pd

    names = []
    for name in frame.columns:
        column = frame[name]
        if not (pd.api.types.is_string_dtype(column) or column.dtype == object):
            continue
        head = column.dropna().head(HEAD_ROWS)
        if not head.empty and all(isinstance(v, str) and _ISO_DATE.match(v) for v in head):
            names.append(name)
    return names


def _to_dates(column: pd.Series) -> pd.Series | None:
    """``column`` as datetimes, or None when some value would not survive the parse."""
    import pandas as pd

    try:
        parsed = pd.to_datetime(column, format="ISO8601", errors="coerce")
    except (ValueError, TypeError, OverflowError):
        return None
    return parsed if parsed.isna().sum() == column.isna().sum() else None


# --------------------------------------------------------------------------- profiling


def column_kind(series: pd.Series) -> str:
    import pandas as pd

    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_numeric_dtype(series):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    return "text"


def profile_frame(
    frame: pd.DataFrame,
    *,
    path: str = "",
    format: str = "",
    sample_rows: int | None = None,
    seed: int = 0,
) -> Profile:
    """Profile ``frame``; with ``sample_rows`` and more rows than that, from a random sample."""
    import numpy as np
    import pandas as pd

    total = len(frame)
    sampled = sample_rows is not None and total > sample_rows
    data = frame.sample(n=sample_rows, random_state=seed) if sampled else frame
    n = len(data)
    # Columns are profiled in parallel threads: the heavy numpy calls (sorting in
    # np.unique, reductions) release the GIL, so cores add up.
    workers = max(1, min(data.shape[1], os.cpu_count() or 1, 8))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        duplicates_future = pool.submit(_duplicate_count, data)
        columns = tuple(
            pool.map(
                lambda i: _profile_column(str(data.columns[i]), data.iloc[:, i], n),
                range(data.shape[1]),
            )
        )
        duplicates = duplicates_future.result()
    try:
        memory = int(frame.memory_usage(deep=True).sum())
    except (TypeError, ValueError):
        memory = int(frame.memory_usage(deep=False).sum())
    # Pairwise correlation costs rows x columns²: wide frames are checked on their first
    # CORRELATION_MAX_COLUMNS numeric columns.
    numeric = [c.name for c in columns if c.kind == "numeric" and c.unique > 1]
    numeric = numeric[:CORRELATION_MAX_COLUMNS]
    correlations: list[tuple[str, str, float]] = []
    if len(numeric) >= 2 and n >= 3:
        corr_data = data[numeric]
        if n > CORRELATION_SAMPLE:
            corr_data = corr_data.sample(n=CORRELATION_SAMPLE, random_state=seed)
        values = corr_data.to_numpy(dtype="float64", na_value=np.nan)
        values = np.where(np.isfinite(values), values, np.nan)  # never write into a view
        matrix = pd.DataFrame(values, columns=numeric).corr().to_numpy()
        for i in range(len(numeric)):
            for j in range(i + 1, len(numeric)):
                r = matrix[i, j]
                if np.isfinite(r) and abs(r) > CORRELATION_THRESHOLD:
                    correlations.append((numeric[i], numeric[j], float(r)))
    alerts = _alerts(columns, n, duplicates, correlations)
    return Profile(
        path=path,
        format=format,
        n_rows=total,
        n_columns=frame.shape[1],
        sampled=sampled,
        sample_rows=n,
        duplicate_rows=duplicates,
        memory_bytes=memory,
        columns=columns,
        alerts=tuple(alerts),
    )


def _duplicate_count(data: pd.DataFrame) -> int:
    """Rows equal to an earlier row, found by hashing rows (far cheaper than duplicated())."""
    import pandas as pd

    if not len(data) or not data.shape[1]:
        return 0
    try:
        hashes = pd.util.hash_pandas_object(data, index=False)
    except TypeError:
        # Unhashable cells (lists/dicts from JSON lines): compare their text form.
        return int(data.astype(str).duplicated().sum())
    return int(len(data) - hashes.nunique())


def _profile_column(name: str, series: pd.Series, n: int) -> ColumnProfile:
    import numpy as np
    import pandas as pd

    kind = column_kind(series)
    values, counts = _distinct_counts(series, kind)
    non_null = int(counts.sum())
    nulls = n - non_null
    unique = len(counts)
    top_at = int(counts.argmax()) if unique else 0
    top = values[top_at] if unique else None
    top_count = int(counts[top_at]) if unique else 0
    categories = None
    if unique <= CATEGORY_LIMIT:
        plain = [plain_value(v) for v in values]
        try:
            categories = tuple(sorted(plain))
        except TypeError:
            categories = tuple(plain)  # mixed types: keep the counting order
    minimum = maximum = mean = std = skew = None
    zeros = infinite = 0
    if kind == "numeric" and non_null:
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        finite_mask = np.isfinite(values)
        finite_count = int(finite_mask.sum())
        # NaN are the nulls; whatever else is not finite is +/-inf.
        infinite = values.size - finite_count - nulls
        finite = values if finite_count == values.size else values[finite_mask]
        if finite.size:
            zeros = int(np.count_nonzero(finite == 0))
            minimum, maximum = float(finite.min()), float(finite.max())
            if pd.api.types.is_integer_dtype(series):
                minimum, maximum = int(minimum), int(maximum)
            with np.errstate(all="ignore"):  # huge values overflow to inf: no moments then
                mean = float(finite.mean())
                centred = finite - mean
                squared = centred * centred  # products, not **: pow is far slower
                sum_squares = float(squared.sum())
                std = math.sqrt(sum_squares / (finite.size - 1)) if finite.size > 1 else None
                m3 = float((squared * centred).mean()) if finite.size > 2 else math.nan
            m2 = sum_squares / finite.size
            if std is not None and not math.isfinite(std):
                std = None
            if finite.size > 2 and std:
                try:
                    denominator = m2**1.5
                except OverflowError:
                    denominator = math.inf
                # A constant column has no skew (its m2 is rounding noise); tiny m2 underflows,
                # huge values overflow: no skew either way.
                if unique > 1 and 0 < denominator < math.inf and math.isfinite(m3):
                    count = finite.size
                    # Sample skewness with pandas' bias correction, so it matches Series.skew().
                    g1 = m3 / denominator
                    skew = g1 * math.sqrt(count * (count - 1)) / (count - 2)
    elif kind == "datetime" and non_null:
        minimum, maximum = series.min(), series.max()
    balance = None
    if kind in ("text", "bool") and 2 <= unique <= CATEGORY_LIMIT:
        shares = counts.astype("float64") / non_null
        entropy = float(-(shares * np.log(shares)).sum())
        balance = 1.0 - entropy / math.log(unique)
    return ColumnProfile(
        name=name,
        dtype=str(series.dtype),
        kind=kind,
        non_null=non_null,
        nulls=nulls,
        null_fraction=(nulls / n) if n else None,
        unique=unique,
        min=minimum,
        max=maximum,
        mean=mean,
        std=std,
        top=top,
        top_count=top_count,
        skew=skew,
        zeros=zeros,
        infinite=infinite,
        categories=categories,
        imbalance=balance,
    )


def _distinct_counts(series: pd.Series, kind: str) -> tuple[Any, np.ndarray]:
    """Distinct non-null values and how often each occurs.

    Numeric columns are counted with numpy (a bincount for small integer ranges, else the
    sort in ``np.unique``), which releases the GIL: columns profile in parallel threads and
    a UI thread keeps drawing meanwhile. pandas' hashing would hold the GIL throughout.
    """
    import numpy as np

    if kind == "numeric":
        raw = series.to_numpy()
        if raw.dtype.kind in "iu" and raw.size:
            low, high = int(raw.min()), int(raw.max())
            if high - low <= 4 * raw.size:
                # Small integer ranges (labels, counts, ids): one counting pass, no sort.
                tally = np.bincount((raw - low).astype(np.intp, copy=False))
                present = np.flatnonzero(tally)
                return present + low, tally[present]
        if raw.dtype.kind in "iuf":
            if raw.dtype.kind == "f":
                raw = raw[~np.isnan(raw)]
            return np.unique(raw, return_counts=True)
    try:
        counted = series.value_counts(dropna=True, sort=False)
    except TypeError:
        # Unhashable cells (lists, dicts): count their text form instead.
        counted = series.dropna().astype(str).value_counts(sort=False)
    return counted.index, counted.to_numpy()


def _alerts(
    columns: tuple[ColumnProfile, ...],
    n: int,
    duplicates: int,
    correlations: list[tuple[str, str, float]],
) -> list[Alert]:
    alerts: list[Alert] = []
    if duplicates:
        alerts.append(Alert("duplicates", None, f"{duplicates} duplicate rows"))
    for col in columns:
        if n and col.non_null == 0:
            alerts.append(Alert("all_missing", col.name, f"{col.name} is entirely null"))
            continue
        if col.null_fraction is not None and col.null_fraction > MISSING_THRESHOLD:
            alerts.append(
                Alert("missing", col.name, f"{col.name} has {col.null_fraction:.1%} missing")
            )
        if col.unique == 1:
            alerts.append(Alert("constant", col.name, f"{col.name} has one value only"))
        elif n > 1 and col.nulls == 0 and col.unique == n:
            alerts.append(Alert("unique", col.name, f"{col.name} is all-unique (id-like)"))
        elif col.kind == "text" and col.unique > CATEGORY_LIMIT:
            alerts.append(
                Alert("high_cardinality", col.name, f"{col.name} has {col.unique} distinct values")
            )
        if col.skew is not None and abs(col.skew) > SKEW_THRESHOLD:
            alerts.append(Alert("skewed", col.name, f"{col.name} is skewed ({col.skew:.1f})"))
        if col.infinite:
            alerts.append(
                Alert("infinite", col.name, f"{col.name} has {col.infinite} infinite values")
            )
        if col.kind == "numeric" and col.non_null and col.zeros / col.non_null > ZEROS_THRESHOLD:
            alerts.append(
                Alert("zeros", col.name, f"{col.name} is {col.zeros / col.non_null:.0%} zeros")
            )
        if col.imbalance is not None and col.imbalance > IMBALANCE_THRESHOLD:
            alerts.append(
                Alert("imbalance", col.name, f"{col.name} is imbalanced ({col.imbalance:.2f})")
            )
    for left, right, r in correlations:
        alerts.append(
            Alert("high_correlation", left, f"{left} and {right} are correlated (r={r:.2f})")
        )
    return alerts


# --------------------------------------------------------------------------- JSON


def plain_value(value: Any) -> Any:
    """A JSON-safe plain Python value: no NaN/inf, no numpy types, datetimes as ISO text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    try:
        import numpy as np
        import pandas as pd
    except ImportError:  # pragma: no cover - both are dependencies
        return str(value)
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return str(value)
    if isinstance(value, np.generic):
        return plain_value(value.item())
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def profile_to_dict(profile: Profile) -> dict[str, Any]:
    """The ``data --json`` schema (see the module docstring of ``commands/data``)."""
    return {
        "path": profile.path,
        "format": profile.format,
        "n_rows": profile.n_rows,
        "n_columns": profile.n_columns,
        "sampled": profile.sampled,
        "duplicate_rows": profile.duplicate_rows,
        "memory_bytes": profile.memory_bytes,
        "columns": [
            {
                "name": c.name,
                "dtype": c.dtype,
                "nulls": c.nulls,
                "null_fraction": plain_value(c.null_fraction),
                "unique": c.unique,
                "min": plain_value(c.min),
                "max": plain_value(c.max),
                "mean": plain_value(c.mean),
                "std": plain_value(c.std),
                "top": plain_value(c.top),
            }
            for c in profile.columns
        ],
        "alerts": [
            {"kind": a.kind, "column": a.column, "message": a.message} for a in profile.alerts
        ],
    }


def saved_profile_dict(profile: Profile, *, created: _dt.datetime | None = None) -> dict[str, Any]:
    """The saved form: the JSON schema plus "created", per-column "categories", "key_candidates"."""
    data = profile_to_dict(profile)
    stamp = created or _dt.datetime.now(_dt.timezone.utc)
    data["created"] = stamp.isoformat(timespec="seconds")
    for entry, col in zip(data["columns"], profile.columns, strict=True):
        entry["categories"] = list(col.categories) if col.categories is not None else None
    data["key_candidates"] = profile.key_candidates
    return data


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def profile_stem(path: str) -> str:
    """``train.csv.gz`` -> ``train``; unsafe characters become ``_``."""
    name = Path(path).name
    for suffix in (".gz",):
        name = name.removesuffix(suffix)
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return re.sub(r"[^A-Za-z0-9._-]", "_", stem) or "data"


def save_profile(workspace: Workspace, profile: Profile) -> Path:
    """Write ``.waitwise/profiles/<stem>.json`` atomically; returns the path."""
    target = workspace.profiles_dir / f"{profile_stem(profile.path)}.json"
    workspace.ensure()
    atomic_write_text(target, dumps(saved_profile_dict(profile)))
    return target


# --------------------------------------------------------------------------- recents


def recent_path(workspace: Workspace) -> Path:
    return workspace.state_dir / "data_recent.json"


def load_recent(workspace: Workspace) -> list[str]:
    """Recently opened datasets, newest first; a broken file reads as empty."""
    try:
        raw = json.loads(recent_path(workspace).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(raw, list):
        return []
    return [p for p in raw if isinstance(p, str)][:RECENT_LIMIT]


def add_recent(workspace: Workspace, path: str) -> list[str]:
    """Put ``path`` (made absolute) first in the recents list and save it."""
    absolute = str(Path(path).resolve())
    recents = [absolute] + [p for p in load_recent(workspace) if p != absolute]
    recents = recents[:RECENT_LIMIT]
    workspace.ensure()
    atomic_write_text(recent_path(workspace), json.dumps(recents, indent=2) + "\n")
    return recents
