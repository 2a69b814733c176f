"""The shared corpus of hostile outside text (issue: untrusted text never runs, never
styles, never moves the cursor).

Every ingest point's test feeds these strings in (as metric names and values, CSV
columns and cells, test ids and output, trial parameters, job commands, BibTeX titles,
note names) and then checks, with ``assert_inert``:
- no canary file appeared (nothing reached a shell or tmux's ``#(...)``);
- the output carries no control character from the input (no ESC, BEL, NUL, CR, BS...).

``corpus(tmp)`` names canary files inside the test's tmp dir, so parallel runs never
touch each other.
"""

from __future__ import annotations

from pathlib import Path

# Payloads that would run something if a shell or tmux ever interpreted them; each
# touches its own canary file in the test's tmp dir.
_RUNNERS = (
    "#(touch {tmp}/p1)",
    "$(touch {tmp}/p2)",
    "`touch {tmp}/p4`",
    "; touch {tmp}/p3",
    "| touch {tmp}/p5",
    "&& touch {tmp}/p6",
)

# Payloads that would style, move the cursor or talk to the terminal if shown raw.
STATIC = (
    "#{pane_id}",
    "#[fg=red]tmux-style",
    "%j%u%x",
    "lo\x1b[2Jss",
    "\x1b[31mred",
    "\x1b]52;c;SEVBQ0tFRA==\x07",
    "\x1b]8;;file:///etc/passwd\x07link\x1b]8;;\x07",
    "\x1b]0;title\x1b\\",
    "\x9b2J",  # C1 CSI
    "[bold red]x[/]",
    "[@click=app.quit]x[/]",
    "[/]",
    "[ and ]",
    "ablation [lr=3e-4]",
    "a\r\x08b",
    "nul\x00byte",
    "bell\x07",
    "rtl\u202eevil",
    "tab\tbed",
    "new\nline",
)

# Characters that must never reach a terminal from outside text.
FORBIDDEN = (
    "\x1b",
    "\x07",
    "\x00",
    "\x08",
    "\r",
    "\x9b",
    "\x9d",
    "\u202e",
)

BIG = "x" * (1 << 20)  # a 1 MB name


def corpus(tmp: Path, *, big: bool = False) -> list[str]:
    """Every hostile string, canaries pointing into ``tmp``."""
    strings = [runner.format(tmp=tmp) for runner in _RUNNERS] + list(STATIC)
    if big:
        strings.append(BIG)
    return strings


def canaries(tmp: Path) -> list[Path]:
    """The files a payload would create if anything ever ran it."""
    return [tmp / f"p{i}" for i in range(1, 7)]


def identifier_corpus(tmp: Path) -> list[str]:
    """The corpus without NUL and newline, for places that cannot hold them at all
    (a file name, a CSV header cell, a JSON key kept on one line)."""
    return [s for s in corpus(tmp) if "\x00" not in s and "\n" not in s]


def assert_no_canary(tmp: Path) -> None:
    made = [p.name for p in canaries(tmp) if p.exists()]
    assert not made, f"a hostile payload ran: {made}"


def assert_no_control(text: str, *, allow_newline: bool = True) -> None:
    """``text`` (something shown to the user) holds no control character from input."""
    for char in FORBIDDEN:
        assert char not in text, f"raw {char!r} reached the output: {text[:200]!r}"
    bad = [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]
    if not allow_newline:
        bad += [c for c in text if c == "\n"]
    assert not bad, f"control characters {sorted(set(bad))!r} in output: {text[:200]!r}"


def assert_inert(tmp: Path, text: str, *, allow_newline: bool = True) -> None:
    """Nothing ran, and ``text`` (shown output) carries no raw control character."""
    assert_no_canary(tmp)
    assert_no_control(text, allow_newline=allow_newline)
