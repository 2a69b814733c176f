"""Waiting on conditions instead of fixed sleeps: a test waits exactly as long as the
machine needs (a loaded 2-core CI box or a fast laptop) and fails with what it waited
for when the condition never comes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

TIMEOUT = 30.0  # seconds: generous, a passing test never waits this long
STEP = 0.01


async def wait_for(
    pilot, condition: Callable[[], T], what: str = "the condition", timeout: float = TIMEOUT
) -> T:
    """Let the app run until ``condition()`` is truthy; return its value. One more
    pause after it holds lets the app process what the change posted (a refresh)."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what}"
        await pilot.pause(STEP)
    await pilot.pause()
    return result


def wait_until(
    condition: Callable[[], T], what: str = "the condition", timeout: float = TIMEOUT
) -> T:
    """The same for code outside an app: poll ``condition()`` until it is truthy."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what}"
        time.sleep(STEP)
    return result


async def settle(pilot, rounds: int = 3) -> None:
    """Let queued messages and refreshes run out (no timer is waited for): for checks
    that something did NOT happen after an action that is handled on the event loop."""
    for _ in range(rounds):
        await pilot.pause()


def palette_hit(app) -> str:
    """The command palette's highlighted hit ('' until its search has found one)."""
    from textual.command import CommandList

    lists = app.screen.query(CommandList)
    if not lists or lists.first().highlighted is None:
        return ""
    found = lists.first()
    return str(found.get_option_at_index(found.highlighted).prompt)


async def palette_finds(pilot, text: str) -> None:
    """Wait until the open command palette highlights a hit that contains ``text``
    (in any case)."""
    await wait_for(
        pilot,
        lambda: text.casefold() in palette_hit(pilot.app).casefold(),
        f"a palette hit with {text!r}",
    )
