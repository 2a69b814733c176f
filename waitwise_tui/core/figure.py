"""A plotext figure of its own for every chart.

plotext's module functions (``plt.plot``, ``plt.build``) draw into one global figure,
which is why charts built in worker threads used to share a lock. Each chart here
draws into a figure object of its own instead, sharing no state with any other: the
run curves, the tuner plots and the data plots may be built at the same time in any
threads, and nothing another drawer leaves in the global figure (a subplot grid) can
reach them.

plotext 5.3's ``_figure_class`` is what ``plotext.clear_figure()`` resets the global
figure to, and the module functions are its methods called on that global instance;
it is created, never patched. ``pyproject.toml`` pins ``plotext>=5.3,<6``.
"""

from __future__ import annotations

from typing import Any


def new_figure() -> Any:
    """An empty single-plot plotext figure, for one chart."""
    from plotext._figure import _figure_class

    return _figure_class()
