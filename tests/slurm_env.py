"""Is a real Slurm cluster reachable? (CI starts one with ``.ci/slurm/up``.)

Tests that need Slurm use the ``slurm`` fixture: it skips with the reason where no
cluster runs, and fails instead where ``WAITWISE_REQUIRE_SLURM=1`` (set by CI, which
starts the daemons), so CI can never pass by skipping them.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess

import pytest

REQUIRE_ENV = "WAITWISE_REQUIRE_SLURM"


@functools.cache
def slurm_missing() -> str | None:
    """Why Slurm can't be used here, or None when a controller answers."""
    if shutil.which("sbatch") is None or shutil.which("scontrol") is None:
        return "Slurm client tools not installed (.ci/slurm/up installs and starts a cluster)"
    try:
        proc = subprocess.run(
            ["scontrol", "ping"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"scontrol ping failed: {exc}"
    if "UP" not in proc.stdout:
        first = (proc.stdout + proc.stderr).strip().splitlines()[:1]
        return f"no Slurm controller answers ({first[0] if first else 'no output'})"
    sinfo = subprocess.run(
        ["sinfo", "-h", "-o", "%G"], capture_output=True, text=True, timeout=10, check=False
    )
    if "gpu" not in sinfo.stdout:
        return "the Slurm cluster declares no GPU gres"
    return None


@pytest.fixture
def slurm() -> None:
    reason = slurm_missing()
    if reason is None:
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}")
    pytest.skip(reason)
