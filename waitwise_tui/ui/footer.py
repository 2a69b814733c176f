"""The app's footer: Textual's, with the way out of the focused widget shown first.

Textual lists the focused widget's keys first and the app's last, so at 80 columns a
tab with many keys pushed "esc Leave", "q Quit" and "? Help" off the right edge. The
same keys are shown here, only reordered: leaving, quitting and help lead; a tab's own
keys follow, and those that do not fit whole are left out (never cut mid-word as
"c C"): help lists them all.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer

# Actions of the app's bindings, in the order they lead the footer.
LEADING_ACTIONS = ("leave_field", "to_tab_bar", "edit", "request_quit", "help")
# Refreshes ``_fit`` waits at most for freshly composed keys to be laid out.
_FIT_TRIES = 5


class AppFooter(Footer):
    """The footer, ``LEADING_ACTIONS`` first, everything else in Textual's order."""

    # Refreshes ``_fit`` may still wait for freshly composed keys to be laid out.
    _fit_tries = 0

    def compose(self) -> ComposeResult:
        keys = list(super().compose())

        def rank(widget) -> int:
            action = getattr(widget, "action", None)
            return LEADING_ACTIONS.index(action) if action in LEADING_ACTIONS else len(keys)

        yield from sorted(keys, key=rank)
        self._fit_soon()

    def on_resize(self) -> None:
        for key in self.query("FooterKey"):
            key.display = True
        self._fit_soon()

    def _fit_soon(self) -> None:
        self._fit_tries = _FIT_TRIES
        self.call_after_refresh(self._fit)

    def _fit(self) -> None:
        """Hide the keys that run past the footer's right edge or under the palette key
        docked there, from the first that does not fit to the end.

        Keys just recomposed (the bindings changed with the focus) may not be laid out
        after the first refresh: then it looks again after the next one.
        """
        keys = list(self.query("FooterKey"))
        unplaced = not self.region.width or any(
            key.display and not key.region.width for key in keys
        )
        if unplaced and self._fit_tries > 0:
            self._fit_tries -= 1
            self.call_after_refresh(self._fit)
            return
        palette = [key for key in keys if key.has_class("-command-palette")]
        limit = self.region.right
        if palette and palette[0].region.width:
            limit = palette[0].region.x
        overflow = False
        for key in keys:
            if key in palette:
                continue
            overflow = overflow or key.region.right > limit
            if overflow and key.display:
                key.display = False
