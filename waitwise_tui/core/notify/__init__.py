"""Notifications that reach the user when no terminal is attached.

Channels are Apprise URLs from the settings (``channels``), each with a minimum level
and per-kind switches. Core ``Event``s go to a ``Notifier`` (``delivery``): a bounded
queue read by one background thread that deduplicates alert episodes, folds bursts
into a digest, retries with backoff and records every attempt in the workspace
database (``store``). A lease in that database (``lease``) lets one process of a
workspace notify, so the TUI and ``waitwise-tui watch`` side by side send each alert
once. ``message`` writes what is sent: plain text, no markup, no secrets.
"""
