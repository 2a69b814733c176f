"""Outside text made safe for each place it goes.

Metric and column names, CSV cells, log lines, test ids and output, trial parameters,
job commands, paper titles, note and file names, process command lines: all of it comes
from files and programs the user does not control. Each destination has its own
dangerous characters, and this module is the one place that knows them:

- the terminal (``display``): C0/C1 control characters, ESC and DEL would move the
  cursor, clear the screen, set the clipboard (OSC 52) or plant a link (OSC 8); Unicode
  format characters (bidi overrides) would reorder what is shown. They are shown as
  visible escapes (``\\x1b``, ``\\u202e``); tabs become spaces; bytes that are not
  UTF-8 (``surrogateescape`` file names, raw ``bytes``) show as ``\\xff``.
- tmux (``tmux_display_argv``): ``display-message`` expands formats, and ``#(cmd)``
  runs a shell command. tmux 3.4 and newer take ``-l`` (literal); older ones get every
  ``#`` doubled, which tmux turns back into one ``#``.
- Slurm (``slurm_pattern``, ``slurm_job_name``): ``--output``, ``--error`` and
  ``--job-name`` expand ``%`` patterns (``%j``, ``%u``); a path keeps its meaning with
  ``%`` doubled, a job name keeps only a safe alphabet.
- terminal notifications (``osc_payload``): an OSC 9 payload ends at BEL or ST, so it
  is built from printable characters only.

Rich/Textual markup is the UI's concern (``ui/plain.py`` wraps ``display`` in a Rich
``Text``); JSON output needs nothing here, ``json.dumps`` escapes control characters.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import unicodedata
from functools import lru_cache
from typing import Any

__all__ = [
    "display",
    "json_text",
    "osc_payload",
    "slurm_job_name",
    "slurm_pattern",
    "tmux_display_argv",
    "tmux_version",
]

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Characters that are never shown raw: C0 controls, DEL, C1 controls, lone surrogates
# (undecodable bytes under surrogateescape), line/paragraph separators, and format
# characters (bidi overrides and isolates, zero-width marks) other than the ZWJ of emoji.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029"
    "\u00ad\u061c\u180e\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb]"
)
_TAB_WIDTH = 4


def _escape(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that surrogateescape could not decode
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def _other_format(text: str) -> bool:
    # Fast path: only text with characters beyond Latin-1 can hold a format character
    # that the pattern above does not list (rare; tags, Mongolian vowel separators...).
    return not text.isascii() and any(
        unicodedata.category(c) == "Cf" and c != "\u200d" for c in text
    )


def display(
    text: object,
    *,
    multiline: bool = False,
    limit: int | None = None,
) -> str:
    """``text`` as it may be shown on a terminal: nothing in it acts, everything shows.

    Control and format characters become visible escapes (``\\x1b``, ``\\r``,
    ``\\u202e``); tabs become spaces. With ``multiline`` newlines are kept (tabs then
    expand to the next multiple of 4 within their line), otherwise they show as ``\\n``.
    ``bytes`` are read as UTF-8 and undecodable bytes show as ``\\xff``. With ``limit``
    the result is cut to that many characters, ending in ``…``, before escaping costs
    anything on a huge input.
    """
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8", errors="surrogateescape")
    elif not isinstance(text, str):
        text = str(text)
    if text.isascii() and text.isprintable() and (limit is None or len(text) <= limit):
        return text  # the common case, at every poll: nothing to escape or cut
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + "…"
    if multiline:
        if "\t" in text:
            text = "\n".join(line.expandtabs(_TAB_WIDTH) for line in text.split("\n"))
        if "\r\n" in text:
            text = text.replace("\r\n", "\n")
        out = _UNSAFE.sub(lambda m: m.group() if m.group() == "\n" else _escape(m.group()), text)
    else:
        if "\t" in text:
            text = text.replace("\t", " ")
        out = _UNSAFE.sub(lambda m: _escape(m.group()), text)
    if _other_format(out):
        out = "".join(
            _escape(c) if unicodedata.category(c) == "Cf" and c != "\u200d" else c for c in out
        )
    if limit is not None and len(out) > limit:
        out = out[: max(0, limit - 1)] + "…"
    return out


# -- tmux -------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def tmux_version(tmux: str = "tmux") -> tuple[int, int] | None:
    """The installed tmux's (major, minor), or None when it cannot be asked."""
    path = shutil.which(tmux)
    if path is None:
        return None
    try:
        out = subprocess.run(
            [path, "-V"], capture_output=True, text=True, timeout=2, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"(\d+)\.(\d+)", out)  # "tmux 3.3a", "tmux next-3.5", "tmux 3.4"
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))


def tmux_display_argv(
    text: str, version: tuple[int, int] | None, *, tmux: str = "tmux"
) -> list[str]:
    """argv for ``tmux display-message`` that shows ``text`` literally.

    tmux 3.4 added ``-l`` ("print literally, no format expansion"); before it the only
    way is to double every ``#`` (tmux reads ``##`` as one ``#``), which stops
    ``#(...)`` (a shell command), ``#{...}`` (a format) and ``#[...]`` (a style), and
    every ``%``, since the message also goes through strftime (``%j`` would show the
    day of the year; seen on tmux 3.3a). An unknown version gets the doubling: on 3.4+
    it would show ``##``, which is harmless, while ``-l`` on an old tmux fails the
    whole message.
    """
    shown = display(text, limit=500)
    if version is not None and version >= (3, 4):
        return [tmux, "display-message", "-l", "--", shown]
    return [tmux, "display-message", "--", shown.replace("#", "##").replace("%", "%%")]


# -- Slurm ------------------------------------------------------------------------------


def slurm_pattern(text: str) -> str:
    """``text`` (a path) for ``--output``/``--error``: ``%`` kept literal.

    sbatch expands ``%j``, ``%u``, ``%x``... in these options and reads ``%%`` as one
    ``%`` (checked against Slurm 22.05: ``--output=/w/a%%jb/o.log`` writes to
    ``/w/a%jb/o.log``; ``--chdir`` is not expanded and takes the path as it is). A path
    holding a backslash as well as ``%`` is refused (ValueError): with a backslash
    present Slurm 22.05 expands ``%%j`` to ``%`` + the job id, so no spelling of such a
    path survives.
    """
    if "%" not in text:
        return text
    if "\\" in text:
        raise ValueError(f"Slurm cannot write to a path holding both '\\' and '%': {display(text)}")
    return text.replace("%", "%%")


_JOB_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


def slurm_job_name(text: str, *, limit: int = 64) -> str:
    """A Slurm job name built from outside text: ASCII letters, digits, ``._+-`` only.

    Job names show in ``squeue`` and expand as ``%x`` in output paths; ``%`` or a
    newline in one would be read back as a pattern or break a line-based parser.
    """
    name = _JOB_NAME_UNSAFE.sub("_", text).strip("_")
    return (name or "job")[:limit]


# -- terminal notifications -------------------------------------------------------------


def osc_payload(text: str, *, limit: int = 200) -> str:
    """``text`` for an OSC 9 (or OSC 777) notification body: printable characters only.

    The body ends at BEL or ST (``ESC \\``), so any control character in it could end
    the sequence early and start another one; ``;`` is kept (OSC 9 takes the rest of
    the sequence as the body).
    """
    shown = display(text, limit=limit)
    return "".join(c for c in shown if c.isprintable())[:limit]


# -- JSON on a terminal -----------------------------------------------------------------

_JSON_UNSAFE = re.compile("[\x7f-\U0010ffff]")


def _json_escape(match: re.Match[str]) -> str:
    char = match.group()
    if char.isprintable():
        return char
    code = ord(char)
    if code > 0xFFFF:  # JSON spells it as a UTF-16 surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def json_text(data: Any, **kwargs: Any) -> str:
    """``json.dumps`` for a terminal: strict JSON, readable non-ASCII text kept.

    ``ensure_ascii=False`` escapes only C0 controls; DEL, C1 controls (``\\x9b`` is a
    CSI), bidi overrides and lone surrogates (undecodable file names) would be written
    raw. They can only occur inside JSON strings, so they are escaped as ``\\uXXXX``.
    """
    text = json.dumps(data, ensure_ascii=False, **kwargs)
    if text.isascii() and "\x7f" not in text:
        return text
    return _JSON_UNSAFE.sub(_json_escape, text)
