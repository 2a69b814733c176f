"""The to-do tabs: their order and the base class each tab widget extends.

A tab is listed here only once its feature exists (no placeholder tabs). The app
imports a tab's module only when it builds the tab pane.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.widget import Widget
from textual.widgets import Input, TabbedContent, TabPane, TextArea

if TYPE_CHECKING:
    from waitwise_tui.ui.context import AppContext
    from waitwise_tui.ui.messages import EventBroadcast


@dataclass(frozen=True)
class TabSpec:
    name: str  # used by --tab NAME and the pane id "tab-NAME"
    title: str
    factory: str  # "module:Class" of a TabWidget subclass
    commands: str | None = None  # "module:Class" of its command-palette Provider


# Fixed order: tuner, alternatives, data, tests, notes (add a line when a feature lands).
TABS: list[TabSpec] = [
    TabSpec(
        "tuner",
        "Tuner",
        "waitwise_tui.ui.tabs.tuner.tab:TunerTab",
        "waitwise_tui.ui.tabs.tuner.tab:TunerCommands",
    ),
    TabSpec(
        "alternatives",
        "Alternatives",
        "waitwise_tui.ui.tabs.alternatives.tab:AlternativesTab",
        "waitwise_tui.ui.tabs.alternatives.tab:AlternativesCommands",
    ),
    TabSpec(
        "data",
        "Data",
        "waitwise_tui.ui.tabs.data.tab:DataTab",
        "waitwise_tui.ui.tabs.data.commands:DataCommands",
    ),
    TabSpec(
        "tests",
        "Tests",
        "waitwise_tui.ui.tabs.testing.tab:TestsTab",
        "waitwise_tui.ui.tabs.testing.tab:TestsCommands",
    ),
    TabSpec(
        "notes",
        "Notes",
        "waitwise_tui.ui.tabs.notes.tab:NotesTab",
        "waitwise_tui.ui.tabs.notes.tab:NotesCommands",
    ),
]


def load_tab(spec: TabSpec) -> type[TabWidget]:
    return _load(spec.factory)


def command_providers() -> set:
    """Palette providers of the tabs, imported only when the palette opens."""
    return {partial(_load, spec.commands) for spec in TABS if spec.commands}


def _load(target: str):
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


class TabWidget(Widget):
    """Base of every tab. The app calls these hooks; defaults do nothing."""

    DEFAULT_CSS = """
    TabWidget { height: 1fr; width: 1fr; }
    """

    def __init__(self, ctx: AppContext, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.ctx = ctx

    def busy_reason(self) -> str | None:
        """What quitting now would interrupt (None: nothing)."""
        return None

    def tab_activated(self) -> None:
        """The tab became visible (move focus to its main widget here)."""

    def focus_home(self) -> bool:
        """Escape in one of this tab's text fields lands here: on the tab's first
        focusable widget that is not a text field (its list or table). False: there is
        none, and the app moves focus to the tab bar instead."""
        for widget in self.screen.focus_chain:
            if self in widget.ancestors and not isinstance(widget, (Input, TextArea)):
                widget.focus()
                return True
        return False

    def tab_deactivated(self) -> None:
        """The user switched away (save pending work here)."""

    def before_quit(self) -> None:
        """Flush anything unsaved; called on the event loop just before exit."""

    def on_event_broadcast(self, message: EventBroadcast) -> None:
        """A core event was recorded (alerts, finished jobs, trials, test runs)."""

    def reveal(self) -> None:
        """Make this tab the visible one (palette commands act on what the user sees)."""
        pane = next((a for a in self.ancestors if isinstance(a, TabPane)), None)
        tabbed = next((a for a in self.ancestors if isinstance(a, TabbedContent)), None)
        if pane is not None and tabbed is not None and pane.id:
            tabbed.active = pane.id
        self.tab_activated()


class TabCommands(Provider):
    """Palette entries that run one tab's actions; offered while that tab exists.

    Subclasses set ``tab_class``, ``help_text`` and ``entries`` as (title, action name).
    """

    tab_class: ClassVar[type[TabWidget]]
    help_text: ClassVar[str] = ""
    entries: ClassVar[tuple[tuple[str, str], ...]] = ()

    def _tab(self) -> TabWidget | None:
        tabs = self.app.query(self.tab_class)
        return tabs.first() if tabs else None

    def _run(self, action: str) -> Callable[[], None]:
        def run() -> None:
            tab = self._tab()
            if tab is not None:
                tab.reveal()
                getattr(tab, f"action_{action}")()

        return run

    async def discover(self) -> Hits:
        if self._tab() is None:
            return
        for text, action in self.entries:
            yield DiscoveryHit(text, self._run(action), help=self.help_text)

    async def search(self, query: str) -> Hits:
        if self._tab() is None:
            return
        matcher = self.matcher(query)
        for text, action in self.entries:
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), self._run(action), help=self.help_text)
