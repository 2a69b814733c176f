"""Modal prompts of the tuner tab.

Its one-line prompt (study file, how many more trials) is the app's shared
``ui.prompts.TextPrompt``; the name ``TunerPrompt`` stays for the tab and its tests.
"""

from __future__ import annotations

from waitwise_tui.ui.prompts import TextPrompt

TunerPrompt = TextPrompt

__all__ = ["TunerPrompt"]
