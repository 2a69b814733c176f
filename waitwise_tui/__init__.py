"""waitwise-tui: make the wait while a model trains productive.

Kept empty on purpose: importing the package must stay cheap (see DESIGN.md).
"""

__version__ = "0.1.0"
