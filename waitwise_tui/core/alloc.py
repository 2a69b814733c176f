"""Keep the memory of big numpy temporaries for reuse (glibc only).

A bulk read makes megabyte-sized numpy temporaries per chunk. glibc serves blocks
above its ``mmap`` threshold (128 KiB at start) with a fresh ``mmap`` and returns them
on free, so every chunk pays page faults for memory it had a moment ago; in a VM each
fault costs microseconds, and on the 1 GB event-file benchmark the faults were a third
of the ingest time. ``keep_freed_memory`` raises the threshold to 16 MiB and lets the
heap keep up to 32 MiB of freed memory at its top, so temporaries of one chunk reuse
the pages of the last. Blocks of 16 MiB and more are still mapped and returned at
once, so what is kept is bounded. Elsewhere (musl, macOS) it does nothing.
"""

from __future__ import annotations

import ctypes
import functools
import platform

_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 16 << 20
TRIM_THRESHOLD = 32 << 20
TOP_PAD = 16 << 20


@functools.cache
def keep_freed_memory() -> bool:
    """Tune glibc's malloc once per process; True when the settings were taken."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return all(
        mallopt(param, value) == 1
        for param, value in (
            (_M_MMAP_THRESHOLD, MMAP_THRESHOLD),
            (_M_TRIM_THRESHOLD, TRIM_THRESHOLD),
            (_M_TOP_PAD, TOP_PAD),
        )
    )
