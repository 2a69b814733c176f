"""Run and metric names in a chart are shown, never obeyed (issue: untrusted text never
runs, never styles, never moves the cursor).

The chart is ANSI text that the runs panel parses back with ``Text.from_ansi``: an ESC
in a legend label would become a colour, a cursor move or a link there. The only escape
sequences in a chart are its own colours; the labels show as visible escapes.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hostile import assert_no_control, identifier_corpus
from rich.text import Text

from waitwise_tui.core.runs.chart import ChartLine, ChartOptions, render_chart
from waitwise_tui.core.runs.series import Series
from waitwise_tui.core.text import display

SGR = re.compile(r"\x1b\[[0-9;]*m")  # the chart's own colours


def _series(name: str, scale: float) -> Series:
    series = Series(name)
    steps = np.arange(50, dtype=float)
    series.append(steps, scale * np.exp(-steps / 20), None)
    return series


@pytest.mark.parametrize("colorless", [False, True])
def test_legend_labels_show_escaped(tmp_path, colorless: bool) -> None:
    for name in [*identifier_corpus(tmp_path), "new\nline", "nul\x00byte"]:
        lines = [
            ChartLine(name, _series(name, 2.0)),
            ChartLine(f"run:{name}", _series(name, 1.0)),
        ]
        # 80 columns: plotext draws no wider than the terminal it sees (80 in tests).
        ansi = render_chart(lines, 80, 14, ChartOptions(colorless=colorless))
        if colorless:
            assert "\x1b" not in ansi
        rest = SGR.sub("", ansi)
        assert_no_control(rest)  # no ESC, BEL, C1 or CR left once its colours are gone
        label = display(name)[:40]  # a long label is cut to fit (the canary paths)
        assert label in rest and f"run:{label}" in rest, name
        shown = Text.from_ansi(ansi)
        assert label in shown.plain
        assert not any(getattr(span.style, "link", None) for span in shown.spans)


def test_label_longer_than_the_chart_is_cut_not_dropped() -> None:
    # plotext leaves out the whole legend when one label does not fit the canvas.
    name = "lo\x1b[2Jss" * 40
    lines = [ChartLine(name, _series("a", 2.0)), ChartLine("val", _series("b", 1.0))]
    plain = Text.from_ansi(render_chart(lines, 80, 14)).plain
    assert "lo\\x1b[2Jsslo\\x1b[2Jss" in plain and "…" in plain
    assert " val" in plain


def test_messages_quote_outside_text_escaped() -> None:
    text = render_chart(
        [ChartLine("loss", _series("loss", 1.0))], 40, 10, ChartOptions(x_axis="\x1b[2J")
    )
    assert text.startswith("unknown x axis") and "\x1b" not in text
