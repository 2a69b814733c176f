"""Notification channels: Apprise URLs with a minimum level and per-kind switches.

The settings give ``notify_urls`` (strings, or tables ``{url, level, kinds}``) and a
``[notify]`` table (default level, kinds, digest and retry knobs); ``parse`` turns them
into a ``NotifyConfig`` and a list of one-line problems, never raising. A URL carries
its secret in different parts per service (a Slack token is the "host", an ntfy topic
the path), so ``redact_url`` shows only the scheme, plus the host and port of the
generic web hooks, and a short fingerprint that tells two channels apart.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

LEVELS = ("info", "warning", "critical")
# Schemes whose host is a server name, not a token: their host:port may be shown.
_WEB_HOOKS = frozenset({"json", "jsons", "xml", "xmls", "form", "forms"})
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)$", re.DOTALL)


def level_rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else 0


def redact_url(url: str) -> str:
    """``url`` with every part that may be a secret replaced: ``slack://…#1a2b``,
    ``json://hooks.example:8080/…#9f00``."""
    digest = hashlib.sha256(url.encode("utf-8", "surrogateescape")).hexdigest()[:4]
    match = _URL.match(url.strip())
    if match is None:
        return f"…#{digest}"
    scheme = match["scheme"].lower()
    if scheme not in _WEB_HOOKS:
        return f"{scheme}://…#{digest}"
    rest = match["rest"].split("/", 1)[0].split("?", 1)[0]
    host = rest.rsplit("@", 1)[-1]
    if not re.fullmatch(r"[A-Za-z0-9.\-:\[\]_]*", host):
        host = "…"
    return f"{scheme}://{host}/…#{digest}"


@dataclass(frozen=True)
class Channel:
    """One Apprise URL; it gets events at ``level`` or above whose kind is not off."""

    url: str
    level: str = "warning"
    kinds: Mapping[str, bool] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The URL as it may be shown or logged."""
        return redact_url(self.url)

    def wants(self, level: str, kind: str, defaults: Mapping[str, bool]) -> bool:
        if level_rank(level) < level_rank(self.level):
            return False
        return bool(self.kinds.get(kind, defaults.get(kind, True)))


@dataclass(frozen=True)
class NotifyConfig:
    """All channels and how delivery behaves."""

    channels: tuple[Channel, ...] = ()
    kinds: Mapping[str, bool] = field(default_factory=dict)
    retries: int = 3  # attempts after the first one
    backoff_s: float = 2.0  # first wait between attempts; doubles each time
    backoff_max_s: float = 60.0
    queue_size: int = 500
    digest_after: int = 10  # individual messages per window before a digest
    digest_window_s: float = 60.0
    repeat_after_s: float = 3600.0  # the same alert again within this is one episode
    lease_s: float = 30.0


_NUMBERS: dict[str, tuple[type, float]] = {
    "retries": (int, 0),
    "backoff_s": (float, 0.0),
    "backoff_max_s": (float, 0.0),
    "queue_size": (int, 1),
    "digest_after": (int, 1),
    "digest_window_s": (float, 0.01),
    "repeat_after_s": (float, 0.0),
    "lease_s": (float, 1.0),
}


def parse(urls: Any, table: Any) -> tuple[NotifyConfig, list[str]]:
    """``notify_urls`` and the ``[notify]`` table as a config and its problems. A bad
    entry is left out with one line saying why (its URL redacted); the rest stays."""
    problems: list[str] = []
    options: dict[str, Any] = {}
    default_level = "warning"
    default_kinds: dict[str, bool] = {}
    if not isinstance(table, Mapping):
        problems.append("setting 'notify' must be a table")
        table = {}
    for key, value in table.items():
        if key == "level":
            if value in LEVELS:
                default_level = value
            else:
                problems.append(f"notify.level must be one of {', '.join(LEVELS)}")
        elif key == "kinds":
            kinds, problem = _kinds(value, "notify.kinds")
            default_kinds = kinds
            if problem:
                problems.append(problem)
        elif key in _NUMBERS:
            kind, low = _NUMBERS[key]
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if kind is int:
                ok = ok and isinstance(value, int)
            if not ok or value < low:
                problems.append(f"notify.{key} must be a {kind.__name__} >= {low}")
                continue
            options[key] = kind(value)
        else:
            problems.append(f"unknown setting 'notify.{key}'")
    channels: list[Channel] = []
    if not isinstance(urls, list):
        problems.append("setting 'notify_urls' must be a list")
        urls = []
    for index, entry in enumerate(urls):
        where = f"notify_urls[{index}]"
        if isinstance(entry, str):
            entry = {"url": entry}
        if not isinstance(entry, Mapping) or not isinstance(entry.get("url"), str):
            problems.append(f"{where} must be a URL or a table with 'url'")
            continue
        url = entry["url"].strip()
        if not _URL.match(url):
            problems.append(f"{where} is not a URL ({redact_url(url)})")
            continue
        level = entry.get("level", default_level)
        if level not in LEVELS:
            problems.append(f"{where}.level must be one of {', '.join(LEVELS)}")
            level = default_level
        kinds, problem = _kinds(entry.get("kinds", {}), f"{where}.kinds")
        if problem:
            problems.append(problem)
        unknown = sorted(set(entry) - {"url", "level", "kinds"})
        if unknown:
            problems.append(f"{where}: unknown keys {', '.join(unknown)}")
        channels.append(Channel(url, level, kinds))
    config = NotifyConfig(channels=tuple(channels), kinds=default_kinds, **options)
    return config, problems


def _kinds(value: Any, where: str) -> tuple[dict[str, bool], str | None]:
    if not isinstance(value, Mapping):
        return {}, f"{where} must be a table of kind = true/false"
    kinds = {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, bool)}
    if len(kinds) != len(value):
        return kinds, f"{where} must be a table of kind = true/false"
    return kinds, None
