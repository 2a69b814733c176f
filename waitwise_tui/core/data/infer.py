"""Column types as a user means them: missing-value tokens, formatted numbers, dates.

A CSV reaches pandas as text wherever one cell in a column is not a plain number, so a
``?`` in a numeric column, ``1,234.5`` or ``12%`` leaves the whole column as strings, and
pandas knows ISO dates only. After a read, :func:`infer_frame` looks at every text column:

- **Missing tokens** (:data:`MISSING_TOKENS`, compared after stripping spaces; whitespace-
  only cells too) become nulls, counted per token. In a text column only the unambiguous
  tokens count (``-``, ``--`` and ``?`` can be real categories there).
- **Numbers**: a column whose other values are all numbers becomes numeric. Thousands
  separators (``1,234.5``), percent signs (``12%``, kept as 12) and currency signs
  (``$1,200``) are accepted when every value fits. A column that is numbers except for a
  few leftovers (at least :data:`MOSTLY_NUMERIC` of its values) becomes numeric too; the
  leftovers are nulls in the frame and are reported (count, examples, the rows).
- **Dates**: ISO dates and datetimes, year-month (``1949-01``, ``1949/01``), year-quarter
  (``1949Q1``, ``1949-Q1``), ``dd/mm/yyyy`` or ``mm/dd/yyyy`` (decided from the values:
  a first field above 12 means day first, a second field above 12 month first; when both
  readings fit, the field that changes more often from row to row is the day, and on a tie
  day first for ``.`` and ``-`` separators and month first for ``/``; the ambiguity is
  reported). Integer columns named like a time (``timestamp``, ``time``,
  ``epoch``, ``*_ts``, ``*_at``, ``date``...) whose range is plausible Unix seconds
  (1973-2100) or milliseconds become datetimes; without such a name, only 13-digit
  integers in increasing order (millisecond stamps 2001-2100) do.

Work is done on a column's distinct values where it can be (``pd.factorize``), so a
million rows of 365 dates cost one parse of 365 strings.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# Cells that mean "no value", as spreadsheets, R, pandas and databases write them.
MISSING_TOKENS: tuple[str, ...] = (
    "?",
    "NA",
    "N/A",
    "n/a",
    "na",
    "-",
    "--",
    "null",
    "NULL",
    "Null",
    "None",
    "none",
    "nan",
    "NaN",
    "NAN",
    "#N/A",
    "#NA",
    "<NA>",
    "NaT",
    "missing",
)
# Tokens that can be a real category in a text column ("-" as "no", "?" as "unknown").
_TEXT_SAFE_TOKENS = frozenset(MISSING_TOKENS) - {"?", "-", "--", "missing", "na", "none"}
_TOKENS = frozenset(MISSING_TOKENS)
BLANK = "(blank)"  # how whitespace-only cells are named in the token counts

MOSTLY_NUMERIC = 0.9
EXAMPLES = 5
# Distinct values parsed to decide a column's type before the whole column is converted.
_PROBE = 2000

_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_FORMATTED = re.compile(
    r"^(?P<sign>[+-])?(?P<cur1>[$€£¥])?\s?(?P<num>\d{1,3}(,\d{3})+(\.\d+)?|\d+\.?\d*|\.\d+)"
    r"\s?(?P<cur2>[$€£¥])?(?P<pct>%)?$"
)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
_YEAR_MONTH = re.compile(r"^(\d{4})[-/](\d{1,2})$")
_YEAR_QUARTER = re.compile(r"^(\d{4})[- ]?[Qq]([1-4])$")
_DMY = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})$")
_TIME_NAME = re.compile(
    r"(^|[^a-z])(time|timestamp|ts|epoch|date|datetime|created|updated|at)([^a-z]|$)"
)


@dataclass(frozen=True)
class ColumnInference:
    """What the loader decided about one column and what it had to change to get there."""

    inferred_type: str  # "numeric", "datetime", "text" (what the column is now)
    missing_tokens: dict[str, int] = field(default_factory=dict)  # token -> cells
    parse_failures: int = 0  # cells that fit neither the type nor a token (now null)
    failure_examples: tuple[str, ...] = ()
    failure_rows: tuple[int, ...] = ()  # row positions of those cells
    failure_values: tuple[str, ...] = ()  # what each of those cells held, as written
    note: str | None = None  # how the values were read: "thousands separators", ...
    ambiguous: str | None = None  # a reading the values also fit, e.g. "mm/dd/yyyy"

    @property
    def missing_count(self) -> int:
        return sum(self.missing_tokens.values())


def infer_frame(
    frame: pd.DataFrame, *, tokens: bool = True, cancelled: Any = None
) -> dict[str, ColumnInference]:
    """Convert ``frame``'s columns in place; returns what was found, by column name.

    Columns that needed nothing are left out of the result. With ``tokens=False`` no cell
    is read as missing and no leftover is dropped (numbers and dates are still recognised
    when every value fits).
    """
    import pandas as pd

    found: dict[str, ColumnInference] = {}
    for name in list(frame.columns):
        if cancelled is not None and cancelled():
            break
        column = frame[name]
        if pd.api.types.is_integer_dtype(column) and not pd.api.types.is_bool_dtype(column):
            converted = _epoch(str(name), column)
            if converted is not None:
                frame[name], found[str(name)] = converted
            continue
        if not (column.dtype == object or pd.api.types.is_string_dtype(column)):
            continue
        try:
            result = infer_column(column, tokens=tokens)
        except (ValueError, TypeError, OverflowError):
            result = None  # a column too odd to read any other way stays as read
        if result is not None:
            frame[name], found[str(name)] = result
    return found


def infer_column(
    column: pd.Series, *, tokens: bool = True
) -> tuple[pd.Series, ColumnInference] | None:
    """``column`` (text) as the type its values mean, or None when it stays as it is."""
    import numpy as np
    import pandas as pd

    try:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
    except TypeError:
        return None  # unhashable cells (lists, dicts from JSON lines): not text
    if not len(uniques):
        return None
    distinct = pd.Series(uniques)
    if pd.api.types.infer_dtype(distinct, skipna=True) != "string":
        return None  # mixed Python objects (JSON lists, numbers among strings): leave them
    texts = np.asarray(distinct, dtype=object)
    # Vectorised over the distinct values: a million distinct numbers with one "?" must not
    # hold the GIL (and so the UI) in a Python loop.
    stripped = distinct.str.strip()
    if tokens:
        blank = (stripped == "").to_numpy(dtype=bool)
        is_token = blank | stripped.isin(_TOKENS).to_numpy(dtype=bool)
    else:
        blank = is_token = np.zeros(len(distinct), dtype=bool)
    token_of = {
        int(i): (BLANK if blank[i] else str(stripped.iat[i])) for i in np.flatnonzero(is_token)
    }
    value_idx = np.flatnonzero(~is_token)
    values = stripped.iloc[value_idx].reset_index(drop=True)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    value_cells = int(counts[value_idx].sum())

    numbers, note = _parse_numbers(values)
    if numbers is not None and value_idx.size:
        ok = ~np.isnan(numbers)
        good_cells = int(counts[value_idx[ok]].sum())
        # Leftovers are tolerated only with token handling on: off reads cells as written.
        mostly = tokens and good_cells >= MOSTLY_NUMERIC * value_cells
        if good_cells == value_cells or mostly:
            table = np.full(len(uniques), np.nan)
            table[value_idx] = numbers
            failures = value_idx[~ok]
            return _finish(column, codes, counts, texts, token_of, table, failures, "numeric", note)
    dates = _parse_dates(values) if value_idx.size else None
    if dates is not None:
        stamps, note, ambiguous = dates
        table = np.full(len(uniques), np.datetime64("NaT"), dtype="datetime64[ns]")
        table[value_idx] = stamps
        return _finish(
            column, codes, counts, texts, token_of, table, value_idx[:0], "datetime", note,
            ambiguous,
        )  # fmt: skip
    # Text: only the unambiguous tokens become nulls.
    text_tokens = {i: t for i, t in token_of.items() if t in _TEXT_SAFE_TOKENS or t == BLANK}
    if not text_tokens:
        return None
    drop = np.zeros(len(uniques), dtype=bool)
    drop[list(text_tokens)] = True
    values_out = column.where(~_cell_mask(codes, drop))
    return values_out, ColumnInference("text", missing_tokens=_token_counts(counts, text_tokens))


def _token_counts(counts: np.ndarray, token_of: dict[int, str]) -> dict[str, int]:
    missing: dict[str, int] = {}
    for index, tok in token_of.items():
        missing[tok] = missing.get(tok, 0) + int(counts[index])
    return dict(sorted(missing.items(), key=lambda item: (-item[1], item[0])))


def _cell_mask(codes: np.ndarray, unique_mask: np.ndarray) -> np.ndarray:
    """Per cell: is its distinct value one of ``unique_mask``'s (nulls never are)."""
    import numpy as np

    padded = np.append(unique_mask, False)  # code -1 (null) reads the last entry
    return padded[codes]


def _finish(
    column: pd.Series,
    codes: np.ndarray,
    counts: np.ndarray,
    texts: np.ndarray,
    token_of: dict[int, str],
    table: np.ndarray,
    failures: np.ndarray,
    kind: str,
    note: str | None,
    ambiguous: str | None = None,
) -> tuple[pd.Series, ColumnInference]:
    import numpy as np
    import pandas as pd

    null = np.array(np.nan if kind == "numeric" else np.datetime64("NaT"), dtype=table.dtype)
    values = np.append(table, null)[codes]
    series = pd.Series(values, index=column.index, name=column.name)
    if kind == "numeric":
        finite = values[~np.isnan(values)]
        # Whole numbers without nulls are integers, as pandas would have read them.
        whole = finite.size == values.size and np.all(finite == np.round(finite))
        if whole and np.all(np.abs(finite) < 2**53):
            series = series.astype("int64")
    failure_mask = np.zeros(len(texts), dtype=bool)
    failure_mask[failures] = True
    rows = np.flatnonzero(_cell_mask(codes, failure_mask))
    examples = tuple(str(texts[i]) for i in failures[:EXAMPLES])
    return series, ColumnInference(
        kind,
        missing_tokens=_token_counts(counts, token_of),
        parse_failures=int(rows.size),
        failure_examples=examples,
        failure_rows=tuple(int(r) for r in rows),
        failure_values=tuple(str(t) for t in texts[codes[rows]]),
        note=note,
        ambiguous=ambiguous,
    )


# --------------------------------------------------------------------------- numbers


def _parse_numbers(values: pd.Series) -> tuple[np.ndarray | None, str | None]:
    """Each value (stripped text) as a float (NaN where it is no number), and how they were
    written. None when too few values are numbers to call the column numeric at all."""
    import numpy as np

    if not len(values):
        return np.zeros(0), None
    probe = values.iloc[:_PROBE].tolist()
    plain = sum(1 for v in probe if _PLAIN_NUMBER.match(v))
    formatted = sum(1 for v in probe if not _PLAIN_NUMBER.match(v) and _FORMATTED.match(v))
    if plain + formatted < MOSTLY_NUMERIC * len(probe):
        return None, None
    is_plain = values.str.fullmatch(_PLAIN_NUMBER.pattern).to_numpy(dtype=bool, na_value=False)
    out = np.full(len(values), np.nan)
    if is_plain.any():
        # astype is the C (or Arrow) cast; to_numeric is about twice as slow here.
        out[is_plain] = values[is_plain].astype("float64").to_numpy(dtype="float64")
    kinds: set[str] = set()
    for index in np.flatnonzero(~is_plain):
        match = _FORMATTED.match(values.iat[index])
        if match is None:
            continue
        number = float(match["num"].replace(",", ""))
        out[index] = -number if match["sign"] == "-" else number
        if "," in match["num"]:
            kinds.add("thousands separators")
        if match["pct"]:
            kinds.add("percent signs (12% read as 12)")
        if match["cur1"] or match["cur2"]:
            kinds.add("currency signs")
    note = ", ".join(sorted(kinds)) if kinds else None
    return out, (f"numbers written with {note}" if note else None)


# --------------------------------------------------------------------------- dates


def _parse_dates(column: pd.Series) -> tuple[np.ndarray, str | None, str | None] | None:
    """Every value as datetime64[ns] when all of them are dates in one form, else None."""
    import numpy as np
    import pandas as pd

    if not len(column):
        return None
    first = column.iat[0]
    if _ISO.match(first):
        # Vectorised: ISO timestamps are the one date form with millions of distinct values.
        if not column.str.fullmatch(_ISO.pattern).all():
            return None
        parsed = pd.to_datetime(column, format="ISO8601", errors="coerce")
        if parsed.isna().any():
            return None
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        return parsed.to_numpy(dtype="datetime64[ns]"), None, None
    values = column.tolist()
    if _YEAR_MONTH.match(first):
        pairs = [_YEAR_MONTH.match(v) for v in values]
        if not all(p and 1 <= int(p[2]) <= 12 for p in pairs):
            return None
        stamps = np.array(
            [f"{p[1]}-{int(p[2]):02d}" for p in pairs if p], dtype="datetime64[M]"
        ).astype("datetime64[ns]")
        return stamps, "year-month periods (first day of the month)", None
    if _YEAR_QUARTER.match(first):
        quarters = [_YEAR_QUARTER.match(v) for v in values]
        if not all(quarters):
            return None
        stamps = np.array(
            [f"{q[1]}-{(int(q[2]) - 1) * 3 + 1:02d}" for q in quarters if q],
            dtype="datetime64[M]",
        ).astype("datetime64[ns]")
        return stamps, "year-quarter periods (first day of the quarter)", None
    if _DMY.match(first):
        parts = [_DMY.match(v) for v in values]
        if not all(parts):
            return None
        seps = {p[2] for p in parts if p}
        a = [int(p[1]) for p in parts if p]
        b = [int(p[3]) for p in parts if p]
        day_first_fits = max(a) <= 31 and max(b) <= 12
        month_first_fits = max(a) <= 12 and max(b) <= 31
        ambiguous = None
        if day_first_fits and month_first_fits:
            # Both fit: in rows in time order the day changes more often than the month.
            a_moves = sum(x != y for x, y in itertools.pairwise(a))
            b_moves = sum(x != y for x, y in itertools.pairwise(b))
            day_first = a_moves > b_moves if a_moves != b_moves else seps != {"/"}
            ambiguous = "mm/dd/yyyy" if day_first else "dd/mm/yyyy"
        elif day_first_fits or month_first_fits:
            day_first = day_first_fits
        else:
            return None
        fmt = "%d{0}%m{0}%Y" if day_first else "%m{0}%d{0}%Y"
        sep = next(iter(seps)) if len(seps) == 1 else None
        if sep is None:
            return None
        parsed = pd.to_datetime(pd.Series(values), format=fmt.format(sep), errors="coerce")
        if parsed.isna().any():
            return None  # e.g. 31/02/2020
        form = ("dd{0}mm{0}yyyy" if day_first else "mm{0}dd{0}yyyy").format(sep)
        note = f"dates read as {form}"
        if ambiguous:
            ambiguous = ambiguous.replace("/", sep)
        return parsed.to_numpy(dtype="datetime64[ns]"), note, ambiguous
    return None


_SECONDS = (1e8, 4.1e9)  # 1973 .. 2100
_MILLIS = (1e11, 4.1e12)


def _epoch(name: str, column: pd.Series) -> tuple[pd.Series, ColumnInference] | None:
    """An integer column named like a time whose range is Unix seconds or milliseconds."""
    import pandas as pd

    values = column.dropna()
    if values.empty:
        return None
    low, high = float(values.min()), float(values.max())
    named = bool(_TIME_NAME.search(name.lower().replace("-", "_")))
    if not named:
        # Without a name to go by, only a range that says so: 13-digit integers in time
        # order (a log's millisecond stamps); seconds overlap too many ids and counts.
        in_order = len(values) > 1 and bool(values.is_monotonic_increasing)
        if not (in_order and _MILLIS[0] <= low and high <= _MILLIS[1] and low >= 1e12):
            return None
    if _SECONDS[0] <= low and high <= _SECONDS[1]:
        unit, note = "s", "Unix seconds"
    elif _MILLIS[0] <= low and high <= _MILLIS[1]:
        unit, note = "ms", "Unix milliseconds"
    else:
        return None
    return pd.to_datetime(column, unit=unit), ColumnInference("datetime", note=note)
