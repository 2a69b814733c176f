"""The alternatives reading list's store: the one human-editable TOML file.

The list lives in one human-editable file, ``.waitwise/alternatives.toml``: a header
with ``next_id`` and one ``[[entry]]`` table per paper, method or library, in the
order they were added. Entry ids are small integers handed out from ``next_id`` and
never reused, so "#12" keeps meaning the same entry across edits, deletes and git.

The reader is tolerant of hand edits. An entry it cannot make sense of (a bad status,
a missing title) is reported with its line and kept: its raw text is written back
verbatim. A file that is not valid TOML at all raises ``StoreSyntaxError`` and is
never overwritten; every write loads the file first (``update_list``), so writes are
refused until the user fixes it, and hand edits made while the app runs are kept.

Writes edit the document in place (tomlkit): only the keys the app changed are touched,
so comments, key order, blank lines and the hand-written formatting of every other entry
stay as they were, and every entry stays an ``[[entry]]`` table however short. A write
holds a lock file beside the store while it reads, changes and atomically replaces it,
so two writers (app and CLI) never lose each other's change.
"""

from __future__ import annotations

import contextlib
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from waitwise_tui.core.alternatives.arxiv import (
    arxiv_base,
    normalize_doi,
    parse_arxiv_id,
)
from waitwise_tui.core.alternatives.model import (
    DEFAULT_PRIORITY,
    KINDS,
    PRIORITIES,
    STATUSES,
    Entry,
    citation_key_base,
    is_placeholder_title,
    merge_entries,
    normalise_choice,
    unique_key,
    utc_now,
)
from waitwise_tui.core.atomic import atomic_write_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


# Key order in the file: short identifying fields first, the free-form notes last.
_FIELD_ORDER = (
    "id",
    "title",
    "kind",
    "status",
    "priority",
    "arxiv_id",
    "doi",
    "url",
    "authors",
    "year",
    "minutes",
    "tags",
    "primary_class",
    "links",
    "added",
    "updated",
    "cite_key",
    "cite_aliases",
    "entry_type",
    "notes",
    "bibtex",
)
_HEADER = (
    "# waitwise-tui alternatives reading list: one [[entry]] table per item.\n"
    "# Edit freely. Ids are never reused; next_id is the next one to hand out.\n"
    f"# kind: {', '.join(KINDS)}\n"
    f"# status: {', '.join(STATUSES)}; priority: 1 (highest) to 5\n"
)
_ENTRY_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*entry[ \t]*\]\][ \t]*(#.*)?$")


class StoreError(Exception):
    """The store file cannot be used; the message is one line for the user."""


class StoreSyntaxError(StoreError):
    """The store file is not valid TOML; ``line`` is 1-based (0 when unknown)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class Unreadable:
    """An ``[[entry]]`` the reader could not use; written back exactly as found."""

    text: str
    line: int
    problem: str
    table: Any = None  # its tomlkit table, put back untouched
    index: int | None = None  # its place among the file's [[entry]] tables


@dataclass
class AlternativesList:
    """The whole file in memory: entries and unreadable blocks in file order."""

    items: list[Entry | Unreadable] = field(default_factory=list)
    next_id: int = 1
    problems: list[str] = field(default_factory=list)
    top_extra: dict[str, Any] = field(default_factory=dict)
    # The text it was read from and, per entry id, its table's index and the entry as
    # read; a write parses the text with tomlkit (``document``) and changes only what
    # differs from what was read (``origins``: entry id -> its table, entry as read).
    source: str | None = field(default=None, repr=False, compare=False)
    name: str = field(default="alternatives.toml", repr=False, compare=False)
    positions: dict[int, tuple[int, Entry]] = field(default_factory=dict, repr=False, compare=False)
    document: Any = field(default=None, repr=False, compare=False)
    origins: dict[int, tuple[Any, Entry]] = field(default_factory=dict, repr=False, compare=False)

    def copy(self) -> AlternativesList:
        """An independent copy (before any write: the tomlkit document is not shared)."""
        return AlternativesList(
            items=[replace(i) if isinstance(i, Unreadable) else i for i in self.items],
            next_id=self.next_id,
            problems=list(self.problems),
            top_extra=dict(self.top_extra),
            source=self.source,
            name=self.name,
            positions=dict(self.positions),
        )

    def entries(self) -> list[Entry]:
        return [item for item in self.items if isinstance(item, Entry)]

    def unreadable(self) -> list[Unreadable]:
        return [item for item in self.items if isinstance(item, Unreadable)]

    def get(self, entry_id: int) -> Entry | None:
        for entry in self.entries():
            if entry.id == entry_id:
                return entry
        return None

    def add(self, entry: Entry, *, now: datetime | None = None) -> Entry:
        """Append ``entry`` under a new id (its own id is ignored)."""
        stamp = now or utc_now()
        new = replace(entry, id=self.next_id, added=entry.added or stamp, updated=stamp)
        self.next_id += 1
        new = self._keyed(new)
        self.items.append(new)
        return new

    def used_keys(self, *, but: int = 0) -> set[str]:
        """Citation keys and aliases of every entry except the one with id ``but``."""
        used: set[str] = set()
        for entry in self.entries():
            if entry.id != but:
                used.update(k for k in (entry.cite_key, *entry.cite_aliases) if k)
        return used

    def _keyed(self, entry: Entry) -> Entry:
        """``entry`` with a citation key unique in the list: its own (imported) one when
        free, else a new ``authorYEARword``; none yet while the title is a placeholder."""
        used = self.used_keys(but=entry.id)
        if entry.cite_key and entry.cite_key not in used:
            return entry
        if not entry.cite_key and is_placeholder_title(entry):
            return entry
        base = entry.cite_key or citation_key_base(entry)
        return replace(entry, cite_key=unique_key(base, used))

    def key_all(self) -> int:
        """Give every entry without a citation key (one added by hand in the file) its
        ``authorYEARword`` key, unique in the list; keys once given never change.
        Placeholder titles wait for their real title. Returns how many were keyed."""
        keyed = 0
        for index, item in enumerate(self.items):
            if isinstance(item, Entry) and not item.cite_key:
                new = self._keyed(item)
                if new.cite_key:
                    self.items[index] = new
                    keyed += 1
        return keyed

    def put(self, entry: Entry, *, now: datetime | None = None) -> Entry:
        """Replace the entry with ``entry.id``; raises KeyError if it is gone."""
        for index, item in enumerate(self.items):
            if isinstance(item, Entry) and item.id == entry.id:
                new = self._keyed(replace(entry, updated=now or utc_now()))
                self.items[index] = new
                return new
        raise KeyError(entry.id)

    def remove(self, ids: Iterable[int]) -> int:
        doomed = set(ids)
        before = len(self.items)
        self.items = [
            item for item in self.items if not (isinstance(item, Entry) and item.id in doomed)
        ]
        return before - len(self.items)

    def set_status(self, ids: Iterable[int], status: str, *, now: datetime | None = None) -> int:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        wanted = set(ids)
        changed = 0
        stamp = now or utc_now()
        for index, item in enumerate(self.items):
            if isinstance(item, Entry) and item.id in wanted and item.status != status:
                self.items[index] = replace(item, status=status, updated=stamp)
                changed += 1
        return changed

    def find_duplicate(self, entry: Entry) -> Entry | None:
        """An entry with the same arXiv id (any version) or DOI (any case)."""
        base = arxiv_base(entry.arxiv_id)
        doi = entry.doi.lower()
        for other in self.entries():
            if base and arxiv_base(other.arxiv_id) == base:
                return other
            if doi and other.doi.lower() == doi:
                return other
        return None

    def add_or_merge(self, entry: Entry, *, now: datetime | None = None) -> tuple[bool, Entry]:
        """Add ``entry``, or fold it into its duplicate. Returns (added, stored entry)."""
        existing = self.find_duplicate(entry)
        if existing is None:
            return True, self.add(entry, now=now)
        merged = merge_entries(existing, entry)
        if merged != existing:
            merged = self.put(merged, now=now)
        return False, merged


# ---------------------------------------------------------------- reading the file


def load_list(path: Path) -> AlternativesList:
    """Read the store; a missing file is an empty list. Raises StoreError.

    Reading uses ``tomllib`` (fast); the style-preserving tomlkit document is parsed only
    when the list is written (``dump_list``). The parsed list is cached per path and
    reused while the file's (inode, mtime_ns, ctime_ns, size) stay the same, so re-reading
    an unchanged file (the tab's poll, the read before each write) costs one ``stat``.
    Each call returns its own copy: changing it never changes the cache."""
    try:
        stamp = file_stamp(path)
    except FileNotFoundError:
        return AlternativesList()
    except OSError as exc:
        raise StoreError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    key = str(path)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1].copy()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return AlternativesList()
    except UnicodeDecodeError as exc:
        raise StoreSyntaxError(f"{path.name} is not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise StoreError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    store = parse_list(text, name=path.name)
    with _cache_lock:
        # Stamp taken before the read: a change during the read makes the next load
        # see a new stamp and read again, never keep a stale list.
        _cache[key] = (stamp, store.copy())
    return store


FileStamp = tuple[int, int, int, int]
_cache: dict[str, tuple[FileStamp, AlternativesList]] = {}
_cache_lock = threading.Lock()


def file_stamp(path: Path) -> FileStamp:
    """What tells a changed file from an unchanged one without reading it: an atomic
    replace gives a new inode; an editor writing in place changes mtime/ctime or size."""
    st = path.stat()
    return (st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size)


def clear_cache() -> None:
    """Forget every parsed list (benchmarks; tests that need a cold read)."""
    with _cache_lock:
        _cache.clear()


def parse_list(text: str, *, name: str = "alternatives.toml") -> AlternativesList:
    """Parse store text (with tomllib); raises StoreSyntaxError if it is not valid TOML.
    The text is kept so that a write can edit it in place."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, text, name) from None
    raw_entries = data.pop("entry", [])
    if not isinstance(raw_entries, list) or not all(isinstance(t, dict) for t in raw_entries):
        raise StoreSyntaxError(f"{name}: 'entry' must be [[entry]] tables; fix the file")
    result = AlternativesList(source=text, name=name)
    next_id = data.pop("next_id", 1)
    if not isinstance(next_id, int) or isinstance(next_id, bool):
        result.problems.append(f"{name}: next_id is not a whole number; recomputed")
        next_id = 1
    result.top_extra = data
    chunks = _split_entries(text)
    if len(chunks) != len(raw_entries):
        # A "[[entry]]" line inside a multi-line string fooled the splitter (or the
        # entries are not [[entry]] tables); raw text then comes from the tables.
        chunks = [(0, "")] * len(raw_entries)
    seen: set[int] = set()
    pending: list[tuple[int, Entry]] = []  # (index, entry) needing a fresh id
    read: list[tuple[int, Entry]] = []  # (table index, entry as read)
    for index, ((line, raw), table) in enumerate(zip(chunks, raw_entries, strict=True)):
        where = f"{name} line {line}" if line else name
        try:
            entry = entry_from_table(table)
        except ValueError as exc:
            result.items.append(Unreadable(raw, line, str(exc), index=index))
            result.problems.append(f"{where}: entry kept as written but not shown: {exc}")
            continue
        if entry.id <= 0 or entry.id in seen:
            reason = "has no id" if entry.id <= 0 else f"repeats id {entry.id}"
            pending.append((len(result.items), entry))
            result.problems.append(f"{where}: entry {reason}; it gets a new id")
        else:
            seen.add(entry.id)
        read.append((index, entry))
        result.items.append(entry)
    result.next_id = max([next_id, *(i + 1 for i in seen)])
    for index, entry in pending:
        result.items[index] = replace(entry, id=result.next_id)
        result.next_id += 1
    # Each entry's table index, keyed by its (possibly new) id, with the entry as read.
    entries = iter(result.entries())
    result.positions = {next(entries).id: (index, entry) for index, entry in read}
    return result


def _syntax_error(exc: Exception, text: str, name: str) -> StoreSyntaxError:
    line = _error_line(exc)
    message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
    message = re.sub(r"\s+at line \d+ col \d+", "", message)
    if "(at end of document)" in message:
        line = len(text.rstrip().splitlines()) or 1
        message = message.replace("(at end of document)", "(unfinished at end of file)")
    where = f" line {line}" if line else ""
    return StoreSyntaxError(
        f"{name}{where}: {message}; fix the file (changes are not saved until then)", line
    )


def _attach_document(store: AlternativesList) -> None:
    """Parse the text ``store`` was read from with tomlkit (once, for a write) and tie
    each entry and unreadable block to its table in that document."""
    import tomlkit
    import tomlkit.exceptions

    text = store.source or ""
    try:
        document = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise _syntax_error(exc, text, store.name) from None
    tables = _entry_tables(document, store.name)
    store.document = document
    store.origins = {
        entry_id: (tables[index], entry) for entry_id, (index, entry) in store.positions.items()
    }
    for item in store.items:
        if isinstance(item, Unreadable) and item.index is not None and item.table is None:
            item.table = tables[item.index]
            if not item.text:
                item.text = item.table.as_string()


def _entry_tables(document: Any, name: str) -> list[Any]:
    """The ``[[entry]]`` tables of the document, in order. Entries written as an inline
    array of tables (``entry = [{...}]``) are turned into ``[[entry]]`` tables."""
    import tomlkit
    from tomlkit.items import AoT, Table

    entries = document.get("entry")
    if entries is None:
        return []
    if isinstance(entries, AoT):
        return list(entries)
    if not isinstance(entries, list) or not all(isinstance(t, dict) for t in entries):
        raise StoreSyntaxError(f"{name}: 'entry' must be [[entry]] tables; fix the file")
    tables = []
    for item in entries:
        table = item if isinstance(item, Table) else tomlkit.table()
        if table is not item:
            for key, value in item.unwrap().items():
                table[key] = value
        tables.append(table)
    document["entry"] = tomlkit.aot()
    for table in tables:
        document["entry"].append(table)
    return list(document["entry"])


def _error_line(exc: Exception) -> int:
    line = getattr(exc, "lineno", None)
    if isinstance(line, int):
        return line
    match = re.search(r"at line (\d+)", str(exc))
    return int(match.group(1)) if match else 0


def _split_entries(text: str) -> list[tuple[int, str]]:
    """(1-based line, raw text) of each ``[[entry]]`` block, in file order."""
    chunks: list[tuple[int, list[str]]] = []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        if _ENTRY_HEADER.match(line.rstrip("\r\n")):
            chunks.append((number, [line]))
        elif chunks:
            chunks[-1][1].append(line)
    return [(number, "".join(lines)) for number, lines in chunks]


def entry_from_table(table: dict[str, Any]) -> Entry:
    """Validate one ``[[entry]]`` table; raises ValueError naming the bad field."""
    data = dict(table)
    entry_id = data.pop("id", 0)
    if not isinstance(entry_id, int) or isinstance(entry_id, bool):
        raise ValueError(f"id {entry_id!r} is not a whole number")
    title = data.pop("title", "")
    if not isinstance(title, str) or not title.strip():
        raise ValueError("no title")
    kind = normalise_choice(data.pop("kind", "other"), KINDS, "kind")
    status = normalise_choice(data.pop("status", "to-read"), STATUSES, "status")
    priority = data.pop("priority", DEFAULT_PRIORITY)
    if priority not in PRIORITIES or isinstance(priority, bool):
        raise ValueError(f"priority {priority!r} is not 1 to 5")
    arxiv_id = _string(data, "arxiv_id")
    if arxiv_id and parse_arxiv_id(arxiv_id) is None:
        raise ValueError(f"arxiv_id {arxiv_id!r} is not an arXiv id")
    if arxiv_id.lower().startswith("arxiv:"):
        arxiv_id = arxiv_id[6:].strip()
    doi = _string(data, "doi")
    if doi and not normalize_doi(doi):
        raise ValueError(f"doi {doi!r} is not a DOI")
    return Entry(
        id=entry_id,
        title=title,
        kind=kind,
        status=status,
        priority=priority,
        arxiv_id=arxiv_id,
        doi=normalize_doi(doi) if doi else "",
        url=_string(data, "url"),
        authors=_strings(data, "authors"),
        year=_optional_int(data, "year"),
        minutes=_optional_int(data, "minutes"),
        tags=_strings(data, "tags"),
        primary_class=_string(data, "primary_class"),
        links=_strings(data, "links"),
        added=_optional_time(data, "added"),
        updated=_optional_time(data, "updated"),
        notes=_string(data, "notes"),
        cite_key=_string(data, "cite_key"),
        cite_aliases=_strings(data, "cite_aliases"),
        entry_type=_string(data, "entry_type"),
        bibtex=_bibtex(data),
        extra=data,
    )


def _bibtex(data: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    value = data.pop("bibtex", {})
    if not isinstance(value, dict):
        raise ValueError("bibtex must be a table of fields")
    fields = []
    for key, raw in value.items():
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            raise ValueError(f"bibtex field {key!r} must be text")
        fields.append((key, str(raw)))
    return tuple(fields)


def _string(data: dict[str, Any], key: str) -> str:
    value = data.pop(key, "")
    if not isinstance(value, str):
        raise ValueError(f"{key} must be text")
    return value.strip() if key != "notes" else value


def _strings(data: dict[str, Any], key: str) -> tuple[str, ...]:
    value = data.pop(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key} must be a list of text")
    return tuple(v.strip() for v in value if v.strip())


def _optional_int(data: dict[str, Any], key: str) -> int | None:
    value = data.pop(key, None)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{key} {value!r} is not a whole number")
    return value


def _optional_time(data: dict[str, Any], key: str) -> datetime | None:
    value = data.pop(key, None)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{key} {value!r} is not a date") from None
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise ValueError(f"{key} {value!r} is not a date")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


# ---------------------------------------------------------------- writing the file


def dump_list(store: AlternativesList) -> str:
    """The store as TOML text: the document it was read from with only the changes
    made since written into it (a new file gets the header), entries in list order."""
    import tomlkit
    from tomlkit.items import AoT

    store.key_all()
    if store.document is None and store.source is not None:
        _attach_document(store)
    document = store.document
    if document is None:
        document = tomlkit.document()
        for line in _HEADER.splitlines():
            document.add(tomlkit.comment(line.lstrip("# ")))
        document["next_id"] = store.next_id
        document.add(tomlkit.nl())
        store.document = document
    if document.get("next_id") != store.next_id:
        document["next_id"] = store.next_id
    for key, value in store.top_extra.items():
        if key not in document:
            document[key] = value
    tables = []
    for item in store.items:
        if isinstance(item, Unreadable):
            tables.append(item.table if item.table is not None else _parse_table(item.text))
            continue
        origin = store.origins.get(item.id)
        if origin is None:
            table = _new_table(entry_to_table(item))
        else:
            table, before = origin
            _update_table(table, entry_to_table(before), entry_to_table(item))
        store.origins[item.id] = (table, item)
        tables.append(table)
    entries = document.get("entry")
    if not isinstance(entries, AoT):
        if not tables:
            return tomlkit.dumps(document)
        entries = tomlkit.aot()
        document["entry"] = entries
    wanted = {id(t) for t in tables}
    for index in reversed(range(len(entries))):
        if id(entries[index]) not in wanted:
            _delete_table(entries, index)
    present = {id(t) for t in entries}
    new = [table for table in tables if id(table) not in present]
    if new and len(entries) and not tomlkit.dumps(document).endswith("\n\n"):
        # The file's last table ends without a blank line; one keeps new entries apart.
        _last_table(entries[-1]).add(tomlkit.nl())
    for table in new:
        entries.append(table)
    return tomlkit.dumps(document).rstrip("\n") + "\n"


def _tomlkit_tested() -> bool:
    """Whether the installed tomlkit is one whose container internals (a table's
    ``value.body`` list and ``_map``, ``Container._insert_at`` or, before 0.15.3,
    ``_insert_after``) the store was tested against; on any other version it falls
    back to tomlkit's own append and delete."""
    import tomlkit

    return tomlkit.__version__.startswith("0.15.")


def _delete_table(entries: Any, index: int) -> None:
    """Delete the ``index``-th [[entry]] table. tomlkit files the comment lines written
    just above the next ``[[entry]]`` header under this table; they are about the next
    entry, so they move onto it (or, for the last entry, stay at the end of the file)."""
    from tomlkit.items import Comment

    tail: list[Any] = []
    if _tomlkit_tested():
        body = _last_table(entries[index]).value.body
        while body and body[-1][0] is None and isinstance(body[-1][1], Comment):
            tail.insert(0, body.pop()[1])
    del entries[index]
    if not tail:
        return
    if index < len(entries):
        following = entries[index]
        following.trivia.indent = "".join(c.as_string() for c in tail) + following.trivia.indent
    elif index > 0:
        for comment in tail:
            _last_table(entries[index - 1]).add(comment)


def _insert_in_order(table: Any, key: str, item: Any) -> None:
    """Add a new key to an entry table after the last key (in the file) of those that
    come before it in the fixed field order, so it lands among the keys, not after a
    trailing comment or at the end of a hand-written table."""
    from tomlkit.items import AoT, Table

    if key in _FIELD_ORDER and not isinstance(item, (Table, AoT, dict)) and _tomlkit_tested():
        before = set(_FIELD_ORDER[: _FIELD_ORDER.index(key)])
        # The one written last in the file, for hand-ordered tables.
        present = [k for k in table if k in before and not isinstance(table[k], (Table, AoT))]
        if present and _insert_after(table.value, present[-1], key, item):
            return
    table[key] = item


def _insert_after(container: Any, key: str, new_key: str, item: Any) -> bool:
    """Insert ``new_key`` right after ``key`` in a tomlkit container; False when it
    goes at the end (the caller appends). tomlkit 0.15.3 dropped ``_insert_after``
    and kept ``_insert_at``; both are tried, newest first."""
    from tomlkit.items import SingleKey

    if not hasattr(container, "_insert_at"):
        container._insert_after(key, new_key, item)
        return True
    at = container._map[SingleKey(key)]
    at = max(at) if isinstance(at, tuple) else at
    if at + 1 >= len(container.body):
        return False
    container._insert_at(at + 1, new_key, item)
    return True


def _last_table(table: Any) -> Any:
    """The table whose body ends ``table``'s text: its last sub-table, if it has one."""
    from tomlkit.items import Table

    while subtables := [v for _, v in table.value.body if isinstance(v, Table)]:
        table = subtables[-1]
    return table


def _parse_table(text: str) -> Any:
    import tomlkit

    return tomlkit.parse(text)["entry"][0]


def _new_table(values: dict[str, Any]) -> Any:
    import tomlkit

    table = tomlkit.table()
    for key, value in values.items():
        table[key] = _item(key, value)
    if _last_table(table) is table:
        # A blank line before the next [[entry]] (tomlkit puts one after a sub-table).
        table.add(tomlkit.nl())
    return table


def _update_table(table: Any, before: dict[str, Any], after: dict[str, Any]) -> None:
    """Write into ``table`` the keys whose value changed from ``before`` to ``after``."""
    for key in before:
        if key not in after and key in table:
            del table[key]
    for key, value in after.items():
        if key in before and before[key] == value:
            continue  # unchanged (or a default the file leaves out): leave it as written
        if key in table:
            table[key] = _item(key, value)
        else:
            _insert_in_order(table, key, _item(key, value))


def _item(key: str, value: Any) -> Any:
    import tomlkit

    if isinstance(value, str) and "\n" in value:
        return tomlkit.string(value, multiline=True)
    if isinstance(value, list) and sum(len(str(v)) for v in value) > 60:
        array = tomlkit.array()
        array.extend(value)
        return array.multiline(True)
    if isinstance(value, dict):
        table = tomlkit.table()
        for name, inner in value.items():
            table[name] = _item(name, inner)
        return table
    return value


def entry_to_table(entry: Entry) -> dict[str, Any]:
    """The TOML table of an entry in the fixed key order; empty fields left out."""
    values: dict[str, Any] = {
        "id": entry.id,
        "title": entry.title,
        "kind": entry.kind,
        "status": entry.status,
        "priority": entry.priority,
        "arxiv_id": entry.arxiv_id,
        "doi": entry.doi,
        "url": entry.url,
        "authors": list(entry.authors),
        "year": entry.year,
        "minutes": entry.minutes,
        "tags": list(entry.tags),
        "primary_class": entry.primary_class,
        "links": list(entry.links),
        "added": entry.added,
        "updated": entry.updated,
        "cite_key": entry.cite_key,
        "cite_aliases": list(entry.cite_aliases),
        "entry_type": entry.entry_type,
        "notes": entry.notes,
        "bibtex": dict(entry.bibtex),
    }
    table = {key: values[key] for key in _FIELD_ORDER if values[key] not in (None, "", [], {})}
    for key, value in entry.extra.items():
        table.setdefault(key, value)
    return table


def save_list(path: Path, store: AlternativesList) -> None:
    atomic_write_text(path, dump_list(store))


T = TypeVar("T")


def update_list(path: Path, change: Callable[[AlternativesList], T]) -> tuple[AlternativesList, T]:
    """Under the store's lock: read the file, apply ``change``, write it back. Raises
    StoreError, never overwriting a file it could not read."""
    with store_lock(path):
        store = load_list(path)
        result = change(store)
        text = dump_list(store)
        atomic_write_text(path, text)
        _remember(path, text)
    return store, result


def _remember(path: Path, text: str) -> None:
    """Cache what was just written under the file's new stamp (a tomllib parse, so the
    next read, the tab's poll included, costs a ``stat``). If the size on disk is not
    what was written, someone wrote in between: cache nothing, the next read reads."""
    try:
        stamp = file_stamp(path)
    except OSError:
        return
    if stamp[3] != len(text.encode("utf-8")):
        return
    try:
        fresh = parse_list(text, name=path.name)
    except StoreError:  # pragma: no cover - what we write is valid TOML
        return
    with _cache_lock:
        _cache[str(path)] = (stamp, fresh)


@contextlib.contextmanager
def store_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on ``<store>.lock`` beside the store (no-op where fcntl is
    missing). Editors don't take it; they are covered by reading under it first."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    lock_path = path.with_name(path.name + ".lock")
    try:
        handle = open(lock_path, "a+b")  # noqa: SIM115 - held for the with-block below
    except OSError as exc:
        raise StoreError(f"cannot lock {path.name}: {exc.strerror or exc}") from None
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
