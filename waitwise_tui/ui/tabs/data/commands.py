"""Command palette entries for the Data tab (offered while the tab exists)."""

from __future__ import annotations

from waitwise_tui.ui.tabs import TabCommands
from waitwise_tui.ui.tabs.data.tab import DataTab


class DataCommands(TabCommands):
    """Open, compare, save and switch views of the Data tab from the palette."""

    tab_class = DataTab
    help_text = "Data tab"
    entries = (
        ("Data: open a dataset", "open"),
        ("Data: compare with another file (drift)", "compare"),
        ("Data: save the profile for the test generator", "save"),
        ("Data: compute the exact profile", "exact"),
        ("Data: show duplicate rows", "duplicate_rows"),
        (
            "Data: next view (column, time series, scatter, correlation, balance, PCA, alerts)",
            "next_view",
        ),
        ("Data: rows with values that could not be read", "failure_rows"),
        ("Data: missing-value tokens (?, NA, -...) on/off for this file", "toggle_tokens"),
    )
