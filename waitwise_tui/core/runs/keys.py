"""Column and key names the readers treat as the x axis (step) or as wall time."""

from __future__ import annotations

# In order of preference: a step counter beats an epoch counter as x.
STEP_KEYS = (
    "step",
    "global_step",
    "trainer/global_step",
    "_step",
    "iter",
    "iteration",
    "it",
    "epoch",
)
STEP_KEY_SET = frozenset(STEP_KEYS)
WALL_TIME_KEYS = frozenset({"wall_time", "timestamp", "_timestamp"})


def pick_step_key(names: list[str]) -> str | None:
    """The preferred step-like name among ``names`` (compared case-insensitively)."""
    lowered = {n.lower(): n for n in names}
    for key in STEP_KEYS:
        if key in lowered:
            return lowered[key]
    return None
