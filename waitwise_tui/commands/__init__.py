"""Headless CLI subcommands, one module each.

Each module has ``add_arguments(parser)`` and ``run(args) -> int``. ``cli.py`` lists
them by name and imports a module only when its subcommand runs, so start-up stays
cheap. Output for scripts goes to stdout (``--json``); problems go to stderr as one
line and a non-zero exit code.
"""
