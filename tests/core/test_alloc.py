"""``core.alloc``: freed chunk temporaries are reused instead of faulted in again."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

PROBE = """
import resource, sys
import numpy as np
from waitwise_tui.core.alloc import keep_freed_memory

def faults():
    def chunk():  # a bulk chunk: a few MiB of temporaries alive at once, then freed
        held = [np.ones(1 << 17) for _ in range(8)]
        del held

    chunk()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        chunk()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

default = faults()
taken = keep_freed_memory()
print(default, faults(), taken, keep_freed_memory())
"""


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_keep_freed_memory_stops_refaulting_temporaries() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    ).stdout.split()
    default, tuned = int(out[0]), int(out[1])
    assert out[2:] == ["True", "True"]
    # 20 chunks of 8 MiB are ~40,000 page faults by default (glibc gives the heap's
    # freed top back each time); reused, a handful.
    assert default > 10_000
    assert tuned < default // 20
