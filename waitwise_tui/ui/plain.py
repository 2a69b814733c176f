"""Outside text for widgets: shown as it is, never read as markup or control.

``plain`` is what a widget gets whenever a string came from outside the program (a log,
a file name, a test id, a trial parameter): a Rich ``Text`` holding ``core.text.display``
of it, so ``[bold]`` stays two brackets and a word and ``\\x1b[2J`` stays eight visible
characters. Static, Label, DataTable cells, Tree labels and OptionList prompts treat a
``Text`` as content, where a ``str`` would be parsed as markup.
"""

from __future__ import annotations

from rich.text import Text

from waitwise_tui.core.text import display

__all__ = ["plain"]


def plain(
    text: object,
    style: str = "",
    *,
    multiline: bool = False,
    limit: int | None = None,
) -> Text:
    """``text`` escaped for the terminal, as a Rich Text that no markup parser sees."""
    return Text(display(text, multiline=multiline, limit=limit), style=style, end="")
