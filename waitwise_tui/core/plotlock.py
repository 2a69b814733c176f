"""The one lock around plotext's global figure.

plotext draws into module-level state, and charts are built in worker threads by
several features (run curves, tuner plots, data plots). Every build holds
``PLOTEXT_LOCK`` from clearing the figure to ``build()``.
"""

from __future__ import annotations

import threading

PLOTEXT_LOCK = threading.Lock()
