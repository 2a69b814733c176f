"""A fake ``pynvml`` module object for tests, benchmarks and screenshots.

``FakeNvml(FakeConfig(...))`` answers the NVML calls ``core/gpu/sampler.py`` makes with
deterministic, seeded values and raises the real ``pynvml.NVMLError_*`` classes, so
the production error handling is what gets exercised. Named scenarios live in
``SCENARIOS``; ``fake_from_spec("8x50")`` builds 8 GPUs sharing 50 processes.

Time inside the fake is a ``tick`` that advances when a query repeats for the same
device, i.e. once per sampler poll, so utilisation moves from poll to poll without
any clock. Pids from ``FOREIGN_PID_BASE`` upward are above Linux's largest possible
pid_max, so psutil never finds them: they stand for processes in another PID
namespace or ones that exited between calls.

This is a testing hook only (``$WAITWISE_FAKE_NVML``); nothing here touches real GPUs.
"""

from __future__ import annotations

import math
import os
import random
import re
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

# Testing hook: a file of "PID GPU_INDEX" lines; those pids also hold the named fake
# GPUs (read at each process query), so a test can put a real process of its own -- a
# Slurm job's rank, say -- on a fake GPU and see its user, command and rank come back.
PIDS_FILE_ENV = "WAITWISE_FAKE_NVML_PIDS"
FOREIGN_PID_BASE = 4_194_305  # 2**22 + 1: above any pid_max Linux allows
GIB = 1024**3
RESERVED = 480 * 1024**2  # what the driver keeps back on an H100 (nvidia-smi -q)

_NAMES = (
    "NVIDIA A100-SXM4-80GB",
    "NVIDIA H100 80GB HBM3",
    "NVIDIA RTX A6000",
    "NVIDIA L40S",
)

# Field groups a scenario may mark unsupported -> the NVML calls that then raise NotSupported.
FIELD_CALLS: dict[str, tuple[str, ...]] = {
    "utilization": ("nvmlDeviceGetUtilizationRates",),
    "temperature": ("nvmlDeviceGetTemperature",),
    "power": ("nvmlDeviceGetPowerUsage", "nvmlDeviceGetEnforcedPowerLimit"),
    "clocks": ("nvmlDeviceGetClockInfo",),
    "fan": ("nvmlDeviceGetFanSpeed",),
    "pstate": ("nvmlDeviceGetPerformanceState",),
    "throttle": (
        "nvmlDeviceGetCurrentClocksEventReasons",
        "nvmlDeviceGetCurrentClocksThrottleReasons",
    ),
    "ecc": ("nvmlDeviceGetTotalEccErrors",),
    "processes": (
        "nvmlDeviceGetComputeRunningProcesses_v3",
        "nvmlDeviceGetComputeRunningProcesses_v2",
        "nvmlDeviceGetComputeRunningProcesses",
        "nvmlDeviceGetGraphicsRunningProcesses_v3",
        "nvmlDeviceGetGraphicsRunningProcesses_v2",
        "nvmlDeviceGetGraphicsRunningProcesses",
    ),
    "process_util": ("nvmlDeviceGetProcessUtilization",),
}


@dataclass(frozen=True)
class FakeConfig:
    gpus: int = 2
    processes: int = 3  # in total, spread over the GPUs round-robin
    seed: int = 0
    # Name of the NVMLError_* class nvmlInit raises ("LibraryNotFound", ...), or None.
    init_error: str | None = None
    unsupported: frozenset[str] = frozenset()  # keys of FIELD_CALLS
    unsupported_gpus: tuple[int, ...] | None = None  # None: every GPU
    lost_gpu: int | None = None
    lost_at_tick: int = 1  # the GPU answers until this tick, then raises GpuIsLost
    missing_symbols: frozenset[str] = frozenset()  # absent attributes (older binding)
    function_not_found: frozenset[str] = frozenset()  # present, but the driver lacks them
    own_process: bool = True  # the first process is this test process (visible, ours)
    driver: str = "550.54.15"
    # Real pids placed first on the GPUs (round-robin), e.g. a test's writer process.
    pids: tuple[int, ...] = ()
    util: int | None = None  # a fixed GPU utilisation instead of the sine wave
    memory_fill: float | None = None  # the GPUs' memory this full (0..1) from the start
    memory_growth: int = 0  # bytes each process's memory grows per tick (a leak)
    throttle_mask: int | None = None  # fixed clock event reasons instead of util-driven
    ecc_uncorrected: int = 0  # volatile uncorrected ECC errors...
    ecc_at_tick: int = 0  # ...reported from this tick on


_V3 = frozenset(
    {"nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetGraphicsRunningProcesses_v3"}
)
_V2 = frozenset(
    {"nvmlDeviceGetComputeRunningProcesses_v2", "nvmlDeviceGetGraphicsRunningProcesses_v2"}
)

SCENARIOS: dict[str, FakeConfig] = {
    "two": FakeConfig(),
    "none": FakeConfig(gpus=0, processes=0),
    "missing": FakeConfig(init_error="LibraryNotFound"),
    "no-driver": FakeConfig(init_error="DriverNotLoaded"),
    "mismatch": FakeConfig(init_error="LibRmVersionMismatch"),
    "unsupported": FakeConfig(
        unsupported=frozenset(
            {"fan", "power", "ecc", "clocks", "pstate", "throttle", "temperature", "process_util"}
        ),
    ),
    "no-processes": FakeConfig(unsupported=frozenset({"processes"})),
    "lost": FakeConfig(lost_gpu=1),
    "v2": FakeConfig(missing_symbols=_V3),
    "v1": FakeConfig(missing_symbols=_V2, function_not_found=_V3 | {"nvmlDeviceGetMemoryInfo_v2"}),
    "vanished": FakeConfig(gpus=1, processes=2),
    # GPU alerts tied to a run (core/runs/gpu_alerts.py):
    "input-bound": FakeConfig(gpus=1, processes=1, util=8),
    "leak": FakeConfig(gpus=1, processes=1, util=80, memory_growth=GIB // 2),
    "full": FakeConfig(gpus=1, processes=1, util=80, memory_fill=0.97),
    "throttled": FakeConfig(gpus=1, processes=1, util=97, throttle_mask=0x4 | 0x20),
    "ecc": FakeConfig(gpus=1, processes=1, util=80, ecc_uncorrected=2, ecc_at_tick=3),
}


class _Handle:
    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index

    def __repr__(self) -> str:
        return f"<fake nvmlDevice {self.index}>"


class _Missing:
    """A class attribute that reads as absent (``hasattr`` is False), like a symbol an
    older pynvml binding does not have."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: object, objtype: type | None = None) -> Any:
        raise AttributeError(self.name)


class FakeNvml:
    """Module-shaped stand-in for ``pynvml``; see the module docstring."""

    _variants: dict[frozenset[str], type] = {}

    def __new__(cls, config: FakeConfig | None = None) -> FakeNvml:
        # Missing symbols live on a subclass made once per set of names: attribute
        # reads cost what they cost on the real module (no per-access check).
        missing = (config or FakeConfig()).missing_symbols
        if missing and cls is FakeNvml:
            variant = cls._variants.get(missing)
            if variant is None:
                attrs: dict[str, Any] = {}
                for name in missing:
                    attrs[name] = _Missing()
                variant = type("FakeNvml", (cls,), attrs)
                for name, attr in attrs.items():
                    attr.__set_name__(variant, name)
                cls._variants[missing] = variant
            return super().__new__(variant)
        return super().__new__(cls)

    def __init__(self, config: FakeConfig | None = None) -> None:
        import pynvml

        self.config = config or FakeConfig()
        for name in dir(pynvml):
            if name.startswith("NVMLError"):
                setattr(self, name, getattr(pynvml, name))
        self.tick = 0
        self._seen: set[tuple[str, int]] = set()
        self._initialised = False
        self._processes = self._make_processes()

    # -- plumbing ---------------------------------------------------------------------------

    def _make_processes(self) -> list[tuple[int, int, int]]:
        """(pid, gpu index, bytes) for each fake process."""
        cfg = self.config
        if cfg.gpus == 0:
            return []
        rng = random.Random(cfg.seed)
        result = []
        for number in range(cfg.processes):
            if number < len(cfg.pids):
                pid = cfg.pids[number]
            elif number == 0 and cfg.own_process:
                pid = os.getpid()
            else:
                pid = FOREIGN_PID_BASE + number
            result.append((pid, number % cfg.gpus, rng.randint(1, 24) * GIB // 2))
        return result

    def _raise(self, kind: str) -> None:
        raise getattr(self, f"NVMLError_{kind}")()

    def _device(self, name: str, handle: _Handle, variant: object = None) -> int:
        """Bookkeeping every device call goes through: tick, lost GPU, unsupported.

        ``variant`` tells apart calls of one function with different arguments (the two
        clocks), so they do not count as a repeated query.
        """
        if not self._initialised:
            self._raise("Uninitialized")
        key = (f"{name}:{variant}", handle.index)
        if key in self._seen:
            self.tick += 1
            self._seen.clear()
        self._seen.add(key)
        cfg = self.config
        if handle.index == cfg.lost_gpu and self.tick >= cfg.lost_at_tick:
            self._raise("GpuIsLost")
        if name in cfg.function_not_found:
            self._raise("FunctionNotFound")
        if cfg.unsupported_gpus is None or handle.index in cfg.unsupported_gpus:
            for group in cfg.unsupported:
                if name in FIELD_CALLS[group]:
                    self._raise("NotSupported")
        return handle.index

    def _util(self, index: int) -> int:
        if self.config.util is not None:
            return self.config.util
        phase = (self.tick + index * 7 + self.config.seed) / 4.0
        jitter = random.Random(self.config.seed * 7919 + index * 131 + self.tick).randint(-4, 4)
        return max(0, min(100, int(55 + 40 * math.sin(phase)) + jitter))

    def _slow(self, index: int) -> int:
        """Utilisation as seen by slow sensors (temperature, fan): thermal inertia
        makes them follow the load every few seconds, not every poll."""
        tick = self.tick - self.tick % 5
        return max(
            0, min(100, int(55 + 40 * math.sin((tick + index * 7 + self.config.seed) / 4.0)))
        )

    # -- library ----------------------------------------------------------------------------

    def nvmlInit(self) -> None:
        if self.config.init_error:
            self._raise(self.config.init_error)
        self._initialised = True

    def nvmlShutdown(self) -> None:
        self._initialised = False

    def nvmlSystemGetDriverVersion(self) -> str:
        return self.config.driver

    def nvmlDeviceGetCount(self) -> int:
        if not self._initialised:
            self._raise("Uninitialized")
        return self.config.gpus

    def nvmlDeviceGetHandleByIndex(self, index: int) -> _Handle:
        if not 0 <= index < self.config.gpus:
            self._raise("InvalidArgument")
        return _Handle(index)

    # -- device fields ----------------------------------------------------------------------

    def nvmlDeviceGetName(self, handle: _Handle) -> str:
        index = self._device("nvmlDeviceGetName", handle)
        return _NAMES[index % len(_NAMES)]

    def nvmlDeviceGetUUID(self, handle: _Handle) -> str:
        index = self._device("nvmlDeviceGetUUID", handle)
        digits = f"{random.Random(self.config.seed * 1000 + index).getrandbits(128):032x}"
        return f"GPU-{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"

    # pynvml's version tag for nvmlDeviceGetMemoryInfo(handle, version).
    nvmlMemory_v2 = 0x02000028

    def nvmlDeviceGetMemoryInfo(self, handle: _Handle, version: int | None = None) -> Any:
        """v1 counts the driver's reserved memory as used; v2 (``version`` given, a
        separate symbol that older drivers lack) reports it apart, as nvidia-smi does."""
        name = "nvmlDeviceGetMemoryInfo_v2" if version else "nvmlDeviceGetMemoryInfo"
        index = self._device(name, handle)
        total = 80 * GIB
        used = min(total, self._used(index))
        if version:
            free = total - RESERVED - used
            return SimpleNamespace(total=total, reserved=RESERVED, used=used, free=free)
        return SimpleNamespace(total=total, used=used + RESERVED, free=total - used - RESERVED)

    def _used(self, index: int) -> int:
        cfg = self.config
        mine = [b for _, gpu, b in self._processes if gpu == index]
        used = GIB // 2 + sum(mine) + cfg.memory_growth * self.tick * len(mine)
        if cfg.memory_fill is not None:
            used = max(used, int(cfg.memory_fill * 80 * GIB))
        return used

    def nvmlDeviceGetUtilizationRates(self, handle: _Handle) -> SimpleNamespace:
        index = self._device("nvmlDeviceGetUtilizationRates", handle)
        util = self._util(index)
        return SimpleNamespace(gpu=util, memory=util * 2 // 5)

    def nvmlDeviceGetTemperature(self, handle: _Handle, sensor: int) -> int:
        index = self._device("nvmlDeviceGetTemperature", handle)
        return 38 + self._slow(index) // 3

    def nvmlDeviceGetPowerUsage(self, handle: _Handle) -> int:
        index = self._device("nvmlDeviceGetPowerUsage", handle)
        return (60 + self._util(index) * 3) * 1000

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: _Handle) -> int:
        self._device("nvmlDeviceGetEnforcedPowerLimit", handle)
        return 400_000

    def nvmlDeviceGetClockInfo(self, handle: _Handle, clock: int) -> int:
        index = self._device("nvmlDeviceGetClockInfo", handle, clock)
        if clock == 2:
            return 1593
        return 1410 if self._util(index) > 5 else 210

    def nvmlDeviceGetFanSpeed(self, handle: _Handle) -> int:
        index = self._device("nvmlDeviceGetFanSpeed", handle)
        return 30 + self._slow(index) // 2

    def nvmlDeviceGetPerformanceState(self, handle: _Handle) -> int:
        index = self._device("nvmlDeviceGetPerformanceState", handle)
        return 0 if self._util(index) > 5 else 8

    def nvmlDeviceGetCurrentClocksEventReasons(self, handle: _Handle) -> int:
        return self._reasons(self._device("nvmlDeviceGetCurrentClocksEventReasons", handle))

    def nvmlDeviceGetCurrentClocksThrottleReasons(self, handle: _Handle) -> int:
        return self._reasons(self._device("nvmlDeviceGetCurrentClocksThrottleReasons", handle))

    def _reasons(self, index: int) -> int:
        if self.config.throttle_mask is not None:
            return self.config.throttle_mask
        util = self._util(index)
        if util < 10:
            return 0x1  # idle
        if util > 85:
            return 0x4 | 0x20  # power cap + SW thermal
        return 0

    def nvmlDeviceGetTotalEccErrors(self, handle: _Handle, error_type: int, counter: int) -> int:
        self._device("nvmlDeviceGetTotalEccErrors", handle, error_type)
        if error_type == 1 and self.tick >= self.config.ecc_at_tick:
            return self.config.ecc_uncorrected
        return 0

    # -- processes --------------------------------------------------------------------------

    def _all_processes(self) -> list[tuple[int, int, int]]:
        """The scenario's processes, plus those listed in ``$WAITWISE_FAKE_NVML_PIDS``."""
        path = os.environ.get(PIDS_FILE_ENV)
        if not path:
            return self._processes
        extra = []
        try:
            with open(path, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except OSError:
            lines = []
        for line in lines:
            words = line.split()
            if len(words) == 2 and words[0].isdigit() and words[1].isdigit():
                extra.append((int(words[0]), int(words[1]), GIB))
        return self._processes + extra

    def _running(self, name: str, handle: _Handle, graphics: bool) -> list[SimpleNamespace]:
        index = self._device(name, handle)
        grown = self.config.memory_growth * self.tick
        mine = [(pid, b + grown) for pid, gpu, b in self._all_processes() if gpu == index]
        if graphics:
            mine = mine[:1]  # one process also holds a graphics context: exercises merging
        return [
            SimpleNamespace(
                pid=pid, usedGpuMemory=b, gpuInstanceId=0xFFFFFFFF, computeInstanceId=0xFFFFFFFF
            )
            for pid, b in mine
        ]

    def nvmlDeviceGetComputeRunningProcesses_v3(self, handle: _Handle) -> list[SimpleNamespace]:
        return self._running("nvmlDeviceGetComputeRunningProcesses_v3", handle, False)

    def nvmlDeviceGetComputeRunningProcesses_v2(self, handle: _Handle) -> list[SimpleNamespace]:
        return self._running("nvmlDeviceGetComputeRunningProcesses_v2", handle, False)

    def nvmlDeviceGetComputeRunningProcesses(self, handle: _Handle) -> list[SimpleNamespace]:
        return self._running("nvmlDeviceGetComputeRunningProcesses", handle, False)

    def nvmlDeviceGetGraphicsRunningProcesses_v3(self, handle: _Handle) -> list[SimpleNamespace]:
        return self._running("nvmlDeviceGetGraphicsRunningProcesses_v3", handle, True)

    def nvmlDeviceGetGraphicsRunningProcesses_v2(self, handle: _Handle) -> list[SimpleNamespace]:
        return self._running("nvmlDeviceGetGraphicsRunningProcesses_v2", handle, True)

    def nvmlDeviceGetGraphicsRunningProcesses(self, handle: _Handle) -> list[SimpleNamespace]:
        return self._running("nvmlDeviceGetGraphicsRunningProcesses", handle, True)

    def nvmlDeviceGetProcessUtilization(
        self, handle: _Handle, last_seen: int
    ) -> list[SimpleNamespace]:
        index = self._device("nvmlDeviceGetProcessUtilization", handle)
        stamp = (self.tick + 1) * 1_000_000
        if stamp <= last_seen:
            self._raise("NotFound")  # what NVML says when there is no newer sample
        mine = [pid for pid, gpu, _ in self._all_processes() if gpu == index]
        util = self._util(index)
        return [
            SimpleNamespace(
                pid=pid,
                timeStamp=stamp,
                smUtil=util // (n + 1),
                memUtil=util // (2 * (n + 1)),
                encUtil=0,
                decUtil=0,
            )
            for n, pid in enumerate(mine)
        ]


def fake_from_spec(spec: str) -> FakeNvml:
    """``"NxM"`` (N GPUs, M processes) or a scenario name from ``SCENARIOS``."""
    spec = spec.strip()
    match = re.fullmatch(r"(\d+)x(\d+)", spec)
    if match:
        return FakeNvml(FakeConfig(gpus=int(match.group(1)), processes=int(match.group(2))))
    if spec in SCENARIOS:
        return FakeNvml(SCENARIOS[spec])
    raise ValueError(
        f"unknown fake NVML spec {spec!r}: use NxM (e.g. 8x50) or one of {', '.join(SCENARIOS)}"
    )
