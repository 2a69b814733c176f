"""LaTeX in BibTeX values made readable: ``Prompt \\& Predict`` shows as "Prompt & Predict",
``{\\ae}sthetics`` as "æsthetics", ``Veli{\\v{c}}kovi{\\'c}`` as "Veličković".

Only for display and search: the raw value is what export writes. Math (``$...$``) is
kept as written. pylatexenc (a bibtexparser dependency) does the decoding, imported on
first use.
"""

from __future__ import annotations

from functools import lru_cache

# Text without any of these has nothing for LaTeX to change (the common case).
_LATEX_CHARS = frozenset("\\{}~$-`'")


def latex_to_text(text: str) -> str:
    """``text`` with LaTeX accents, escapes, braces and commands turned into Unicode."""
    if not _LATEX_CHARS.intersection(text):
        return " ".join(text.split())
    return _decode(text)


@lru_cache(maxsize=4096)
def _decode(text: str) -> str:
    from pylatexenc.latex2text import LatexNodes2Text

    try:
        decoded = LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=True).latex_to_text(
            text
        )
    except Exception:  # pylatexenc raises several types on odd input; show it raw then
        decoded = text
    return " ".join(decoded.split())
