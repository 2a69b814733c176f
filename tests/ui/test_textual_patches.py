"""The partial-update writer crops on both sides, and the line-API monitor's dirty
spans cover every changed column (the two make the monitor cheap to redraw)."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.segment import Segment
from textual._compositor import ChopsUpdate
from textual.content import Content
from textual.strip import Strip

from waitwise_tui.ui import textual_patches
from waitwise_tui.ui.monitor.system import dirty_spans
from waitwise_tui.ui.poller import Poller


def _update(spans: list[tuple[int, int, int]]) -> str:
    textual_patches.install()
    line = Strip([Segment("0 "), Segment("A100-SXM4"), Segment("  70%"), Segment(" 231 W")])
    chops = [{0: line, 22: Strip([Segment("|")])}]
    update = ChopsUpdate(chops, spans, [[22, 23]])
    return update.render_segments(Console(force_terminal=True, color_system=None, width=40))


def test_a_mid_line_span_is_written_from_its_own_column():
    out = _update([(0, 11, 16)])
    assert out == "\x1b[1;12H  70%"  # not "0 A100-SXM4  70%" from column 1


def test_spans_covering_whole_chops_are_unchanged():
    assert _update([(0, 0, 23)]) == "\x1b[1;1H0 A100-SXM4  70% 231 W\x1b[1;23H|"


def test_a_span_ending_mid_segment_is_cropped_on_both_sides():
    assert _update([(0, 13, 19)]) == "\x1b[1;14H70% 23"


cell_text = st.text(alphabet="ab █·%", min_size=0, max_size=4)


@given(st.lists(cell_text, max_size=6), st.lists(cell_text, max_size=6))
def test_dirty_spans_cover_every_changed_column(old_cells, new_cells):
    old = [Content(text) for text in old_cells]
    new = [Content(text) for text in new_cells]
    spans = dirty_spans(old, new)
    before, after = "".join(old_cells), "".join(new_cells)
    width = max(len(before), len(after))
    before, after = before.ljust(width), after.ljust(width)
    covered = {x for start, length in spans for x in range(start, start + length)}
    assert {x for x in range(width) if before[x] != after[x]} <= covered
    assert all(x < width for x in covered)


def test_identical_rows_have_no_dirty_span():
    row = [Content("0 A100"), Content("  70%")]
    assert dirty_spans(row, [Content("0 A100"), Content("  70%")]) == []
    assert dirty_spans(None, row) == [(0, 11)]


def test_poller_waits_for_each_result_to_be_handled():
    runs: list[float] = []
    ran = threading.Event()

    def work() -> None:
        runs.append(time.monotonic())
        ran.set()

    poller = Poller(work, lambda: 0.05, name="test-poller")
    poller.start()
    assert ran.wait(2)
    time.sleep(0.3)
    assert len(runs) == 1  # not handled yet: no second poll, however long it waits
    ran.clear()
    poller.handled()
    assert ran.wait(2) and len(runs) == 2
    poller.stop()
    poller.handled()
    deadline = time.monotonic() + 2
    while poller.alive and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not poller.alive


def test_poke_polls_before_the_interval_ends():
    ran = threading.Event()
    poller = Poller(ran.set, lambda: 60.0, name="test-poller")
    poller.start()
    assert ran.wait(2)
    ran.clear()
    poller.handled()
    poller.poke()
    assert ran.wait(2)  # not after 60 s
    poller.stop()


def test_a_failing_poll_does_not_stop_polling():
    calls: list[int] = []

    def work() -> None:
        calls.append(1)
        raise RuntimeError("boom")

    poller = Poller(work, lambda: 0.01, name="test-poller")
    poller.start()
    deadline = time.monotonic() + 2
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    poller.stop()
    assert len(calls) >= 3


@pytest.mark.slow
async def test_partial_updates_paint_the_same_as_textual_did(tmp_path, monkeypatch):
    """The compositor patch renders fewer widgets and lines; what it writes for any
    set of dirty regions must be byte for byte what Textual's own code writes."""
    import random

    from fakes import make_context, tabs_ready
    from textual._compositor import Compositor
    from textual.geometry import Region

    from waitwise_tui.ui.app import WaitwiseApp

    textual_patches.install()
    app = WaitwiseApp(make_context(tmp_path, gpus="two", interval=3600))
    console = Console(force_terminal=True, color_system="truecolor", width=120)
    async with app.run_test(size=(120, 40)) as pilot:
        await tabs_ready(pilot)
        await pilot.pause(0.3)
        compositor = app.screen._compositor
        rng = random.Random(7)
        for _ in range(60):
            screen = Region(0, 0, 120, 40)
            regions = [
                Region(
                    rng.randrange(120), rng.randrange(40), rng.randint(1, 40), rng.randint(1, 6)
                ).intersection(screen)
                for _ in range(rng.randint(1, 4))
            ]
            written = []
            for get_renders in (textual_patches._original_get_renders, textual_patches.get_renders):
                # the same dirty regions, painted by Textual's code, then by the patch
                monkeypatch.setattr(Compositor, "_get_renders", get_renders)
                compositor._dirty_regions.update(regions)
                written.append(compositor.render_partial_update().render_segments(console))
            assert written[0] == written[1], regions


def test_waking_event_wakes_a_thread_blocked_in_select():
    import selectors

    event = textual_patches.WakingEvent()
    selector = selectors.SelectSelector()
    selector.register(event.fileno(), selectors.EVENT_READ)
    threading.Timer(0.05, event.set).start()
    ready = selector.select(30)  # returns on set(), long before the timeout
    assert ready and event.is_set()
    event.drain()
    event.clear()
    assert selector.select(0) == []  # drained: nothing left to wake on


def test_patches_apply_only_to_the_textual_they_were_tested_on(monkeypatch):
    assert textual_patches.supported("8.2.8")
    assert not textual_patches.supported("8.3.0")
    assert not textual_patches.supported("9.0.0")
    # On an untested version install() replaces nothing: Textual's own code stays.
    monkeypatch.setattr(textual_patches, "_installed", False)
    monkeypatch.setattr(textual_patches, "textual_version", lambda: "8.9.9")
    original = ChopsUpdate.render_segments
    monkeypatch.setattr(ChopsUpdate, "render_segments", original)
    assert textual_patches.install() is False
    assert ChopsUpdate.render_segments is original
