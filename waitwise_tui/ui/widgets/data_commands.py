"""Command palette entries for the Data tab (offered while the tab exists)."""

from __future__ import annotations

from collections.abc import Callable

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.widgets import TabbedContent, TabPane

from waitwise_tui.ui.widgets.data import DataTab


class DataCommands(Provider):
    """Open, compare, save and switch views of the Data tab from the palette."""

    _COMMANDS = (
        ("Data: open a dataset", "open"),
        ("Data: compare with another file (drift)", "compare"),
        ("Data: save the profile for the test generator", "save"),
        ("Data: compute the exact profile", "exact"),
        ("Data: show duplicate rows", "duplicate_rows"),
        ("Data: next view (column, scatter, correlation, balance, PCA, alerts)", "next_view"),
    )

    def _tab(self) -> DataTab | None:
        tabs = self.app.query(DataTab)
        return tabs.first() if tabs else None

    def _run(self, action: str) -> Callable[[], None]:
        def run() -> None:
            tab = self._tab()
            if tab is None:
                return
            pane = next((a for a in tab.ancestors if isinstance(a, TabPane)), None)
            tabbed = next((a for a in tab.ancestors if isinstance(a, TabbedContent)), None)
            if tabbed is not None and pane is not None and pane.id:
                tabbed.active = pane.id
            tab.tab_activated()
            getattr(tab, f"action_{action}")()

        return run

    async def discover(self) -> Hits:
        if self._tab() is None:
            return
        for text, action in self._COMMANDS:
            yield DiscoveryHit(text, self._run(action), help="Data tab")

    async def search(self, query: str) -> Hits:
        if self._tab() is None:
            return
        matcher = self.matcher(query)
        for text, action in self._COMMANDS:
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), self._run(action), help="Data tab")
