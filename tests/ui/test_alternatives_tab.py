"""Pilot tests of the Alternatives tab in a harness app that holds only the tab."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from fakes import runs_reading
from textual.app import App, ComposeResult
from textual.events import Paste
from textual.widgets import DataTable, Input
from waits import palette_finds, wait_for

from waitwise_tui.config import Settings
from waitwise_tui.core.alternatives.model import Entry
from waitwise_tui.core.alternatives.store import AlternativesList, load_list, save_list
from waitwise_tui.core.workspace import Workspace
from waitwise_tui.ui.context import AppContext, Fakes
from waitwise_tui.ui.prompts import TextPrompt
from waitwise_tui.ui.tabs.alternatives.modals import EntryForm, StatusPicker
from waitwise_tui.ui.tabs.alternatives.tab import (
    AlternativesCommands,
    AlternativesTab,
    detail_lines,
    fit_words,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def seed(root: Path) -> Workspace:
    ws = Workspace(root)
    store = AlternativesList()
    for entry in (
        Entry(
            0,
            "LoRA: Low-Rank Adaptation of Large Language Models",
            kind="architecture",
            arxiv_id="2106.09685v2",
            priority=2,
            minutes=40,
            tags=("peft",),
            authors=("Hu, Edward J.", "Shen, Yelong"),
            year=2021,
            links=("trial 12: val_loss 0.31 against 0.35",),
            notes="\nLow-rank updates; try on the encoder.\n",
        ),
        Entry(
            0,
            "Layer Normalization",
            kind="normalisation",
            arxiv_id="1607.06450",
            minutes=15,
            status="reading",
        ),
        Entry(
            0,
            "[bold]Adam[/] \x1b[31m",
            kind="optimiser",
            priority=1,
            status="done",
            doi="10.48550/arXiv.1412.6980",
        ),
        Entry(
            0,
            "TF-IDF vs learned embeddings",
            kind="vectorisation",
            priority=4,
            minutes=5,
            url="https://example.org/tfidf",
            tags=("nlp",),
        ),
    ):
        store.add(entry, now=NOW)
    save_list(ws.alternatives_path, store)
    return ws


class AltHarness(App[None]):
    def __init__(
        self, ws: Workspace, fakes: Fakes | None = None, settings=None, watch: float = 0.0
    ) -> None:
        super().__init__()
        self.ctx = AppContext(ws, settings or Settings(), fakes=fakes or Fakes())
        self.copied: list[str] = []
        self.watch = watch

    def compose(self) -> ComposeResult:
        yield AlternativesTab(self.ctx, id="alt", watch_interval=self.watch)

    def on_mount(self) -> None:
        self.query_one(AlternativesTab).tab_activated()

    def copy_to_clipboard(self, text: str) -> None:
        self.copied.append(text)
        super().copy_to_clipboard(text)


async def settle(pilot, app: AltHarness) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def ids(app: AltHarness) -> list[int]:
    return [e.id for e in app.query_one(AlternativesTab)._shown]


def row_text(app: AltHarness, row: int) -> list[str]:
    return [str(c) for c in app.query_one(DataTable).get_row_at(row)]


async def test_table_sorts_and_shows_titles_literally(tmp_path: Path) -> None:
    app = AltHarness(seed(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert ids(app) == [3, 1, 2, 4]
        assert row_text(app, 0)[-1] == "[bold]Adam[/] \\x1b[31m"
        await pilot.press("t")
        assert ids(app) == [4, 3, 2, 1]  # newest first (same stamp: higher id first)
        await pilot.press("t")
        assert ids(app) == [1, 4, 2, 3]  # by status, then priority


@pytest.mark.slow
async def test_filter_and_keys_do_not_fire_while_typing(tmp_path: Path) -> None:
    ws = seed(tmp_path)
    app = AltHarness(ws)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        before = ws.alternatives_path.read_text()
        await pilot.press("slash")
        box = app.query_one("#alt-filter", Input)
        assert box.has_focus
        # Every tab key typed here goes into the Input.
        await pilot.press(*"adeiopr sx", "t")
        assert box.value == "adeiopr sxt"
        assert len(app.screen_stack) == 1
        box.value = ""
        await pilot.press(*"status:to-read", "enter")
        assert ids(app) == [1, 4]
        assert app.query_one(DataTable).has_focus
        await pilot.press("f", "ctrl+u")
        await pilot.press(*"tag:nlp tfidf", "enter")
        assert ids(app) == [4]
        await pilot.press("f", "escape")
        assert ids(app) == [3, 1, 2, 4]
        await settle(pilot, app)
        assert ws.alternatives_path.read_text() == before


async def test_bulk_status_change(tmp_path: Path) -> None:
    ws = seed(tmp_path)
    app = AltHarness(ws)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        # Rows: 3, 1, 2, 4. Select 1 and 2 (space moves down).
        await pilot.press("down", "space", "space")
        assert app.query_one(AlternativesTab)._selected == {1, 2}
        await pilot.press("s")
        assert isinstance(app.screen, StatusPicker)
        await pilot.press("down", "down", "down", "enter")  # from to-read down to tried
        await settle(pilot, app)
        stored = {e.id: e.status for e in load_list(ws.alternatives_path).entries()}
        assert stored == {1: "tried", 2: "tried", 3: "done", 4: "to-read"}
        assert app.query_one(AlternativesTab)._selected == set()


@pytest.mark.slow
async def test_quick_add_arxiv_url_bibtex_and_rubbish(tmp_path: Path) -> None:
    ws = seed(tmp_path)
    app = AltHarness(ws)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("p")
        assert isinstance(app.screen, TextPrompt)
        await pilot.press(*"hep-th/9901001", "enter")
        await settle(pilot, app)
        await pilot.press("p")
        # A multi-line paste (BibTeX) lands in the one-line Input whole.
        app.screen.query_one(Input).post_message(
            Paste("@misc{k,\n  title = {Group Norm},\n  eprint = {1803.08494}\n}")
        )
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot, app)
        await pilot.press("p")
        app.screen.query_one(Input).value = "https://arxiv.org/abs/2106.09685v9"
        await pilot.press("enter")
        await settle(pilot, app)
        await pilot.press("p")
        app.screen.query_one(Input).value = "no such thing"
        await pilot.press("enter")
        await settle(pilot, app)
        titles = {e.id: e.title for e in load_list(ws.alternatives_path).entries()}
        assert titles[5] == "arXiv:hep-th/9901001"
        assert titles[6] == "Group Norm"
        assert len(titles) == 6  # the LoRA URL merged into #1, rubbish refused
        messages = [n.message for n in app._notifications]
        assert (
            "Already listed as #1: LoRA: Low-Rank Adaptation of Large Language Models" in messages
        )
        assert any(m.startswith("not an arXiv id, DOI, URL") for m in messages)


@pytest.mark.slow
async def test_add_and_edit_with_the_form(tmp_path: Path) -> None:
    ws = seed(tmp_path)
    app = AltHarness(ws)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("a")
        assert isinstance(app.screen, EntryForm)
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, EntryForm)  # no title: stays open with an error
        await pilot.press(*"BatchNorm")
        app.screen.query_one("#form-minutes", Input).value = "12"
        app.screen.query_one("#form-tags", Input).value = "cv, norm"
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        added = load_list(ws.alternatives_path).get(5)
        assert added is not None and added.minutes == 12 and added.tags == ("cv", "norm")
        # Edit #3 (first row) via enter; notes in the TextArea keep newlines.
        await pilot.press("home")
        app.query_one(DataTable).move_cursor(row=0)
        await pilot.press("enter")
        assert isinstance(app.screen, EntryForm)
        app.screen.query_one("#form-priority", Input).value = "9"
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, EntryForm)
        app.screen.query_one("#form-priority", Input).value = "5"
        app.screen.query_one("#form-links").text = "trial 12: val_loss 0.31 against 0.35"
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        edited = load_list(ws.alternatives_path).get(3)
        assert edited.priority == 5 and edited.links == ("trial 12: val_loss 0.31 against 0.35",)
        assert edited.title == "[bold]Adam[/] \x1b[31m"


async def test_delete_with_confirm(tmp_path: Path) -> None:
    ws = seed(tmp_path)
    app = AltHarness(ws)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("d", "n")
        await settle(pilot, app)
        assert len(load_list(ws.alternatives_path).entries()) == 4
        await pilot.press("d", "y")
        await settle(pilot, app)
        assert [e.id for e in load_list(ws.alternatives_path).entries()] == [1, 2, 4]
        assert ids(app) == [1, 2, 4]


async def test_hand_edit_while_the_app_runs_is_kept_and_listed(tmp_path: Path) -> None:
    ws = seed(tmp_path)
    app = AltHarness(ws)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert ids(app) == [3, 1, 2, 4]
        # The user adds two short entries in an editor, with comments, while the app runs.
        path = ws.alternatives_path
        path.write_text(
            path.read_text()
            + '\n# by hand\n[[entry]]\nid = 7\ntitle = "Lion"\n\n[[entry]]\nid = 8\n'
            + 'title = "Sophia"  # later\n'
        )
        await pilot.press("d", "y")  # deletes the row under the cursor, #3
        await settle(pilot, app)
        text = path.read_text()
        assert "# by hand\n[[entry]]\nid = 7" in text and 'title = "Sophia"  # later' in text
        assert [e.id for e in load_list(path).entries()] == [1, 2, 4, 7, 8]
        assert sorted(ids(app)) == [1, 2, 4, 7, 8]


async def test_hand_edit_is_picked_up_without_a_key_and_a_broken_file_keeps_the_list(
    tmp_path: Path,
) -> None:
    ws = seed(tmp_path)
    path = ws.alternatives_path
    app = AltHarness(ws, watch=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        tab = app.query_one(AlternativesTab)
        await wait_for(pilot, lambda: ids(app) == [3, 1, 2, 4], "the seeded list")
        await pilot.press("down", "down", "space")  # #2 selected, cursor moves on to #4
        assert tab._cursor_id() == 4 and tab._selected == {2}
        # The user edits the file in an editor while the app runs; no key is pressed.
        good = (
            path.read_text().replace("TF-IDF vs learned embeddings", "TF-IDF, revisited")
            + '\n# by hand\n[[entry]]\nid = 7\ntitle = "Lion"\npriority = 1\n'
        )
        path.write_text(good)
        await wait_for(pilot, lambda: 7 in ids(app), "the hand-added entry to be listed")
        assert ids(app) == [7, 3, 1, 2, 4]
        assert row_text(app, ids(app).index(4))[-1] == "TF-IDF, revisited"
        assert tab._cursor_id() == 4 and tab._selected == {2}  # cursor and selection kept
        # A typo saved by hand: one line naming it, the last good list stays, and the
        # app writes nothing over the user's file.
        broken = good.replace('title = "Lion"', 'title = "Lion')
        path.write_text(broken)
        status = app.query_one("#alt-status")
        await wait_for(pilot, lambda: "line" in str(status.render()), "the error line")
        line = broken.splitlines().index('title = "Lion') + 1
        assert f"line {line}" in str(status.render())
        assert ids(app) == [7, 3, 1, 2, 4] and tab._selected == {2}
        await pilot.press("s")  # refused: no picker, nothing written
        assert len(app.screen_stack) == 1
        assert path.read_text() == broken
        # Fixed by hand: the error goes and the fixed list is shown.
        path.write_text(good.replace('title = "Lion"', 'title = "Lion (fixed)"'))
        await wait_for(pilot, lambda: "line" not in str(status.render()), "the error to clear")
        await wait_for(pilot, lambda: "Lion (fixed)" in row_text(app, 0)[-1], "the fix")
        assert tab._cursor_id() == 4


async def test_a_file_caught_half_written_is_read_only_once_it_holds(tmp_path: Path) -> None:
    """An editor saving in place truncates the file, then writes it: a check between
    the two must not show the empty (or cut) list, which lost the cursor's entry."""
    ws = seed(tmp_path)
    path = ws.alternatives_path
    app = AltHarness(ws)  # no watcher thread: the checks are made here, one by one
    async with app.run_test(size=(80, 24)) as pilot:
        tab = app.query_one(AlternativesTab)
        await wait_for(pilot, lambda: ids(app) == [3, 1, 2, 4], "the seeded list")
        await pilot.press("down", "down", "down")
        assert tab._cursor_id() == 4
        full = path.read_text() + '\n[[entry]]\nid = 7\ntitle = "Lion"\npriority = 1\n'
        path.write_text("")  # truncated: the editor has not written yet
        tab._watch_once()
        await settle(pilot, app)
        assert ids(app) == [3, 1, 2, 4]  # a changed file is not read at its first sight
        path.write_text(full)
        tab._watch_once()  # changed again since the last check: still not read
        await settle(pilot, app)
        assert ids(app) == [3, 1, 2, 4]
        tab._watch_once()  # unchanged since: read
        await wait_for(pilot, lambda: ids(app) == [7, 3, 1, 2, 4], "the saved list")
        assert tab._cursor_id() == 4 and tab._error is None


async def test_open_link_copies_and_shows_url(tmp_path: Path) -> None:
    app = AltHarness(seed(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("o")
        assert app.copied == ["https://doi.org/10.48550/arXiv.1412.6980"]
        assert any(n.message == app.copied[0] for n in app._notifications)


@pytest.mark.parametrize(
    ("eta", "expected", "text"),
    [
        (None, 1, "ETA unknown"),
        (20 * 60, 2, "fits"),
        (60.0, None, "No unread entry with a reading time fits the 1m left"),
    ],
)
@pytest.mark.slow
async def test_read_now(tmp_path: Path, eta, expected, text) -> None:
    app = AltHarness(seed(tmp_path))
    if eta is not None:  # the monitor's live runs reading: one run with this ETA
        app.ctx.live.publish_runs(runs_reading(eta_seconds=eta))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("f", *"kind:optim", "enter")
        await pilot.press("r")
        messages = [n.message for n in app._notifications]
        assert any(text in m for m in messages)
        if expected is not None:
            tab = app.query_one(AlternativesTab)
            assert tab._cursor_id() == expected


async def test_broken_file_keeps_last_state_and_refuses_writes(tmp_path: Path) -> None:
    ws = seed(tmp_path)
    app = AltHarness(ws)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        broken = ws.alternatives_path.read_text().replace("priority = 4", "priority = = 4")
        ws.alternatives_path.write_text(broken)
        app.query_one(AlternativesTab).tab_activated()
        await settle(pilot, app)
        assert ids(app) == [3, 1, 2, 4]
        status = str(app.query_one("#alt-status").render())
        line = broken.splitlines().index("priority = = 4") + 1
        assert f"line {line}" in status
        await pilot.press("a")
        assert len(app.screen_stack) == 1
        await pilot.press("s")
        assert len(app.screen_stack) == 1
        assert ws.alternatives_path.read_text() == broken
        ws.alternatives_path.write_text(broken.replace("= = 4", "= 4"))
        app.query_one(AlternativesTab).tab_activated()
        await settle(pilot, app)
        assert "line" not in str(app.query_one("#alt-status").render())


@pytest.mark.slow
async def test_import_and_export(tmp_path: Path) -> None:
    ws = seed(tmp_path)
    (tmp_path / "refs.bib").write_text(
        "@misc{a, title={Adam again}, doi={10.48550/ARXIV.1412.6980}}\n"
        "@misc{b, title={RMSNorm}, eprint={1910.07467}}\n@misc{c, title={oops\n"
    )
    app = AltHarness(ws)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("i", *"refs.bib", "enter")
        await settle(pilot, app)
        await settle(pilot, app)
        assert any(
            "1 added, 1 merged as duplicates, 1 skipped" in n.message for n in app._notifications
        )
        assert ids(app) == [3, 1, 2, 5, 4]
        await pilot.press("x", "enter")
        await settle(pilot, app)
        assert "eprint = {1910.07467}" in (tmp_path / "alternatives.bib").read_text()
        await pilot.press("x", "ctrl+u", *"list.md", "enter")
        await settle(pilot, app)
        assert "| 5 | RMSNorm |" in (tmp_path / "list.md").read_text()


def test_detail_lines_show_latex_decoded() -> None:
    from waitwise_tui.core.alternatives.bibtex import parse_bibtex

    (entry,) = parse_bibtex(
        r"@inproceedings{k, title={Prompt \& Predict}, author={J{\"u}rgen Schmidhuber},"
        r" booktitle={Proc.\ {ICML}}, year=2021, note={arXiv:2102.00001}}"
    ).entries
    assert entry.title == "Prompt & Predict"
    assert (
        detail_lines(entry)[0]
        == "#0 · Jürgen Schmidhuber · 2021 · Proc. ICML · other · arXiv:2102.00001"
    )


def test_fit_words() -> None:
    assert fit_words("short", 10) == "short"
    assert fit_words("a fairly long title here", 12) == "a fairly…"
    assert len(fit_words("x" * 30, 10)) == 10


async def test_online_lookup_failure_is_reported_and_entry_kept(tmp_path: Path) -> None:
    import socket
    from dataclasses import dataclass

    @dataclass
    class LookupSettings(Settings):
        alt_online_lookup: bool = True

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ws = seed(tmp_path)
    app = AltHarness(
        ws,
        Fakes(arxiv_api_url=f"http://127.0.0.1:{port}/api/query"),
        settings=LookupSettings(),
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("p")
        app.screen.query_one(Input).value = "1910.07467"
        await pilot.press("enter")
        await settle(pilot, app)
        await settle(pilot, app)
        assert any("arXiv lookup failed" in n.message for n in app._notifications)
        assert load_list(ws.alternatives_path).get(5).title == "arXiv:1910.07467"


async def test_hand_edited_file_warns_and_keeps_unreadable_entry(tmp_path: Path) -> None:
    ws = seed(tmp_path)
    odd = '\n[[entry]]\nid = 9\ntitle = "Odd"\nstatus = "skimmed"  # mine\n'
    ws.alternatives_path.write_text(ws.alternatives_path.read_text() + odd)
    app = AltHarness(ws)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        assert ids(app) == [3, 1, 2, 4]
        assert any("skimmed" in n.message for n in app._notifications)
        assert "1 unreadable in file" in str(app.query_one("#alt-status").render())
        await pilot.press("d", "y")
        await settle(pilot, app)
        text = ws.alternatives_path.read_text()
        assert odd.strip() in text and 'title = "[bold]Adam[/]' not in text
        # Wide layout: the title column gets the room.
        assert app.query_one(DataTable).columns["title"].width > 100
        assert row_text(app, 0)[-1] == "LoRA: Low-Rank Adaptation of Large Language Models"


class PaletteHarness(AltHarness):
    COMMANDS = {AlternativesCommands}


@pytest.mark.slow
async def test_command_palette_runs_tab_actions(tmp_path: Path) -> None:
    app = PaletteHarness(seed(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+p")
        await pilot.press(*"read now")
        await palette_finds(pilot, "read now")
        await pilot.press("enter")
        await pilot.pause()
        assert any(n.title == "Read now" for n in app._notifications)


async def test_detail_lines_follow_the_cursor(tmp_path: Path) -> None:
    app = AltHarness(seed(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("down")
        detail = str(app.query_one("#alt-detail").render())
        assert detail.splitlines() == [
            "#1 · Hu, Edward J. et al. · 2021 · architecture · arXiv:2106.09685v2 · tags peft"
            " · added 2026-01-02",
            "tried: trial 12: val_loss 0.31 against 0.35",
            "notes: Low-rank updates; try on the encoder.",
        ]
