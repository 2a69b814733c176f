"""Pure-Python core of waitwise-tui: data sources, stores and parsers.

Nothing in this package imports textual or rich (tests/core/test_import_hygiene.py
enforces it), so every capability can run headless from the CLI or a script.
"""
