"""Where the bundled pytest plugin lives, so a runner can put it on ``PYTHONPATH``.

The plugin module itself (``waitwise_pytest_plugin.py`` in this directory) is pure
standard library and imports nothing from ``waitwise_tui``: it runs inside the user's
interpreter, which need not have waitwise installed. Only that file is meant to be
imported from this directory.
"""

from __future__ import annotations

from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parent
PLUGIN_MODULE = "waitwise_pytest_plugin"
# The plugin writes one JSON object per line to the file named by this variable.
EVENTS_ENV = "WAITWISE_TEST_EVENTS"
# Captured stdout/stderr and tracebacks in events are cut to this many characters.
CAP_ENV = "WAITWISE_TEST_CAPTURE_CAP"
# A file of exact node ids to keep (ids pytest cannot take as arguments).
SELECT_ENV = "WAITWISE_TEST_SELECT"
