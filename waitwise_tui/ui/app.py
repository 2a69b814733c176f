"""WaitwiseApp: the layout, the app-wide keys, themes, events and quitting.

The monitor pane (GPU + host, training runs) sits beside the to-do tabs on a wide
terminal and above them on a narrow one. Tabs are listed in ``ui/tabs/__init__.py`` and only
appear once their feature exists. Features never call each other: a core ``Event``
comes up as ``RecordEvent``, is stored and notified here, and goes down to every tab
as ``EventBroadcast``. Live readings (GPU, host, runs) have one owner, ``ctx.live``
(``ui/live.py``), whose messages the monitor pane and any tab subscribe to.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import re
import subprocess
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container, VerticalScroll
from textual.lazy import Lazy
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, Static, TabbedContent, TabPane, Tabs, TextArea

from waitwise_tui.config import Settings
from waitwise_tui.core.workspace import Workspace
from waitwise_tui.ui import textual_patches
from waitwise_tui.ui.context import AppContext
from waitwise_tui.ui.footer import AppFooter
from waitwise_tui.ui.messages import EventBroadcast, RecordEvent
from waitwise_tui.ui.tabs import TABS, TabSpec, TabWidget, command_providers, load_tab
from waitwise_tui.ui.themes import DEFAULT_THEME, load_themes

if TYPE_CHECKING:
    from waitwise_tui.core import events as core_events
    from waitwise_tui.core.notify.delivery import Notifier

MIN_WIDTH, MIN_HEIGHT = 60, 16
WIDE_WIDTH = 140
SPLIT_WIDTH = 100
TAB_MOUNT_GAP = 0.05  # seconds between mounting two tabs at start-up
GC_FREEZE_AFTER = 3.0  # seconds after the tabs are in: the first polls have run


class WaitwiseApp(App[int]):
    """The full-screen app."""

    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | command_providers()
    TITLE = "waitwise"
    BINDINGS = [
        Binding("escape", "leave_field", "Leave", id="app.leave"),
        Binding("escape", "to_tab_bar", "Tab bar", id="app.tab_bar"),
        Binding("q", "request_quit", "Quit", id="app.quit"),
        Binding(
            "ctrl+q", "quit_anywhere", "Quit", show=False, priority=True, id="app.quit_anywhere"
        ),
        Binding("question_mark", "help", "Help", id="app.help"),
        *(
            Binding(str(n), f"switch_tab({n})", f"Tab {n}", show=False, id=f"app.tab{n}")
            for n in range(1, 6)
        ),
        Binding("D", "start_demo", "Demo run", show=False, id="app.demo"),
        Binding("M", "cycle_layout", "Layout", show=False, id="app.layout"),
    ]
    LAYOUTS = ("", "only-monitor", "only-tabs")
    # Actions of the app's plain keys: while a text field or editor has focus (read-only
    # too) these keys are the user's text, never a command; ctrl/F keys still act.
    PLAIN_KEY_ACTIONS = frozenset(
        {"request_quit", "help", "switch_tab", "start_demo", "cycle_layout"}
    )

    def __init__(
        self,
        ctx: AppContext,
        *,
        initial_tab: str | None = None,
        theme_override: str | None = None,
        startup_problems: Iterable[str] = (),
    ) -> None:
        super().__init__()
        textual_patches.install()
        self.ctx = ctx
        self.initial_tab = initial_tab
        self.theme_override = theme_override
        self.startup_problems = list(startup_problems)
        self.tab_specs: list[TabSpec] = list(TABS)
        self._db = None
        # Sends events to the notify_urls channels on a thread of its own; None
        # without channels.
        self.notifier: Notifier | None = None
        self.tabs_mounted = False  # True once every tab widget is mounted
        # The one owner of live data (GPU, host, runs): the monitor pane shows it, tabs
        # read it from their context. Its pollers start with the first view on screen.
        self.live = ctx.live
        self._install_themes()

    # -- layout ---------------------------------------------------------------

    def compose(self) -> ComposeResult:
        from waitwise_tui.ui.monitor.system import SystemMonitor

        yield Static(
            f"terminal too small (need {MIN_WIDTH}x{MIN_HEIGHT})", id="too-small", markup=False
        )
        # Size classes are set here already: changing them after mount restyles all.
        classes = " ".join(name for name, on in self._size_classes(self.size.width).items() if on)
        # The first frame is the GPU + host monitor; the run panel (_mount_runs_panel),
        # the tab bar and the footer (Lazy) are mounted right after it, and tab contents
        # after those (see _mount_tabs), so "is the machine busy?" is answered first.
        with Container(id="main", classes=classes):
            with VerticalScroll(id="monitor-pane"):
                yield SystemMonitor(self.ctx, id="system-monitor")
            if self.tab_specs:
                with Lazy(TabbedContent(id="todo", initial=self._first_pane())):
                    for spec in self.tab_specs:
                        yield TabPane(spec.title, id=f"tab-{spec.name}")
        yield Lazy(AppFooter())

    def _mount_runs_panel(self) -> None:
        # Its module (and the run readers it pulls in) is imported only now.
        from waitwise_tui.ui.monitor.runs import RunsPanel

        self.query_one("#monitor-pane").mount(RunsPanel(self.ctx, id="runs-panel"))

    def _first_pane(self) -> str:
        names = [spec.name for spec in self.tab_specs]
        name = self.initial_tab if self.initial_tab in names else names[0]
        return f"tab-{name}"

    async def _mount_tabs(self) -> None:
        """Mount the shown tab, then the others, each after a short pause so the
        first frames paint before the heavier tabs are built."""
        tabbed = self._tabbed()
        if tabbed is None or not tabbed.is_mounted:  # the lazy tab bar is not in yet
            self.call_after_refresh(self._mount_tabs)
            return
        active = tabbed.active.removeprefix("tab-")
        pending = sorted(self.tab_specs, key=lambda spec: spec.name != active)

        async def mount_next() -> None:
            spec = pending.pop(0)
            try:
                widget = load_tab(spec)(self.ctx, id=f"tabw-{spec.name}")
                await self.query_one(f"#tab-{spec.name}", TabPane).mount(widget)
            except Exception as exc:  # one broken tab must not take the others down
                self.notify(f"tab {spec.title} failed to load: {exc}", severity="error")
            else:
                if tabbed.active == f"tab-{spec.name}":
                    self._activate_widget(spec.name)
            if pending:
                self.set_timer(TAB_MOUNT_GAP, mount_next)
            else:
                self._started()

        self.set_timer(TAB_MOUNT_GAP, mount_next)

    def _started(self) -> None:
        self.tabs_mounted = True
        if not self.is_headless:  # tests run many apps in one process: leave them be
            self.set_timer(GC_FREEZE_AFTER, self._freeze_startup_objects)

    @staticmethod
    def _freeze_startup_objects() -> None:
        """Move what start-up built (modules, widgets, styles: ~100k objects) out of
        the garbage collector's reach. It lives as long as the app, yet every full
        collection walked it: ~70 ms each, 0.4 % of a core at idle, and a stall."""
        gc.collect()
        gc.freeze()

    def on_mount(self) -> None:
        self.call_after_refresh(self._mount_runs_panel)
        self._start_notifier()
        # GPU alerts tied to a run come from the system poller's thread: post_message
        # is thread-safe, and they take the path every event takes.
        self.live.event_sink = lambda event: self.post_message(RecordEvent(event))
        self._watch_theme_choice()
        if self.ctx.settings.keymap:
            self.set_keymap(self.ctx.settings.keymap)
        self._apply_size(self.size.width, self.size.height)
        if self.initial_tab and self.initial_tab not in {s.name for s in self.tab_specs}:
            self.notify(f"tab {self.initial_tab!r} is not available yet", severity="warning")
        if self.tab_specs:
            self.call_after_refresh(self._mount_tabs)
        else:
            self._started()
        for problem in self.startup_problems:
            self.notify(problem, severity="warning", timeout=8, markup=False)

    def on_resize(self, event) -> None:
        self._apply_size(event.size.width, event.size.height)

    def _size_classes(self, width: int) -> dict[str, bool]:
        stacked = bool(self.tab_specs) and width < WIDE_WIDTH
        return {
            "monitor-only": not self.tab_specs,
            "wide": width >= WIDE_WIDTH,
            # Stacked and wide enough: GPU/host and the run panel sit side by side.
            "split": stacked and width >= SPLIT_WIDTH,
            "compact": width < SPLIT_WIDTH,
        }

    def _apply_size(self, width: int, height: int) -> None:
        too_small = width < MIN_WIDTH or height < MIN_HEIGHT
        self.screen.set_class(too_small, "too-small")
        classes = self._size_classes(width)
        self.query_one("#main").update_classes(classes)
        from waitwise_tui.ui.monitor.system import SystemMonitor

        stacked = bool(self.tab_specs) and not classes["wide"]
        for monitor in self.query(SystemMonitor):
            monitor.set_compact(stacked, tight=stacked and classes["compact"])
        self._place_toasts()

    def on_descendant_focus(self, event) -> None:
        self._place_toasts()

    def _place_toasts(self) -> None:
        """Toasts go over the monitor pane while focus is in the tabs, so they never cover
        what is being read or typed (at 80x24 one covered a test's traceback for 5 s):
        bottom-left beside wide tabs, top over stacked ones."""
        screen = self.screen
        main = screen.query("#main")
        if not main:
            return  # a modal screen: its toasts keep their place
        shell = main.first()
        focused = screen.focused
        in_tabs = focused is not None and any(
            node.id == "todo" for node in focused.ancestors_with_self
        )
        away = in_tabs and not (shell.has_class("only-tabs") or shell.has_class("monitor-only"))
        wide = shell.has_class("wide")
        screen.set_class(away and wide, "toasts-left")
        screen.set_class(away and not wide, "toasts-top")

    # -- themes ---------------------------------------------------------------

    def _install_themes(self) -> None:
        """Register theme files and pick the theme before the first frame (setting it
        later would restyle every widget once more)."""
        themes, problems = load_themes()
        for theme in themes.values():
            self.register_theme(theme)
        self.startup_problems += [f"{p}; using the default theme instead" for p in problems]
        wanted = self.theme_override or self.ctx.settings.theme or DEFAULT_THEME
        if wanted not in self.available_themes:
            self.startup_problems.append(f"theme {wanted!r} not found; using {DEFAULT_THEME}")
            wanted = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
        self._set_start_theme(wanted)

    def _set_start_theme(self, name: str) -> None:
        """What Textual's theme watcher does, minus the CSS re-parse and restyle it
        queues: nothing is parsed or styled yet, so the first parse uses this theme's
        variables. (Setting ``self.theme`` here parsed all CSS twice before the first
        frame.)"""
        self.set_reactive(App.theme, name)
        theme = self.current_theme
        classes = {cls: False for cls in self.classes if cls.startswith("-theme-")}
        classes[f"-theme-{theme.name}"] = True
        classes["-dark-mode"] = theme.dark
        classes["-light-mode"] = not theme.dark
        self.update_classes(classes, update=False)
        self._refresh_truecolor_filter(self.ansi_theme)
        self.stylesheet.set_variables(self.get_css_variables())

    def _watch_theme_choice(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        if self.theme_override and self.theme == self.theme_override:
            self._save_theme(self.theme)

    def _theme_changed(self, theme) -> None:
        self._save_theme(theme.name)

    def _save_theme(self, name: str) -> None:
        if self.ctx.settings.theme == name:
            return
        self.ctx.settings.theme = name
        try:
            self.ctx.settings.save()
        except OSError as exc:
            self.notify(f"could not save the theme choice: {exc}", severity="error", markup=False)

    # -- tabs -----------------------------------------------------------------

    def _tabbed(self) -> TabbedContent | None:
        found = self.query("#todo")
        return found.first(TabbedContent) if found else None

    def tab_widgets(self) -> list[TabWidget]:
        return list(self.query(TabWidget))

    def _open_tab(self, name: str, *, announce_missing: bool = False) -> bool:
        tabbed = self._tabbed()
        if tabbed is None or name not in {spec.name for spec in self.tab_specs}:
            if announce_missing:
                self.notify(f"tab {name!r} is not available yet", severity="warning")
            return False
        tabbed.active = f"tab-{name}"
        self._activate_widget(name)
        return True

    def _activate_widget(self, name: str) -> None:
        widgets = self.query(f"#tabw-{name}")
        if not widgets:
            return
        widget = widgets.first(TabWidget)

        def activate() -> None:
            # Another switch may have happened since; focusing a widget in a hidden
            # pane would drag the user back to it.
            tabbed = self._tabbed()
            if tabbed is not None and tabbed.active == f"tab-{name}":
                widget.tab_activated()

        self.call_after_refresh(activate)

    def action_cycle_layout(self) -> None:
        """Both panes, the monitor alone, the tabs alone (for a small terminal)."""
        if not self.tab_specs:
            return
        main = self.query_one("#main")
        current = next((name for name in self.LAYOUTS[1:] if main.has_class(name)), "")
        following = self.LAYOUTS[(self.LAYOUTS.index(current) + 1) % len(self.LAYOUTS)]
        main.remove_class(*self.LAYOUTS[1:])
        if following:
            main.add_class(following)
        self._place_toasts()
        self.notify(f"layout: {following.replace('-', ' ') or 'monitor and tabs'}", timeout=2)

    # -- focus ----------------------------------------------------------------

    def _typing(self) -> bool:
        """A text field or editor has focus: plain keys are text, not commands."""
        return isinstance(self.focused, (Input, TextArea))

    def _focused_tab(self) -> TabWidget | None:
        focused = self.focused
        if focused is None:
            return None
        if isinstance(focused, TabWidget):
            return focused
        return next((a for a in focused.ancestors if isinstance(a, TabWidget)), None)

    def _tab_bar(self) -> Widget | None:
        tabbed = self._tabbed()
        if tabbed is None or not tabbed.display:
            return None
        bars = tabbed.query(Tabs)
        return bars.first() if bars else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.PLAIN_KEY_ACTIONS and self._typing():
            return False
        if action == "leave_field":
            return self._typing()
        if action == "to_tab_bar":
            bar = self._tab_bar()
            return not self._typing() and bar is not None and not bar.has_focus
        return True

    def action_leave_field(self) -> None:
        """Escape in a text field or editor: back to its tab (else to the tab bar)."""
        tab = self._focused_tab()
        if tab is not None and tab.focus_home():
            return
        self.action_to_tab_bar()

    def action_to_tab_bar(self) -> None:
        bar = self._tab_bar()
        if bar is not None:
            bar.focus()
        else:
            self.screen.set_focus(None)

    def action_quit_anywhere(self) -> None:
        self.action_request_quit()

    def action_switch_tab(self, number: int) -> None:
        if 1 <= number <= len(self.tab_specs):
            self._open_tab(self.tab_specs[number - 1].name)

    @on(TabbedContent.TabActivated)
    def _tab_switched(self, event: TabbedContent.TabActivated) -> None:
        pane_id = event.pane.id or ""
        for widget in self.tab_widgets():
            if widget.id != f"tabw-{pane_id.removeprefix('tab-')}":
                widget.tab_deactivated()
        self._activate_widget(pane_id.removeprefix("tab-"))

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every toast in the app comes here (``Widget.notify`` calls it): messages
        quote file names, metric names and errors, so they are plain text with control
        characters shown escaped. Markup is never read, whatever a caller passes."""
        from waitwise_tui.core.text import display

        super().notify(
            display(message, multiline=True, limit=2000),
            title=display(title, limit=200),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    # -- events ---------------------------------------------------------------

    @on(RecordEvent)
    def _record_event(self, message: RecordEvent) -> None:
        message.stop()
        event = message.event
        self._store_event(event)
        self._announce(event)
        for widget in self.tab_widgets():
            widget.post_message(EventBroadcast(event))

    @work(thread=True, group="events", exit_on_error=False)
    def _store_event(self, event: core_events.Event) -> None:
        from waitwise_tui.core import events as core_events
        from waitwise_tui.core.db import connect

        event_id = None
        try:
            if self._db is None:
                self.ctx.workspace.ensure()
                self._db = connect(self.ctx.workspace.db_path)
            # A `watch` on this workspace may have stored this alert already: one row.
            event_id, _stored = core_events.record_event_once(self._db, event)
        except Exception as exc:  # the event still reached the UI; say why it wasn't kept
            # notify posts Textual's Notify message: thread-safe, no call_from_thread.
            self.notify(f"could not store event: {exc}", severity="error", markup=False)
        if self.notifier is not None:
            self.notifier.submit(event, event_id)  # queued: never waits for a channel

    def _start_notifier(self) -> None:
        config = self.ctx.settings.notify_config()
        if not config.channels:
            return
        from waitwise_tui.core.notify.delivery import Notifier

        def problem(text: str) -> None:
            # Called on the notifier's thread, once per failing spell of a channel:
            # a toast now, and the status line until the channel works again.
            # notify posts a message (thread-safe).
            self.notify(text, title="notifications", severity="warning", timeout=10)
            self.live.set_notice("notify", text)

        def recovered(_channel: str) -> None:
            self.live.set_notice("notify", None)

        self.notifier = Notifier(
            config,
            db_path=self.ctx.workspace.db_path,
            role="tui",
            on_problem=problem,
            on_recovered=recovered,
        ).start()

    def _announce(self, event: core_events.Event) -> None:
        from waitwise_tui.core import events as core_events

        style = self.ctx.settings.notifications
        if style == "quiet":
            return
        severity = (
            "error" if event.kind in (core_events.ALERT, core_events.RUN_CRASHED) else "information"
        )
        self.notify(event.message, title=event.source, severity=severity, markup=False)
        if style == "toast+bell" and severity == "error":
            self.bell()
            if os.environ.get("TMUX"):
                self._tmux_message(f"waitwise: {event.message}")
        if self.ctx.settings.osc9:
            self._osc9(event.message)

    @work(thread=True, group="tmux", exit_on_error=False)
    def _tmux_message(self, text: str) -> None:
        # The text holds a metric name or a log line: tmux would expand "#(cmd)" in
        # it as a shell command, so it goes through core.text (-l, or "#" doubled).
        from waitwise_tui.core.text import tmux_display_argv, tmux_version

        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                tmux_display_argv(text, tmux_version()),
                timeout=2,
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

    def _osc9(self, text: str) -> None:
        # OSC 9 desktop notification; inside tmux it needs DCS passthrough. The body
        # is printable text only: a BEL or ESC in it would end the sequence early.
        from waitwise_tui.core.text import osc_payload

        sequence = f"\x1b]9;{osc_payload(text)}\x07"
        if os.environ.get("TMUX"):
            sequence = "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
        driver = self._driver
        if driver is not None:
            driver.write(sequence)

    # -- commands -------------------------------------------------------------

    def action_help(self) -> None:
        from waitwise_tui.ui.screens import HelpScreen

        self.push_screen(HelpScreen(self.binding_sections()))

    def binding_sections(self) -> list[tuple[str, list[tuple[str, str, str]]]]:
        """Every binding, with keymap overrides applied, grouped by where it works."""
        keymap = self.ctx.settings.keymap
        sections: list[tuple[str, list[tuple[str, str, str]]]] = []

        def rows(bindings) -> list[tuple[str, str, str]]:
            out = []
            for binding in bindings:
                if not isinstance(binding, Binding) or binding.system:
                    continue
                key = keymap.get(binding.id or "", binding.key)
                out.append(
                    (
                        self.get_key_display(Binding(key, binding.action)),
                        binding.description or binding.action,
                        binding.id or "",
                    )
                )
            return out

        # The five tab keys are listed as one row.
        app_rows = rows(b for b in self.BINDINGS if not (b.id or "").startswith("app.tab"))
        app_rows.append(("ctrl+p", "Command palette", ""))
        tab_keys = ", ".join(f"{n} {spec.title}" for n, spec in enumerate(self.tab_specs, 1))
        if tab_keys:
            app_rows.append(("1-5", f"Switch tab: {tab_keys}", "app.tab1…app.tab5"))
        sections.append(("Everywhere", app_rows))
        seen: set[type] = set()
        for widget in self.query("*"):
            cls = type(widget)
            if cls in seen or not getattr(cls, "BINDINGS", None):
                continue
            seen.add(cls)
            if cls.__module__.startswith("waitwise_tui"):
                sections.append((self._help_title(widget), rows(cls.BINDINGS)))
        return sections

    def _help_title(self, widget: Widget) -> str:
        """A help heading in words: a tab's title, a widget's HELP_TITLE, else its
        class name split into words ("GpuPanel" -> "Gpu panel")."""
        if isinstance(widget, TabWidget):
            name = (widget.id or "").removeprefix("tabw-")
            titles = {spec.name: spec.title for spec in self.tab_specs}
            if name in titles:
                return f"{titles[name]} tab"
        title = getattr(type(widget), "HELP_TITLE", None)
        if title:
            return title
        words = re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", type(widget).__name__)
        return " ".join(words).capitalize() if words else type(widget).__name__

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for name in sorted(self.available_themes):
            if name.startswith("waitwise-"):
                yield SystemCommand(
                    f"Theme: {name}",
                    f"Switch to the {name} theme",
                    partial(setattr, self, "theme", name),
                )
        for number, spec in enumerate(self.tab_specs, 1):
            yield SystemCommand(
                f"Go to {spec.title}",
                f"Open the {spec.title} tab (key {number})",
                partial(self._open_tab, spec.name),
            )
        yield SystemCommand("Help: keys", "List every key binding", self.action_help)
        yield SystemCommand(
            "Layout: cycle", "Both panes, monitor only, tabs only (key M)", self.action_cycle_layout
        )
        yield SystemCommand(
            "Start demo run", "Start a small CPU training run to watch", self.action_start_demo
        )
        yield SystemCommand(
            "Cluster GPUs of my Slurm jobs",
            "Per job, node and GPU: utilisation, memory, power, throttling, ranks",
            self.open_cluster,
        )

    def open_cluster(self) -> None:
        from waitwise_tui.ui.monitor.cluster import ClusterScreen

        self.push_screen(ClusterScreen(self.ctx))

    def action_start_demo(self) -> None:
        from waitwise_tui.ui.monitor.runs import RunsPanel

        panels = self.query(RunsPanel)
        if panels:  # absent only during the first few milliseconds
            panels.first().start_demo()

    # -- quitting -------------------------------------------------------------

    def busy_reasons(self) -> list[str]:
        return [reason for widget in self.tab_widgets() if (reason := widget.busy_reason())]

    def action_request_quit(self) -> None:
        reasons = self.busy_reasons()
        if not reasons:
            self._quit()
            return
        from waitwise_tui.ui.screens import ConfirmScreen

        question = "Quit now? This would interrupt: " + "; ".join(reasons)

        def answered(yes: bool | None) -> None:
            if yes:
                self._quit()

        self.push_screen(ConfirmScreen(question, yes="Quit", no="Stay"), answered)

    def _quit(self) -> None:
        for widget in self.tab_widgets():
            try:
                widget.before_quit()
            except Exception as exc:  # never lose the chance to save the other tabs
                self.log.error(f"before_quit failed in {widget!r}: {exc}")
        if self.notifier is not None:
            self.notifier.close(timeout=2.0)  # what is queued goes out; the lease is freed
        self.exit(0)


def build_app(args: argparse.Namespace) -> WaitwiseApp:
    """Create the app from parsed CLI arguments."""
    settings, problem = Settings.load()
    if getattr(args, "interval", None):
        settings.interval = args.interval
    ctx = AppContext(
        workspace=Workspace(args.workspace),
        settings=settings,
        options={
            "run_paths": list(getattr(args, "paths", []) or []),
            "data_path": getattr(args, "data", None),
            "project_dir": getattr(args, "project", None),
            "tab": getattr(args, "tab", None),
        },
    )
    return WaitwiseApp(
        ctx,
        initial_tab=getattr(args, "tab", None),
        theme_override=getattr(args, "theme", None),
        startup_problems=[problem] if problem else [],
    )
