"""The to-do tabs: their order and the base class each tab widget extends.

A tab is listed here only once its feature exists (no placeholder tabs). The app
imports a tab's module only when it builds the tab pane.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.widget import Widget

if TYPE_CHECKING:
    from waitwise_tui.ui.context import AppContext
    from waitwise_tui.ui.messages import EventBroadcast


@dataclass(frozen=True)
class TabSpec:
    name: str  # used by --tab NAME and the pane id "tab-NAME"
    title: str
    factory: str  # "module:Class" of a TabWidget subclass


# Fixed order: tuner, alternatives, data, tests, notes (add a line when a feature lands).
TABS: list[TabSpec] = []


def load_tab(spec: TabSpec) -> type[TabWidget]:
    module_name, _, class_name = spec.factory.partition(":")
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

    def tab_deactivated(self) -> None:
        """The user switched away (save pending work here)."""

    def before_quit(self) -> None:
        """Flush anything unsaved; called on the event loop just before exit."""

    def on_event_broadcast(self, message: EventBroadcast) -> None:
        """A core event was recorded (alerts, finished jobs, trials, test runs)."""
