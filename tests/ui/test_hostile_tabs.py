"""Hostile outside text through the real app's Data, Tests, Notes and Alternatives tabs.

Issue: untrusted text never runs, never styles, never moves the cursor. Each test feeds
the shared corpus (``tests/hostile.py``) in where the tab takes outside text (CSV column
names and cells, file names, test ids and output, BibTeX fields, note names and
content), drives the tab with keys, and checks what the terminal would get: the
escaped text is visible literally, no rendered segment carries a control character or
a link, no worker failed (a MarkupError in a worker only shows in the log), and no
canary file appeared.

Out of scope here: the notes editor (a TextArea) and Inputs show their text as it is,
control characters included; where a note with such text is open, only the modal in
front of it is checked.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from fakes import make_context, tabs_ready
from hostile import (
    STATIC,
    assert_inert,
    assert_no_canary,
    assert_no_control,
    corpus,
    identifier_corpus,
)
from rich.console import Console
from rich.segment import Segment
from rich.text import Text
from textual.widget import Widget
from textual.widgets import DataTable, OptionList, Static, Tree
from textual.widgets._markdown import MarkdownBlock
from textual.worker import Worker, WorkerState

from waitwise_tui.core.text import display
from waitwise_tui.ui.app import WaitwiseApp
from waitwise_tui.ui.tabs import TABS

SIZE = (160, 48)


# ---------------------------------------------------------------------- helpers


@pytest.fixture
def failed_workers(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[str]]:
    """The errors of every worker that failed during the test (they do not crash the
    app: workers here run with exit_on_error=False and only log their exception)."""
    started: list[Worker] = []
    original = Worker._start

    def start(self: Worker, app, done_callback=None) -> None:
        started.append(self)
        original(self, app, done_callback)

    monkeypatch.setattr(Worker, "_start", start)
    return lambda: [f"{w.name}: {w.error!r}" for w in started if w.state == WorkerState.ERROR]


def make_app(tmp: Path, tab: str, **options) -> WaitwiseApp:
    """The real app holding only ``tab``, its monitor still (no GPU, a frozen host
    sampled rarely): frames are then drawn for the tab, not for the monitor."""
    ctx = make_context(tmp, gpus=None, interval=10.0, **options)
    app = WaitwiseApp(ctx, initial_tab=tab)
    app.tab_specs = [spec for spec in TABS if spec.name == tab]
    return app


async def wait_for(pilot, condition: Callable[[], object], what: str, timeout: float = 30.0):
    waited = 0.0
    while not (result := condition()):
        await pilot.pause(0.02)
        waited += 0.02
        assert waited < timeout, f"timed out waiting for {what}; the screen:\n" + screen_text(
            pilot.app
        )
    await pilot.pause()
    return result


def screen_segments(app: WaitwiseApp, widget: Widget | None = None) -> list[list[Segment]]:
    """The segments the terminal would get for the current screen (or one widget)."""
    strips = app.screen._compositor.render_strips()
    if widget is None:
        return [list(strip) for strip in strips]
    region = widget.content_region  # inside its border and padding
    return [list(strip.crop(region.x, region.right)) for strip in strips[region.y : region.bottom]]


def modal_body(app: WaitwiseApp) -> Widget:
    """The container a modal screen draws in (the screen itself shows what is behind)."""
    return app.screen.children[0]


def screen_text(app: WaitwiseApp, widget: Widget | None = None) -> str:
    return "\n".join("".join(s.text for s in line) for line in screen_segments(app, widget))


def assert_screen_inert(tmp: Path, app: WaitwiseApp, widget: Widget | None = None) -> str:
    """Nothing ran, no control character and no link reached the screen; the text."""
    text = screen_text(app, widget)
    assert_inert(tmp, text)
    links = [
        s.text
        for line in screen_segments(app, widget)
        for s in line
        if s.style is not None and s.style.link
    ]
    assert not links, f"outside text planted a link: {links}"
    return text


def assert_plain(text: Text | str) -> None:
    """A label a widget holds: a Text, with nothing to act on in it."""
    assert isinstance(text, Text), f"{text!r} would be read as markup"
    assert_no_control(text.plain)
    assert not any(span.style and "link" in str(span.style) for span in text.spans)


def shown(text: str) -> str:
    """How ``text`` must look on screen."""
    return display(text)


def squeeze(text: str) -> str:
    """``text`` without whitespace: compares text that a widget wrapped."""
    return "".join(text.split())


def names_first_short(tmp: Path) -> list[str]:
    """The identifier corpus, short payloads first (the runners quote the tmp path)."""
    strings = identifier_corpus(tmp)
    return [s for s in strings if str(tmp) not in s] + [s for s in strings if str(tmp) in s]


# ---------------------------------------------------------------------- data


def write_hostile_csv(tmp: Path) -> tuple[Path, list[str]]:
    """Columns named by the corpus; numeric and text columns in turn, the text cells
    corpus strings too. Quoted throughout, so ``;`` and ``|`` never look like a
    separator to the sniffer."""
    names = names_first_short(tmp)
    cells = identifier_corpus(tmp)
    rows = []
    for r in range(30):
        row = []
        for c, _ in enumerate(names):
            if c % 2 == 0:
                row.append(f"{(r * (c + 3)) % 17 + r / 7:.3f}")
            else:
                row.append(cells[(r + c) % len(cells)])
        rows.append(row)
    path = tmp / "hostile.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(names)
        writer.writerows(rows)
    return path, names


@pytest.mark.slow  # the app, pandas and plotext: 5-8 s
async def test_data_tab_shows_hostile_columns_and_cells_literally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failed_workers
) -> None:
    from waitwise_tui.ui.tabs.data.tab import NAME_WIDTH, VIEWS, DataTab

    monkeypatch.chdir(tmp_path)
    path, names = write_hostile_csv(tmp_path)
    # Files the open picker lists: every corpus string that can be a file name.
    for name in identifier_corpus(tmp_path):
        if "/" not in name:
            (tmp_path / f"{name}.csv").write_text("a\n1\n", encoding="utf-8")
    app = make_app(tmp_path, "data", data_path=str(path))
    async with app.run_test(size=SIZE) as pilot:
        await tabs_ready(pilot)
        tab = app.query_one(DataTab)
        await wait_for(pilot, lambda: tab._profile is not None and tab._loading is None, "load")
        assert list(tab._loaded.frame.columns) == names
        columns = app.query_one("#data-columns", DataTable)
        assert columns.row_count == len(names)
        for row, name in enumerate(names):
            label = columns.get_row_at(row)[0]
            assert_plain(label)
            # The column list cuts long names (the numbers stay in view at 80 columns).
            assert label.plain[1:] == display(name, limit=NAME_WIDTH)

        async def chart_settled() -> str:
            await app.workers.wait_for_complete()
            await pilot.pause()
            return assert_screen_inert(tmp_path, app)

        text = await chart_settled()
        for literal in ("[bold red]x[/]", "[/]", "ablation [lr=3e-4]", "#{pane_id}"):
            assert literal in text, literal
        assert shown("lo\x1b[2Jss") in text

        # Column charts (histogram, bars) titled with hostile names; every column's
        # chart is checked without the app in test_data_builders_render_...
        link = "\x1b]8;;file:///etc/passwd\x07link\x1b]8;;\x07"
        for name in ("\x1b[31mred", "[bold red]x[/]", link):
            columns.move_cursor(row=names.index(name))
            text = await chart_settled()
            assert "cannot draw" not in text
            assert shown(name)[:20] in text, name

        # A text column as the target: balance bars and PCA legend show its cells.
        text_column = names.index("[@click=app.quit]x[/]")
        columns.move_cursor(row=text_column)
        await pilot.press("t")
        for _ in range(len(VIEWS) - 1):  # every view after the column view
            await pilot.press("v")
            text = await chart_settled()
            assert "cannot draw" not in text
        await pilot.press("v")  # back to the column view
        await chart_settled()

        # The rows behind a bar: a table whose headers and cells are all hostile.
        await pilot.press("right_square_bracket")
        await chart_settled()
        await pilot.press("g")
        rows = app.query_one("#data-rows", DataTable)
        await wait_for(pilot, lambda: tab.has_class("-table") and rows.row_count, "drill rows")
        for column in rows.columns.values():
            assert_plain(column.label)
        for row in range(rows.row_count):
            for cell in rows.get_row_at(row):
                assert_plain(cell)
        text = assert_screen_inert(tmp_path, app)
        assert "rows where [@click=app.quit]x[/] in" in text
        assert "#{pane_id}" in text and shown("lo\x1b[2Jss") in text
        await pilot.press("escape")
        await pilot.press("d")  # duplicate rows: none, but the table has every header
        await wait_for(pilot, lambda: tab.has_class("-table"), "duplicates table")
        assert_screen_inert(tmp_path, app)
        await pilot.press("escape")

        # The open picker: recent files and the directory tree show names as they are.
        await pilot.press("o")
        tree = await wait_for(
            pilot,
            lambda: app.screen.query(Tree).first() if app.screen.query(Tree) else None,
            "open picker",
        )
        await wait_for(pilot, lambda: len(tree.root.children) > len(names) // 2, "tree rows")
        for node in tree.root.children:
            assert_plain(node.label)
        text = assert_screen_inert(tmp_path, app)
        assert "[ and ].csv" in text
        assert "ablation [lr=3e-4].csv" in text
        recent = app.screen.query_one(OptionList)
        assert_plain(recent.get_option_at_index(0).prompt)
        await pilot.press("escape")
        await pilot.pause()
    assert not failed_workers()
    assert_no_canary(tmp_path)


def test_data_builders_render_hostile_names_as_text(tmp_path: Path) -> None:
    """Every view and the load preview, rendered to ANSI as the widget would."""
    from waitwise_tui.core.data.load import load_dataset
    from waitwise_tui.core.data.profile import profile_frame
    from waitwise_tui.ui.tabs.data.tab import VIEWS, _preview, build_view

    path, _ = write_hostile_csv(tmp_path)
    frame = load_dataset(str(path)).frame
    profile = profile_frame(frame, path=path.name, format="csv")
    console = Console(width=120, color_system="truecolor", force_terminal=True)

    def rendered(renderable) -> str:
        segments = list(console.render(renderable, console.options.update_width(100)))
        assert not [s.text for s in segments if s.style is not None and s.style.link]
        return "".join(s.text for s in segments)

    target = "[@click=app.quit]x[/]"
    # The first six columns: three histograms and three bar charts (the other views
    # take every column at once).
    for view in VIEWS:
        for column in profile.columns[: 6 if view == "column" else 1]:
            renderable, _ = build_view(frame, profile, view, column, target, 0, 100, 20)
            text = rendered(renderable)
            assert_inert(tmp_path, text)
            assert "cannot draw" not in text
    preview = _preview(frame.head(5), 100)
    assert_inert(tmp_path, preview.plain)
    assert "[bold red]x[/]" in preview.plain and shown("lo\x1b[2Jss") in preview.plain


# ---------------------------------------------------------------------- tests


def write_hostile_project(tmp: Path) -> Path:
    """A pytest project whose test ids, failures and output are corpus strings.

    pytest escapes non-ASCII and control characters in ids unless told otherwise; a
    project can tell it otherwise, so the raw ids are what the tab must cope with."""
    project = tmp / "proj"
    project.mkdir()
    (project / "pytest.ini").write_text(
        "[pytest]\ndisable_test_id_escaping_and_forfeit_all_rights_to_community_support = true\n",
        encoding="utf-8",
    )
    ids = identifier_corpus(tmp)
    everything = corpus(tmp)
    (project / "test_hostile.py").write_text(
        "import sys\n"
        "import pytest\n\n"
        f"IDS = {ids!r}\n"
        f"EVERYTHING = {everything!r}\n\n\n"
        "@pytest.mark.parametrize('value', IDS, ids=IDS)\n"
        "def test_value(value):\n"
        "    print('\\n'.join(EVERYTHING))\n"
        "    sys.stderr.write(value)\n"
        "    assert IDS.index(value) % 2, value\n",
        encoding="utf-8",
    )
    python = project / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    return project


@pytest.mark.slow  # the app, and pytest run twice in a subprocess: 3-5 s
async def test_tests_tab_shows_hostile_ids_and_output_literally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failed_workers
) -> None:
    from waitwise_tui.ui.tabs.testing.tab import TestsTab

    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.chdir(tmp_path)
    project = write_hostile_project(tmp_path)
    ids = identifier_corpus(tmp_path)
    app = make_app(tmp_path, "tests", project_dir=str(project))
    app.ctx.fakes = replace(app.ctx.fakes, tests_env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    # Wide enough for the tree beside the detail (under 90 columns the tab stacks them).
    async with app.run_test(size=(200, 48)) as pilot:
        await tabs_ready(pilot)
        tab = app.query_one(TestsTab)
        await wait_for(pilot, lambda: tab.state.endswith("tests found"), "discovery", 60)
        assert tab.state == f"{len(ids)} tests found"
        assert_screen_inert(tmp_path, app)

        await pilot.press("r")
        await wait_for(pilot, lambda: not tab.working and tab.state.startswith("exit"), "run", 60)
        failing = tab.failing()
        assert len(failing) == (len(ids) + 1) // 2
        for nodeid, node in tab.nodes.items():
            assert_plain(node.label)
            if nodeid in tab.order:
                param = nodeid.partition("[")[2][:-1]
                assert node.label.plain.endswith(f"[{shown(param)}]")
        text = assert_screen_inert(tmp_path, app)
        assert "[bold red]x[/]" in text and "ablation [lr=3e-4]" in text

        detail = app.query_one("#tests-detail-text", Static)
        # A failure's detail: the id, the assertion message, traceback and output.
        for _ in range(3):
            await pilot.press("n")
            await pilot.pause()
            assert_screen_inert(tmp_path, app)
            nodeid = app.query_one(Tree).cursor_node.data
            shown_detail = screen_text(app, app.query_one("#tests-detail"))
            assert squeeze(shown(nodeid)) in squeeze(shown_detail)
        assert_plain(detail.content)
        body = detail.content.plain
        for payload in STATIC:
            assert display(payload, multiline=True) in body, payload

        await pilot.press("l")  # pytest's own output
        await pilot.pause()
        assert_screen_inert(tmp_path, app)
        assert_plain(detail.content)
        assert shown("lo\x1b[2Jss") in detail.content.plain

        await pilot.press("s")  # the slowest tests, by id
        await pilot.pause()
        assert_screen_inert(tmp_path, app)
        assert_plain(detail.content)
    assert not failed_workers()
    assert_no_canary(tmp_path)


# ---------------------------------------------------------------------- notes


# Names that look like shell or tmux payloads (canaries would land in the test's cwd)
# or like markup that parses ("/" cannot be in a file name, so no closing tags).
NOTE_NAMES = (
    "#(touch p1)",
    "$(touch p2)",
    "; touch p3",
    "`touch p4`",
    "| touch p5",
    "&& touch p6",
    "[bold red]x",
    "[@click=app.quit]x",
    "[link=mailto:x]x",
)


@pytest.mark.slow  # the app and five modals: 4-9 s
async def test_notes_tab_shows_hostile_note_names_and_content_literally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failed_workers
) -> None:
    from waitwise_tui.ui.tabs.notes.modals import NoteListScreen, SearchScreen
    from waitwise_tui.ui.tabs.notes.tab import NotesTab

    monkeypatch.chdir(tmp_path)
    notes_dir = tmp_path / ".waitwise" / "notes"
    notes_dir.mkdir(parents=True)
    # Files made outside the app: names the app itself would refuse (ESC, CR) too.
    names = [
        s for s in identifier_corpus(tmp_path) if "/" not in s and not s.startswith(".")
    ] + list(NOTE_NAMES)
    for name in names:
        (notes_dir / f"{name}.md").write_text("plain note\n", encoding="utf-8")
    (notes_dir / "ablation [lr=3e-4].md").write_text(
        "# results\n\n" + "\n\n".join(corpus(tmp_path)) + "\n", encoding="utf-8"
    )
    app = make_app(tmp_path, "notes")
    async with app.run_test(size=SIZE) as pilot:
        await tabs_ready(pilot)
        tab = app.query_one(NotesTab)
        await wait_for(pilot, lambda: tab.loaded and not tab._switching, "today's note")

        await pilot.press("ctrl+o")
        options = await wait_for(
            pilot,
            lambda: isinstance(app.screen, NoteListScreen) and app.screen.query_one(OptionList),
            "note list",
        )
        for index in range(options.option_count):
            assert_plain(options.get_option_at_index(index).prompt)
        text = assert_screen_inert(tmp_path, app)
        assert shown("\x1b[31mred") in text  # control names sort first

        for name in ("[bold red]x", "ablation [lr=3e-4]"):
            if not isinstance(app.screen, NoteListScreen):
                await pilot.press("ctrl+o")
                await wait_for(pilot, lambda: isinstance(app.screen, NoteListScreen), "list")
                options = app.screen.query_one(OptionList)
            options.highlighted = options.get_option_index(name)
            await pilot.press("enter")
            await wait_for(
                pilot,
                lambda name=name: tab.doc.path.stem == name and not tab._switching,
                f"open {name}",
            )
            header = app.query_one("#notes-header", Static)
            assert f"{name}.md" in assert_screen_inert(tmp_path, app, header)

        # The preview renders the Markdown; the payloads in it stay text.
        # Textual's Markdown mounts its blocks in batches: wait for the whole document,
        # not its first heading, before looking at what it shows.
        literals = ("[bold red]x[/]", "[@click=app.quit]x[/]", "ablation [lr=3e-4]")
        literals += (shown("lo\x1b[2Jss"),)
        await pilot.press("ctrl+g")
        preview = app.query_one("#notes-preview")

        def rendered() -> str:
            return "\n".join(str(block.render()) for block in preview.query(MarkdownBlock))

        await wait_for(
            pilot,
            lambda: all(lit in rendered() for lit in literals),
            "the preview",
            timeout=90,  # the whole hostile document, rendered in batches on a loaded box
        )
        # The document is longer than the pane (the canaries hold the test's tmp path):
        # read the screen page by page, each page inert.
        text = assert_screen_inert(tmp_path, app)
        while preview.scroll_y < preview.max_scroll_y:
            preview.scroll_to(y=preview.scroll_y + preview.size.height, animate=False)
            await pilot.pause()
            text += assert_screen_inert(tmp_path, app)
        for literal in literals:
            assert literal in text, literal
        await pilot.press("ctrl+g")

        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: isinstance(app.screen, SearchScreen), "search")
        await pilot.press(*"ss")
        hits = app.screen.query_one("#search-hits", OptionList)
        await wait_for(pilot, lambda: hits.option_count, "search hits")
        for index in range(hits.option_count):
            assert_plain(hits.get_option_at_index(index).prompt)
        # The modal only: behind it the editor holds the note's raw text (the editor
        # is out of this scope; see the module docstring).
        assert shown("lo\x1b[2Jss") in assert_screen_inert(tmp_path, app, modal_body(app))
        await pilot.press("escape")

        await pilot.press("f8")  # the delete question quotes the name
        await wait_for(pilot, lambda: app.screen.query("#confirm-question"), "confirm")
        question = assert_screen_inert(tmp_path, app, modal_body(app))
        assert "ablation [lr=3e-4].md" in question
        await pilot.press("n")

        await pilot.press("ctrl+r")  # rename to markup that Textual cannot parse
        await wait_for(pilot, lambda: app.screen.query("#prompt-input"), "rename prompt")
        await pilot.press("ctrl+u", *"[link=mailto:x]y", "enter")
        await wait_for(pilot, lambda: tab.doc.path.stem == "[link=mailto:x]y", "rename")
        header = app.query_one("#notes-header", Static)
        assert "[link=mailto:x]y.md" in assert_screen_inert(tmp_path, app, header)
    assert not failed_workers()
    assert (notes_dir / "[link=mailto:x]y.md").exists()
    assert_no_canary(tmp_path)


# ---------------------------------------------------------------------- alternatives


def write_hostile_bib(tmp: Path) -> tuple[Path, list[str]]:
    titles = identifier_corpus(tmp)
    records = []
    for index, title in enumerate(titles):
        # A space before each closing brace: "\x1b\\" would otherwise escape it.
        records.append(
            f"@misc{{k{index},\n"
            f"  title = {{{title} }},\n"
            f"  author = {{{title} and Doe, Jane }},\n"
            f"  note = {{{title} }},\n"
            f"  year = {{2020}}\n}}\n"
        )
    path = tmp / "hostile.bib"
    path.write_text("\n".join(records), encoding="utf-8")
    return path, titles


@pytest.mark.slow  # the app, bibtexparser and three modals: 4-6 s
async def test_alternatives_tab_imports_hostile_bibtex_and_shows_it_literally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failed_workers
) -> None:
    from waitwise_tui.ui.prompts import TextPrompt
    from waitwise_tui.ui.tabs.alternatives.modals import EntryForm
    from waitwise_tui.ui.tabs.alternatives.tab import AlternativesTab

    monkeypatch.chdir(tmp_path)
    _, titles = write_hostile_bib(tmp_path)
    app = make_app(tmp_path, "alternatives")
    async with app.run_test(size=SIZE) as pilot:
        await tabs_ready(pilot)
        tab = app.query_one(AlternativesTab)
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, TextPrompt), "import prompt")
        await pilot.press(*"hostile.bib", "enter")
        await wait_for(pilot, lambda: len(tab._store.entries()) == len(titles), "import")
        stored = [e.title for e in tab._store.entries()]
        assert "lo\x1b[2Jss" in stored  # the store keeps the text as it came

        table = app.query_one(DataTable)
        for row in range(table.row_count):
            for cell in table.get_row_at(row):
                assert_plain(cell)
        text = assert_screen_inert(tmp_path, app)
        for literal in ("[bold red]x[/]", "[@click=app.quit]x[/]", "ablation [lr=3e-4]"):
            assert literal in text, literal
        assert shown("lo\x1b[2Jss") in text

        # The detail lines under the table (authors, notes), row by row.
        detail = app.query_one("#alt-detail", Static)
        for row in range(table.row_count):
            table.move_cursor(row=row)
            tab._render_detail()
            assert_plain(detail.content)
        await pilot.pause()
        assert_screen_inert(tmp_path, app, detail)

        # The form of an entry with ESC in every field; saving it unchanged keeps it.
        target = next(e for e in tab._store.entries() if e.title == "lo\x1b[2Jss")
        tab._move_cursor(target.id)
        before = tab.path.read_bytes()
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, EntryForm), "form")
        assert shown("lo\x1b[2Jss") in assert_screen_inert(tmp_path, app)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, EntryForm), "form closed")
        await app.workers.wait_for_complete()
        assert tab.path.read_bytes() == before

        await pilot.press("d")  # the delete question quotes the title
        await wait_for(pilot, lambda: app.screen.query("#confirm-question"), "confirm")
        assert shown("lo\x1b[2Jss") in assert_screen_inert(tmp_path, app)
        await pilot.press("n")
    assert not failed_workers()
    assert_no_canary(tmp_path)
