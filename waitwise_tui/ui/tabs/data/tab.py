"""The Data tab: load a dataset, profile it, plot it, and show the rows behind the numbers.

Loading, profiling, charts and drill-downs run in thread workers that post dataclass
messages back (load progress coalesces: only the newest waiting one is shown); the event
loop only moves widgets. Charts are drawn in the worker, each into a plotext figure of
its own (``views.new_figure``). Keys: o open, c compare, v/V views, t target,
[ ] pick a bin or bar, g rows behind it, n null rows, d duplicate rows, x exact profile,
s save the profile, escape cancel a load or close a table.

File names, column names and cells are outside text: every one reaches a widget as
``plain`` (a Rich ``Text`` of ``core.text.display``), never as a markup string, and
reaches plotext through ``display`` (see ``data_plots``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Console, Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from waitwise_tui.core import fmt
from waitwise_tui.core.text import display
from waitwise_tui.ui.plain import plain
from waitwise_tui.ui.tabs import TabWidget

if TYPE_CHECKING:
    from rich.console import RenderableType

    from waitwise_tui.core.data.load import Loaded
    from waitwise_tui.core.data.profile import ColumnProfile, Profile
    from waitwise_tui.core.data.views import ColumnDrift, Drill
    from waitwise_tui.ui.context import AppContext

VIEWS = ("column", "time", "scatter", "corr", "balance", "pca", "alerts")
VIEW_TITLES = {
    "column": "column",
    "time": "time series",
    "scatter": "scatter",
    "corr": "correlation",
    "balance": "balance",
    "pca": "PCA",
    "alerts": "alerts",
}
# Column names longer than this are cut in the column list, so one long name cannot push
# the type and counts out of a list that gets at most half the tab.
NAME_WIDTH = 24
MIN_CHART_ROWS = 8
_KIND_SHORT = {"numeric": "num", "bool": "bool", "datetime": "date", "text": "text"}


class DataTab(TabWidget):
    """Profile and plot a dataset; every count leads to the rows behind it."""

    DEFAULT_CSS = """
    DataTab { layout: vertical; }
    DataTab #data-status { height: auto; max-height: 2; padding: 0 1; }
    DataTab #data-main { height: 1fr; }
    DataTab #data-columns { width: auto; max-width: 50%; height: 1fr; }
    DataTab #data-chart { width: 1fr; height: 1fr; padding: 0 1; }
    DataTab #data-table-panel { height: 1fr; display: none; }
    DataTab #data-table-title { height: 1; padding: 0 1; }
    DataTab #data-rows { height: 1fr; }
    DataTab.-table #data-main { display: none; }
    DataTab.-table #data-table-panel { display: block; }
    DataTab #data-preview-scroll { display: none; height: 1fr; }
    DataTab #data-preview { width: auto; }
    DataTab.-preview #data-preview-scroll { display: block; }
    DataTab.-preview #data-rows { display: none; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "open", "Open", id="data.open"),
        Binding("c", "compare", "Compare", id="data.compare"),
        Binding("v", "next_view", "View", id="data.next_view"),
        Binding("V", "previous_view", "Prev view", show=False, id="data.previous_view"),
        Binding("t", "target", "Target", id="data.target"),
        Binding("left_square_bracket", "pick(-1)", "Prev bin", show=False, id="data.pick_prev"),
        Binding("right_square_bracket", "pick(1)", "Next bin", show=False, id="data.pick_next"),
        Binding("g", "bin_rows", "Bin rows", id="data.bin_rows"),
        Binding("n", "null_rows", "Null rows", id="data.null_rows"),
        Binding("d", "duplicate_rows", "Duplicates", id="data.duplicate_rows"),
        Binding("x", "exact", "Exact", id="data.exact"),
        Binding("s", "save", "Save profile", id="data.save"),
        Binding("f", "failure_rows", "Unread values", show=False, id="data.failure_rows"),
        Binding("m", "toggle_tokens", "Missing tokens", show=False, id="data.toggle_tokens"),
        Binding("escape", "back", "Back/cancel", id="data.back"),
    ]

    @dataclass
    class HeadReady(Message):
        """The first rows, read before the whole file, as a preview."""

        count: int
        preview: Text

    @dataclass
    class Progress(Message):
        """How far a load got; only the newest matters."""

        percent: int

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, DataTab.Progress)

    @dataclass
    class DatasetReady(Message):
        loaded: Loaded
        profile: Profile

    @dataclass
    class Failed(Message):
        text: str
        severity: str = "error"

    @dataclass
    class Notice(Message):
        text: str

    @dataclass
    class Recents(Message):
        """The recently opened datasets, newest first, for the file picker."""

        paths: list[str]

    @dataclass
    class ChartReady(Message):
        """A chart drawn for request ``token``; older ones are dropped on arrival."""

        token: int
        renderable: RenderableType
        picks: list[Any]

    @dataclass
    class TableReady(Message):
        title: str
        headers: list[Text]
        rows: list[list[Text]]
        ends_load: bool = False

    def __init__(self, ctx: AppContext, *, id: str | None = None) -> None:
        super().__init__(ctx, id=id)
        self._loaded: Loaded | None = None
        self._profile: Profile | None = None
        self._loading: str | None = None
        self._progress = 0
        self._view = "column"
        self._column = 0
        self._target: str | None = None
        self._pick: int | None = None
        # What the shown chart's bins/bars stand for: a Histogram or the bar values.
        self._picks: list[Any] = []
        self._chart_token = 0
        self._recents: list[str] = []
        # Per file (absolute path): token handling switched with m, over the setting.
        self._tokens_choice: dict[str, bool] = {}

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Static(id="data-status")
        with Horizontal(id="data-main"):
            yield DataTable(id="data-columns", cursor_type="row", zebra_stripes=True)
            yield Static(id="data-chart")
        with Vertical(id="data-table-panel"):
            yield Static(id="data-table-title")
            yield DataTable(id="data-rows", zebra_stripes=True)
            with VerticalScroll(id="data-preview-scroll"):
                yield Static(id="data-preview")

    def on_mount(self) -> None:
        self._read_recents()
        table = self.query_one("#data-columns", DataTable)
        table.add_columns("column", "type", "null%", "uniq")
        self._show_status()
        self._show_help()
        path = self.ctx.options.get("data_path")
        if path:
            self.load(str(path))

    @work(thread=True, group="data-recent", exit_on_error=False)
    def _read_recents(self) -> None:
        from waitwise_tui.core.data.recents import load_recent

        self.post_message(self.Recents(load_recent(self.ctx.workspace)))

    def on_data_tab_recents(self, message: DataTab.Recents) -> None:
        self._recents = message.paths

    def tab_activated(self) -> None:
        self._focus_main()

    def busy_reason(self) -> str | None:
        return f"loading {self._loading}" if self._loading else None

    def before_quit(self) -> None:
        # A load checks for cancellation between chunks, so quitting is not held up.
        self.workers.cancel_group(self, "data-load")

    def _focus_main(self) -> None:
        if self.has_class("-table"):
            self.query_one("#data-rows", DataTable).focus()
        else:
            self.query_one("#data-columns", DataTable).focus()

    def _shown_path(self, path: str) -> str:
        try:
            # abspath, not resolve(): no file system calls on the event loop.
            return str(Path(os.path.abspath(path)).relative_to(self.ctx.workspace.root))
        except ValueError:
            return path

    # ------------------------------------------------------------------ loading

    def load(self, path: str, sep: str | None = None) -> None:
        """Load ``path`` in a worker (cancelling any load in progress)."""
        shown = self._shown_path(path)
        self._loading = shown
        self._progress = 0
        self._show_status()
        tokens = self._tokens_for(path)
        self._load_worker(path, shown, sep, self.size.width or 80, tokens)

    def _tokens_for(self, path: str) -> bool:
        """Whether ``path`` is read with missing-value tokens (the setting, or m's choice)."""
        default = self.ctx.settings.data_missing_tokens
        return self._tokens_choice.get(os.path.abspath(path), default)

    @work(thread=True, exclusive=True, group="data-load", exit_on_error=False)
    def _load_worker(
        self, path: str, shown: str, sep: str | None, width: int, tokens: bool = True
    ) -> None:
        from waitwise_tui.core.data.load import (
            SAMPLE_ROWS,
            SAMPLE_THRESHOLD,
            DataError,
            LoadCancelled,
            load_dataset,
            read_head,
        )
        from waitwise_tui.core.data.profile import profile_frame
        from waitwise_tui.core.data.recents import add_recent

        worker = get_current_worker()
        last = [-1]

        def progress(fraction: float) -> None:
            percent = int(fraction * 100)
            if percent != last[0]:
                last[0] = percent
                self.post_message(self.Progress(percent))

        try:
            head = read_head(path, sep=sep, tokens=tokens)
            if worker.is_cancelled:
                return
            self.post_message(self.HeadReady(len(head.frame), _preview(head.frame, width)))
            loaded = load_dataset(
                path,
                sep=sep,
                progress=progress,
                cancelled=lambda: worker.is_cancelled,
                tokens=tokens,
            )
            rows = len(loaded.frame)
            profile = profile_frame(
                loaded.frame,
                path=shown,
                format=loaded.format,
                sample_rows=SAMPLE_ROWS if rows > SAMPLE_THRESHOLD else None,
                inference=loaded.inference,
                file_bytes=loaded.file_bytes,
            )
        except LoadCancelled:
            self.post_message(self.Failed(f"cancelled loading {shown}", "information"))
            return
        except DataError as exc:
            self.post_message(self.Failed(str(exc)))
            return
        except MemoryError:
            self.post_message(self.Failed(f"{shown} does not fit in memory"))
            return
        if worker.is_cancelled:
            return
        try:
            self.post_message(self.Recents(add_recent(self.ctx.workspace, path)))
        except OSError as exc:
            loaded.notices.append(f"recent files not saved: {exc}")
        self.post_message(self.DatasetReady(loaded, profile))

    def on_data_tab_head_ready(self, message: DataTab.HeadReady) -> None:
        if self._loading is None:
            return
        title = f"first {message.count} rows of {self._loading} (loading the rest…)"
        self.query_one("#data-table-title", Static).update(plain(title, "bold"))
        self.query_one("#data-preview", Static).update(message.preview)
        self.add_class("-table", "-preview")

    def on_data_tab_progress(self, message: DataTab.Progress) -> None:
        if self._loading is not None:
            self._progress = message.percent
            self._show_status()

    def on_data_tab_dataset_ready(self, message: DataTab.DatasetReady) -> None:
        self._loading = None
        if message.loaded is not self._loaded:  # a new dataset, not a recomputed profile
            self._loaded = message.loaded
            for notice in message.loaded.notices:
                self.notify(notice, severity="warning")
            self._column = 0
            self._target = None
            self._pick = None
        self._set_profile(message.profile)
        self.remove_class("-table", "-preview")
        self.query_one("#data-preview", Static).update("")
        self._focus_main()

    def on_data_tab_failed(self, message: DataTab.Failed) -> None:
        self._loading = None
        self.notify(message.text, severity=message.severity)  # type: ignore[arg-type]
        self.remove_class("-preview")
        if self._loaded is None:
            self.remove_class("-table")
        self._show_status()

    def _set_profile(self, profile: Profile) -> None:
        self._profile = profile
        table = self.query_one("#data-columns", DataTable)
        table.clear()
        alerted = {a.column for a in profile.alerts}
        for col in profile.columns:
            pct = "" if col.null_fraction is None else f"{col.null_fraction:.0%}"
            marker = "!" if col.name in alerted else " "
            table.add_row(
                Text(marker) + plain(col.name, limit=NAME_WIDTH),
                Text(_KIND_SHORT.get(col.kind, col.kind)),
                Text(pct, justify="right"),
                Text(_count(col.unique), justify="right"),
            )
        if profile.columns:
            table.move_cursor(row=min(self._column, len(profile.columns) - 1))
        self._show_status()
        self._refresh_chart()

    # ------------------------------------------------------------------ status + chart

    def _show_status(self) -> None:
        status = self.query_one("#data-status", Static)
        if self._loading is not None:
            status.update(
                Text.assemble(
                    ("loading ", "bold"),
                    plain(self._loading),
                    f" … {self._progress}%  (escape: cancel)",
                )
            )
            return
        profile = self._profile
        if profile is None:
            status.update(Text("No dataset open. Press o to open one (--data PATH also works)."))
            return

        line = Text.assemble(
            plain(profile.path, "bold"),
            f" · {_count(profile.n_rows)}×{profile.n_columns}"
            + (f" · file {fmt.size(profile.file_bytes)}" if profile.file_bytes is not None else "")
            + f" · in memory {fmt.size(profile.memory_bytes)}"
            f" · {_count(profile.duplicate_rows)} dup"
            f" · {len(profile.alerts)} alerts · view {VIEW_TITLES[self._view]}",
        )
        if self._target:
            line.append(" · target ")
            line.append_text(plain(self._target))
        if profile.sampled:
            line.append(
                f"\nsampled {_count(profile.sample_rows)} of {_count(profile.n_rows)} rows"
                " (x: exact)",
                style="bold yellow",
            )
        status.update(line)

    def _show_help(self) -> None:
        self.query_one("#data-chart", Static).update(
            Text(
                "o open  c compare  v view  t target\n"
                "[ ] bin  g bin rows  n nulls  f unread\n"
                "d duplicates  x exact  s save  esc back\n"
                "m missing tokens on/off"
            )
        )

    def _current_column(self) -> ColumnProfile | None:
        if self._profile is None or not self._profile.columns:
            return None
        return self._profile.columns[min(self._column, len(self._profile.columns) - 1)]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id != "data-columns" or self._profile is None:
            return
        if event.cursor_row != self._column:
            self._column = event.cursor_row
            self._pick = None
            self._refresh_chart()

    def on_resize(self) -> None:
        self._refresh_chart()

    def _refresh_chart(self) -> None:
        if self._loaded is None or self._profile is None:
            return
        column = self._current_column()
        chart = self.query_one("#data-chart", Static)
        width = chart.content_size.width or 40
        height = chart.content_size.height or 10
        self._chart_token += 1
        self._chart_worker(
            self._chart_token,
            self._loaded.frame,
            self._profile,
            self._view,
            column,
            self._target,
            self._pick,
            width,
            height,
        )

    @work(thread=True, exclusive=True, group="data-chart", exit_on_error=False)
    def _chart_worker(
        self,
        token: int,
        frame: Any,
        profile: Profile,
        view: str,
        column: ColumnProfile | None,
        target: str | None,
        pick: int | None,
        width: int,
        height: int,
    ) -> None:
        try:
            renderable, picks = build_view(
                frame, profile, view, column, target, pick, width, height
            )
        except Exception as exc:
            # A chart must never take the tab down: odd data shows as a message.
            renderable, picks = plain(f"cannot draw this view: {exc}"), []
        self.post_message(self.ChartReady(token, renderable, picks))

    def on_data_tab_chart_ready(self, message: DataTab.ChartReady) -> None:
        if message.token != self._chart_token:
            return
        self._picks = message.picks
        self.query_one("#data-chart", Static).update(message.renderable)

    # ------------------------------------------------------------------ tables

    def _fill_table(self, title: str, headers: list[Text], rows: list[list[Text]]) -> None:
        self.query_one("#data-table-title", Static).update(plain(title, "bold"))
        table = self.query_one("#data-rows", DataTable)
        table.clear(columns=True)
        table.add_columns(*headers)
        table.add_rows(rows)
        self.remove_class("-preview")
        self.add_class("-table")
        table.focus()

    def on_data_tab_notice(self, message: DataTab.Notice) -> None:
        self.notify(message.text)

    def on_data_tab_table_ready(self, message: DataTab.TableReady) -> None:
        if message.ends_load:
            self._loading = None
            self._show_status()
        self._fill_table(message.title, message.headers, message.rows)

    @work(thread=True, exclusive=True, group="data-drill", exit_on_error=False)
    def _drill_worker(self, kind: str, frame: Any, column: str, pick: Any) -> None:
        from waitwise_tui.core.data import views as data_views

        try:
            if kind == "null":
                drill = data_views.null_rows(frame, column)
            elif kind == "duplicates":
                drill = data_views.duplicate_rows(frame)
            elif kind == "failures":
                drill = data_views.failure_rows(frame, column, *pick)
            elif isinstance(pick, tuple):
                hist, index = pick
                drill = data_views.bin_rows(frame, column, hist, index)
            else:
                drill = data_views.value_rows(frame, column, pick)
        except Exception as exc:
            self.post_message(self.Failed(f"cannot select those rows: {exc}"))
            return
        self.post_message(self.TableReady(_drill_title(drill), *_frame_rows(drill.rows)))

    # ------------------------------------------------------------------ actions

    def action_open(self) -> None:
        self._pick_file("Open a dataset", self.load)

    def action_compare(self) -> None:
        if self._loaded is None:
            self.notify("open a dataset first, then compare another file with it")
            return
        self._pick_file("Compare with (e.g. the validation file)", self._compare)

    def _pick_file(self, title: str, then: Callable[[str], None]) -> None:
        from waitwise_tui.ui.tabs.data.modals import OpenDataScreen

        recents = list(self._recents)

        def chosen(path: str | None) -> None:
            if path:
                then(path)

        self.app.push_screen(OpenDataScreen(title, self.ctx.workspace.root, recents), chosen)

    def _compare(self, path: str) -> None:
        if self._loaded is None:
            return
        self._loading = self._shown_path(path)
        self._progress = 0
        self._show_status()
        self._compare_worker(self._loaded.frame, path, self._loading, self._loaded.tokens)

    @work(thread=True, exclusive=True, group="data-load", exit_on_error=False)
    def _compare_worker(self, frame: Any, path: str, shown: str, tokens: bool = True) -> None:
        from waitwise_tui.core.data.load import DataError, LoadCancelled, load_dataset
        from waitwise_tui.core.data.views import compare_frames

        worker = get_current_worker()
        try:
            # Read the way the open file was, so both sides mean the same by a "?".
            other = load_dataset(path, cancelled=lambda: worker.is_cancelled, tokens=tokens)
            drifts = compare_frames(frame, other.frame)
        except LoadCancelled:
            self.post_message(self.Failed(f"cancelled loading {shown}", "information"))
            return
        except DataError as exc:
            self.post_message(self.Failed(str(exc)))
            return
        if worker.is_cancelled:
            return
        name = self._profile.path if self._profile else "current"
        headers, rows = _drift_rows(drifts)
        self.post_message(self.TableReady(f"drift {name} → {shown}", headers, rows, True))

    def action_next_view(self) -> None:
        self._cycle_view(1)

    def action_previous_view(self) -> None:
        self._cycle_view(-1)

    def _cycle_view(self, step: int) -> None:
        self._view = VIEWS[(VIEWS.index(self._view) + step) % len(VIEWS)]
        self._pick = None
        self.remove_class("-table")
        self._focus_main()
        self._show_status()
        self._refresh_chart()

    def action_target(self) -> None:
        column = self._current_column()
        if column is None:
            return
        self._target = None if self._target == column.name else column.name
        self._show_status()
        self._refresh_chart()

    def action_pick(self, step: int) -> None:
        if self._view != "column" or not self._count_picks():
            return
        count = self._count_picks()
        self._pick = (
            (0 if step > 0 else count - 1) if self._pick is None else ((self._pick + step) % count)
        )
        self._refresh_chart()

    def _count_picks(self) -> int:
        if self._picks and isinstance(self._picks[0], tuple):
            return len(self._picks[0][0].counts)
        return len(self._picks)

    def action_bin_rows(self) -> None:
        column = self._current_column()
        if self._loaded is None or column is None or self._view != "column":
            return
        if self._pick is None or not self._count_picks():
            self.notify("pick a bin or bar with [ and ] first")
            return
        if isinstance(self._picks[0], tuple):
            pick: Any = (self._picks[0][0], self._pick)
        else:
            pick = self._picks[self._pick]
        self._drill_worker("bin", self._loaded.frame, column.name, pick)

    def action_null_rows(self) -> None:
        column = self._current_column()
        if self._loaded is None or column is None:
            return
        self._drill_worker("null", self._loaded.frame, column.name, None)

    def action_failure_rows(self) -> None:
        column = self._current_column()
        if self._loaded is None or column is None:
            return
        found = self._loaded.inference.get(column.name)
        if found is None or not found.parse_failures:
            self.notify(f"every value of {display(column.name)} was read")
            return
        pick = (found.failure_rows, found.failure_values)
        self._drill_worker("failures", self._loaded.frame, column.name, pick)

    def action_duplicate_rows(self) -> None:
        if self._loaded is not None:
            self._drill_worker("duplicates", self._loaded.frame, "", None)

    def action_exact(self) -> None:
        if self._loaded is None or self._profile is None:
            return
        if not self._profile.sampled:
            self.notify("the profile is already exact")
            return
        self._loading = f"{self._profile.path} (exact profile)"
        self._show_status()
        self._exact_worker(self._loaded, self._profile.path)

    @work(thread=True, exclusive=True, group="data-load", exit_on_error=False)
    def _exact_worker(self, loaded: Loaded, shown: str) -> None:
        from waitwise_tui.core.data.profile import profile_frame

        profile = profile_frame(
            loaded.frame,
            path=shown,
            format=loaded.format,
            inference=loaded.inference,
            file_bytes=loaded.file_bytes,
        )
        if not get_current_worker().is_cancelled:
            self.post_message(self.DatasetReady(loaded, profile))

    def action_toggle_tokens(self) -> None:
        """Reload the open file with missing-value tokens read as missing, or as written."""
        if self._loaded is None:
            self.notify("open a dataset first")
            return
        path = self._loaded.path
        tokens = not self._loaded.tokens
        self._tokens_choice[os.path.abspath(path)] = tokens
        self.notify(
            "missing-value tokens (?, NA, -, null...) read as missing"
            if tokens
            else "missing-value tokens off: cells read as written",
        )
        self.load(path, self._loaded.sep)

    def action_save(self) -> None:
        if self._profile is None:
            self.notify("open a dataset first")
            return
        self._save_worker(self._profile)

    @work(thread=True, group="data-save", exit_on_error=False)
    def _save_worker(self, profile: Profile) -> None:
        from waitwise_tui.core.data.profile import save_profile

        try:
            target = save_profile(self.ctx.workspace, profile)
        except OSError as exc:
            self.post_message(self.Failed(f"cannot save the profile: {exc}"))
            return
        self.post_message(self.Notice(f"saved {self._shown_path(str(target))}"))

    def action_back(self) -> None:
        if self._loading is not None:
            self.workers.cancel_group(self, "data-load")
            self._loading = None
            self.notify("load cancelled")
            self.remove_class("-preview")
            if self._loaded is None:
                self.remove_class("-table")
            self._show_status()
            return
        if self.has_class("-table") and self._loaded is not None:
            self.remove_class("-table")
            self._focus_main()


# ---------------------------------------------------------------------- builders (threads)


def build_view(
    frame: Any,
    profile: Profile,
    view: str,
    column: ColumnProfile | None,
    target: str | None,
    pick: int | None,
    width: int,
    height: int,
) -> tuple[RenderableType, list[Any]]:
    """The renderable for ``view`` and what its pickable bins/bars stand for."""
    from waitwise_tui.core.data import views as data_views
    from waitwise_tui.ui.tabs.data import views as data_plots

    if height < MIN_CHART_ROWS and view not in ("alerts", "corr"):
        # A chart a few rows high says nothing; the tabs-only layout gives it the screen.
        return (
            Text(
                f"{VIEW_TITLES[view]}: too little room for a chart here"
                " (M: tabs only; the alerts view fits)"
            ),
            [],
        )
    if view == "alerts":
        if not profile.alerts:
            return Text("no alerts"), []
        lines = Text()
        kind_width = max(len(a.kind) for a in profile.alerts)
        for alert in profile.alerts:
            lines.append(f"{alert.kind:<{kind_width}}  ", style="bold yellow")
            lines.append_text(plain(alert.message))
            lines.append("\n")
        return lines, []
    if view == "time":
        return _time_view(frame, profile, column, width, height), []
    if view == "corr":
        fits = max(2, min((width - 14) // 7, height - 1))
        names, matrix = data_views.correlation(frame, max_columns=fits)
        return data_plots.correlation_table(names, matrix), []
    if view == "pca":
        proj = data_views.projection(frame, target)
        if proj is None:
            return Text("a projection needs two numeric columns with finite rows"), []
        title = f"PCA of {len(proj.columns)} columns" + (f" by {target}" if target else "")
        return data_plots.projection_chart(proj, width, height, title), []
    if view == "balance":
        name = target or (column.name if column else None)
        if name is None:
            return Text("no column"), []
        chosen = profile.column(name)
        if not chosen.categorical:
            return (
                plain(
                    f"{name} has {_count(chosen.unique)} distinct values: balance is for"
                    " classes (text, bool or a number with few values); pick such a column"
                    " or make it the target with t"
                ),
                [],
            )
        items, other = data_views.class_balance(frame[name], k=max(3, height - 3))
        title = f"classes of {name}" + (f" (+{other} other)" if other else "")
        return data_plots.bars_chart(items, None, width, height, title), []
    if column is None:
        return Text("no columns"), []
    if view == "scatter":
        numeric = data_views.numeric_columns(frame)
        if column.name not in numeric:
            return plain(f"{column.name} is not numeric: pick a numeric column"), []
        if target in numeric and target != column.name:
            other_name = target
        else:
            rest = [n for n in numeric if n != column.name]
            if not rest:
                return Text("a scatter needs a second numeric column"), []
            other_name = rest[(numeric.index(column.name)) % len(rest)]
        xs, ys = data_views.scatter_sample(frame, column.name, other_name)
        title = f"{column.name} vs {other_name} ({len(xs)} pts)"
        return (
            data_plots.scatter_chart(xs, ys, width, height, title, column.name, other_name),
            [],
        )
    return _column_view(frame, column, pick, width, height)


def _time_view(
    frame: Any, profile: Profile, column: ColumnProfile | None, width: int, height: int
) -> RenderableType:
    """The current numeric column over the first date column (or over the current one)."""
    from waitwise_tui.core.data import views as data_views
    from waitwise_tui.ui.tabs.data import views as data_plots

    times = data_views.datetime_columns(frame)
    if not times:
        return Text(
            "no date column: dates such as 2024-01-31, 1949-01, 1949Q1, 31/01/2024 or"
            " Unix times in a column named like a time are recognised"
        )
    numeric = data_views.numeric_columns(frame)
    if not numeric:
        return Text("no numeric column to plot over time")
    time_name = column.name if column is not None and column.name in times else times[0]
    value = column.name if column is not None and column.name in numeric else numeric[0]
    series = data_views.time_series(frame, time_name, value, buckets=max(10, width - 12))
    facts = [f"{_count(series.points)} points"]
    if series.frequency:
        facts.append(series.frequency)
        facts.append(f"{_count(series.gaps)} gaps" if series.gaps else "no gaps")
    else:
        facts.append("irregular times")
    if series.duplicated:
        facts.append(f"{_count(series.duplicated)} duplicated times")
    if series.rolling is not None:
        facts.append(f"orange: rolling mean of {series.window}")
    if series.bucketed:
        facts.append("grey: min/max")
    stats = plain(" · ".join(facts), "dim")
    stats.end = "\n"
    stats_lines = len(stats.wrap(Console(width=max(width, 10)), max(width, 10)))
    chart_height = max(height - stats_lines, 5)
    title = f"{value} over {time_name}"
    return Group(stats, data_plots.series_chart(series, width, chart_height, title))


def _column_view(
    frame: Any, column: ColumnProfile, pick: int | None, width: int, height: int
) -> tuple[RenderableType, list[Any]]:
    from waitwise_tui.core.data import views as data_views
    from waitwise_tui.ui.tabs.data import views as data_plots

    stats = _stats_line(column)
    stats_lines = len(stats.wrap(Console(width=max(width, 10)), max(width, 10)))
    chart_height = max(height - stats_lines, 5)
    series = frame[column.name]
    picks: list[Any]
    if column.kind == "numeric":
        bins = max(5, min(40, (width - 10) // 2))
        hist = data_views.histogram(series, bins=bins)
        title = column.name
        if pick is not None and hist.counts:
            pick = min(pick, len(hist.counts) - 1)
            low, high, inclusive = hist.bin_range(pick)
            title = f"[{low:.3g}, {high:.3g}{']' if inclusive else ')'}: {hist.counts[pick]} (g)"
        chart = data_plots.histogram_chart(hist, pick, width, chart_height, title)
        picks = [(hist, None)] if hist.counts else []
    elif column.kind == "datetime":
        labels, counts = data_views.time_counts(series, buckets=max(5, min(40, width // 2)))
        chart = data_plots.time_chart(labels, counts, width, chart_height, column.name)
        picks = []
    else:
        items, other = data_views.top_values(series, k=max(3, min(10, (chart_height - 3) // 2)))
        title = column.name + (f" (+{_count(other)} other)" if other else "")
        if pick is not None and items:
            pick = min(pick, len(items) - 1)
            title = f"{_clip(items[pick][0], 20)}: {items[pick][1]} (g)"
        chart = data_plots.bars_chart(items, pick, width, chart_height, title)
        picks = [name for name, _ in items]
    return Group(stats, chart), picks


def _stats_line(col: ColumnProfile) -> Text:
    from waitwise_tui.core.data.profile import plain_value

    pct = "" if col.null_fraction is None else f" ({col.null_fraction:.1%})"
    parts = [f"{col.dtype} · nulls {_count(col.nulls)}{pct} · uniq {_count(col.unique)}"]
    if col.mean is not None:
        parts.append(
            f"min {_num(col.min)} max {_num(col.max)} mean {_num(col.mean)} std {_num(col.std)}"
        )
    elif col.min is not None:
        parts.append(f"{plain_value(col.min)} .. {plain_value(col.max)}")
    if col.top is not None and col.top_count > 1:
        top = plain_value(col.top)
        shown = _num(top) if isinstance(top, float) else _clip(str(top), 16)
        parts.append(f"top {shown} ×{_count(col.top_count)}")
    reading = col.reading()
    if reading:
        parts.append(reading)
    text = plain(" · ".join(parts), "dim")
    text.end = "\n"  # a line of its own above the chart in the Group
    return text


def _num(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.4g}"


def _count(value: int) -> str:
    return f"{value:,}"


def _clip(text: str, width: int) -> str:
    """``text`` on one line, safe to show (``display``), cut to ``width`` characters."""
    text = display(" ".join(text.split()))
    return text if len(text) <= width else text[: width - 1] + "…"


def _frame_rows(frame: Any) -> tuple[list[Text], list[list[Text]]]:
    # Header labels as Text: a str would be read as markup by both DataTable and Rich's
    # Table ("[/]" as a column name raised MarkupError and stopped the load).
    headers = [Text("#"), *[plain(c, limit=200) for c in frame.columns]]
    rows = [
        [plain(index), *[Text(_clip(_cell(v), 40)) for v in values]]
        for index, values in zip(frame.index, frame.itertuples(index=False), strict=True)
    ]
    return headers, rows


def _preview(frame: Any, width: int) -> Text:
    """The first rows as a plain table, rendered here (in the worker) to styled text.

    A DataTable measures every cell on the event loop; for a one-off preview a Text
    is far cheaper to show.
    """
    from rich.box import SIMPLE_HEAD
    from rich.table import Table

    headers, rows = _frame_rows(frame)
    table = Table(box=SIMPLE_HEAD, padding=(0, 1), header_style="bold")
    for header in headers:
        table.add_column(header)  # a Text: a str header would be read as markup
    for row in rows:
        table.add_row(*row)
    console = Console(width=max(width, 40) * 4, color_system="truecolor")
    # The capture's own text: a recording console gets nothing while capturing, so
    # export_text() used to return an empty preview. Every cell is plain (escaped), so
    # the only escape sequences here are the table's own styles.
    with console.capture() as capture:
        console.print(table, crop=False, no_wrap=True, overflow="ignore")
    return Text.from_ansi(capture.get().rstrip("\n"), no_wrap=True)


def _cell(value: Any) -> str:
    from waitwise_tui.core.data.profile import plain_value

    plain = plain_value(value)
    return "∅" if plain is None else str(plain)


def _drill_title(drill: Drill) -> str:
    shown = len(drill.rows)
    more = f", first {shown} shown" if shown < drill.count else ""
    return f"{drill.title}: {_count(drill.count)} rows{more}  (esc: back)"


def _drift_rows(drifts: list[ColumnDrift]) -> tuple[list[Text], list[list[Text]]]:
    headers = [
        Text(h)
        for h in ("column", "null% a→b", "range a", "range b", "new cats", "gone cats", "score")
    ]
    rows: list[list[Text]] = []
    for d in drifts:
        if d.status != "both":
            note = "only in a" if d.status == "only_a" else "only in b"
            rows.append([plain(d.name), Text(note, style="bold yellow"), *[Text("")] * 5])
            continue
        nulls = f"{_pct(d.null_a)}→{_pct(d.null_b)}"
        score = "" if d.score is None else f"{d.score_kind} {d.score:.3f}"
        style = (
            "bold red"
            if d.score is not None and d.score > (0.25 if d.score_kind == "psi" else 0.1)
            else ""
        )
        rows.append(
            [
                plain(d.name),
                Text(nulls),
                plain(_range(d.range_a)),
                plain(_range(d.range_b)),
                Text(_clip(", ".join(map(str, d.new_categories)), 24)),
                Text(_clip(", ".join(map(str, d.missing_categories)), 24)),
                Text(score, style=style),
            ]
        )
    return headers, rows


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _range(pair: tuple[Any, Any] | None) -> str:
    if pair is None:
        return ""
    low, high = pair
    if isinstance(low, float) and isinstance(high, float):
        return f"{low:.4g}..{high:.4g}"
    return f"{low}..{high}"
