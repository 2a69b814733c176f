"""Test running and data-test generation for the tests tab and ``waitwise-tui test``.

``python_env`` finds the target project's interpreter, ``runner`` runs pytest in the
background with the bundled event plugin (``plugin/``), ``watch`` notices file changes,
``generate`` writes data-quality tests from a data profile.
"""
