"""core/text.py: outside text made safe for the terminal, tmux, Slurm and OSC 9."""

from __future__ import annotations

import os
import subprocess
import unicodedata
from pathlib import Path

import pytest
from hostile import assert_no_canary, assert_no_control, corpus
from hypothesis import given
from hypothesis import strategies as st
from tmux_harness import attach_client, needs_tmux, shown_messages, start_server, stop, wait_until

from waitwise_tui.core.text import (
    display,
    osc_payload,
    slurm_job_name,
    slurm_pattern,
    tmux_display_argv,
    tmux_version,
)


def test_controls_show_as_visible_escapes():
    assert display("lo\x1b[2Jss") == "lo\\x1b[2Jss"
    assert display("a\r\x08b\x00") == "a\\r\\x08b\\x00"
    assert display("\x9b2J\x7f") == "\\x9b2J\\x7f"
    assert display("rtl\u202eevil") == "rtl\\u202eevil"
    assert display("new\nline") == "new\\nline"
    assert display("tab\tbed") == "tab bed"


def test_markup_and_plain_text_are_left_alone():
    for text in ("[bold red]x[/]", "[@click=app.quit]x[/]", "ünïcödé 数字 👩‍💻", "#{pane_id}"):
        assert display(text) == text


def test_multiline_keeps_lines_and_expands_tabs_per_line():
    assert display("a\tb\ncd\te\r\nf\rg", multiline=True) == "a   b\ncd  e\nf\\rg"


def test_bytes_and_undecodable_names_show_their_bytes():
    assert display(b"caf\xc3\xa9 \xff\xfe") == "café \\xff\\xfe"
    name = os.fsdecode(b"run-\xff.log")  # a file name that is not UTF-8
    assert display(name) == "run-\\xff.log"


def test_limit_cuts_a_huge_name_before_escaping_it():
    shown = display("\x1b" * (1 << 20), limit=80)
    assert len(shown) <= 80 and shown.endswith("…")
    assert "\x1b" not in shown


@given(st.text())
def test_nothing_shown_can_control_the_terminal(text):
    shown = display(text)
    assert_no_control(shown, allow_newline=False)
    multi = display(text, multiline=True)
    assert_no_control(multi)
    for out in (shown, multi):
        bad = {"Cc", "Cf", "Cs", "Zl", "Zp"}
        assert not [c for c in out if unicodedata.category(c) in bad and c not in "\n\u200d"]


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp"))))
def test_printable_text_is_unchanged(text):
    assert display(text) == text


@given(st.binary())
def test_any_bytes_are_shown_without_controls(data):
    assert_no_control(display(data), allow_newline=False)


@given(st.text())
def test_osc_payload_cannot_end_the_sequence(text):
    payload = osc_payload(text)
    assert all(c.isprintable() for c in payload)
    assert len(payload) <= 200


def test_slurm_pattern_doubles_percent_only():
    assert slurm_pattern("/w/proj %j%u/jobs/1/stdout.log") == "/w/proj %%j%%u/jobs/1/stdout.log"
    assert slurm_pattern("/w/plain\\dir/x") == "/w/plain\\dir/x"
    with pytest.raises(ValueError, match="both"):
        slurm_pattern("/w/back\\slash %j")


@given(st.text())
def test_slurm_job_name_has_a_safe_alphabet(text):
    name = slurm_job_name(text)
    assert name and len(name) <= 64
    assert all(c.isascii() and (c.isalnum() or c in "._+-") for c in name)


# -- tmux, for real -------------------------------------------------------------------


def run_in_pane(sock: Path, tmp_path: Path, argvs: list[list[str]]) -> None:
    """Run each argv from inside a tmux pane, as the app does (``$TMUX`` set by tmux)."""
    import json
    import sys

    script = tmp_path / "in_pane.py"
    done = tmp_path / f"done-{len(list(tmp_path.glob('done-*')))}"
    script.write_text(
        "import json, subprocess, sys\n"
        "for argv in json.load(open(sys.argv[1])):\n"
        "    subprocess.run(argv, check=False)\n"
        "open(sys.argv[2], 'w').close()\n"
    )
    (tmp_path / "argvs.json").write_text(json.dumps(argvs))
    args = [str(tmp_path / "argvs.json"), str(done)]
    subprocess.run(
        ["tmux", "-S", str(sock), "new-window", "-d", sys.executable, str(script), *args],
        check=True,
    )
    wait_until(done.exists, what="the commands run in a pane")


@needs_tmux
def test_tmux_shows_every_hostile_string_literally(tmp_path):
    sock = tmp_path / "tmux.sock"
    start_server(sock, "t", ["sleep 120"])
    client = attach_client(sock, "t")
    try:
        version = tmux_version()
        texts = [t for t in corpus(tmp_path) if "\x00" not in t]
        argvs = [tmux_display_argv(f"m{i} {t}", version) for i, t in enumerate(texts)]
        # The control: unescaped text is expanded by this tmux ("#{session_name}" -> "t"),
        # so a literal message below is the escaping's doing, not a quiet tmux.
        argvs.append(["tmux", "display-message", "--", "control #{session_name}"])
        run_in_pane(sock, tmp_path, argvs)
        messages = wait_until(
            lambda: (m := shown_messages(sock)) and "control t" in m and m, what="messages"
        )
        for i, text in enumerate(texts):
            # The log holds the text before style parsing, where tmux keeps "##[" for
            # the status line to draw as a literal "#[" (tmux(1), STYLES).
            expected = f"m{i} {display(text, limit=500)}".rstrip().replace("#[", "##[")
            assert expected in messages, (text, [m for m in messages if m.startswith(f"m{i} ")])
        assert_no_canary(tmp_path)
        if version is not None and version < (3, 4):  # the doubling is what old tmux needs
            assert "-l" not in tmux_display_argv("x", version)
    finally:
        stop(sock, client)
