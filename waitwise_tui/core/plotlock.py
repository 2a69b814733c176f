"""The one lock around plotext's global figure.

plotext draws into module-level state, and charts are built in worker threads by
several features (run curves, tuner plots, data plots). Every build holds
``PLOTEXT_LOCK`` from clearing the figure to ``build()``.
"""

from __future__ import annotations

import threading

PLOTEXT_LOCK = threading.Lock()


def reset_figure(plt: object) -> None:
    """Start from an empty, single-plot figure.

    ``clear_figure`` alone clears only the active subplot: after another feature drew
    ``subplots(1, 2)``, the next chart would land in half of a stale grid. ``main()``
    makes the master figure active again first. Call while holding the lock.
    """
    plt.main()  # type: ignore[attr-defined]
    plt.clear_figure()  # type: ignore[attr-defined]
