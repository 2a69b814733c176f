"""GPU sampling through NVML, joined with host figures into one frozen snapshot.

``SystemSampler.sample()`` returns a ``SystemSnapshot``: NVML status, one ``GpuInfo``
per device (with its ``GpuProcess`` list) and a ``HostInfo``. NVML is initialised
once per sampler; device handles and static fields are cached. Anything NVML reports
as unsupported is ``None`` (shown as N/A, never 0). A lost GPU becomes a ``GpuInfo``
with ``error`` set while the others keep updating; no NVML at all gives a host-only
snapshot whose ``nvml.error`` says why.

The NVML backend is any object shaped like the ``pynvml`` module (the real one is
imported lazily). ``WAITWISE_FAKE_NVML`` is a testing hook only: when set (``"8x50"``
or a scenario name from ``core/gpu/fake.py``), ``nvml_from_env()`` returns the fake.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from waitwise_tui.core.gpu.host import HostInfo, HostSampler, HostSource
from waitwise_tui.core.text import display

FAKE_NVML_ENV = "WAITWISE_FAKE_NVML"

# NVML constants used below, spelled out so the module needs no pynvml import.
_TEMPERATURE_GPU = 0
_CLOCK_SM = 1
_CLOCK_MEM = 2
_ECC_CORRECTED = 0
_ECC_UNCORRECTED = 1
_ECC_VOLATILE = 0
_PSTATE_UNKNOWN = 32

# Clock event ("throttle") reason bits -> words, in the order shown.
THROTTLE_REASONS: tuple[tuple[int, str], ...] = (
    (0x0000000000000004, "power cap"),
    (0x0000000000000080, "power brake"),
    (0x0000000000000040, "HW thermal"),
    (0x0000000000000020, "SW thermal"),
    (0x0000000000000008, "HW slowdown"),
    (0x0000000000000200, "board limit"),
    (0x0000000000000400, "reliability"),
    (0x0000000000000010, "sync boost"),
    (0x0000000000000002, "app clocks"),
    (0x0000000000000100, "display clock"),
    (0x0000000000000001, "idle"),
)

# Versioned symbols, newest first; the first one the library and driver both have wins.
_PROCESS_SUFFIXES = ("_v3", "_v2", "")
# How often per-process SM % is asked for, and a query NVML says is unsupported.
PROCESS_SM_S = 5.0
UNSUPPORTED_RETRY_S = 60.0


@dataclass(frozen=True)
class GpuProcess:
    """A process holding a GPU context, joined with what psutil knows about it."""

    pid: int
    gpu_index: int
    gpu_memory_bytes: int | None
    sm_percent: int | None
    user: str | None
    command: str | None
    cpu_percent: float | None
    rss_bytes: int | None
    elapsed_s: float | None
    own: bool
    # False: psutil cannot see the pid, so it lives in another PID namespace
    # (a container boundary) or exited between the NVML and psutil calls.
    visible: bool
    # The distributed rank from the process environment (``RANK``, ``SLURM_PROCID``...;
    # ``LOCAL_RANK``...), readable for the user's own processes only; None if unknown.
    rank: int | None = None
    local_rank: int | None = None


@dataclass(frozen=True)
class GpuInfo:
    """One device reading; ``error`` set means the device failed and the rest is None."""

    index: int
    name: str | None
    uuid: str | None
    util_percent: int | None = None
    memory_util_percent: int | None = None
    memory_used_bytes: int | None = None
    memory_total_bytes: int | None = None
    temperature_c: int | None = None
    power_w: float | None = None
    power_limit_w: float | None = None
    sm_clock_mhz: int | None = None
    memory_clock_mhz: int | None = None
    fan_percent: int | None = None
    pstate: int | None = None
    throttle_reasons: tuple[str, ...] | None = None
    ecc_corrected: int | None = None
    ecc_uncorrected: int | None = None
    # None: the driver cannot list processes for this device.
    processes: tuple[GpuProcess, ...] | None = ()
    error: str | None = None


@dataclass(frozen=True)
class NvmlStatus:
    ok: bool
    error: str | None
    driver: str | None
    cuda_visible_devices: str | None


@dataclass(frozen=True)
class SystemSnapshot:
    time: float
    nvml: NvmlStatus
    gpus: tuple[GpuInfo, ...]
    host: HostInfo

    @property
    def processes(self) -> tuple[GpuProcess, ...]:
        """Processes of every GPU, most GPU memory first (unknown memory last)."""
        found = [p for gpu in self.gpus for p in (gpu.processes or ())]
        found.sort(key=lambda p: (p.gpu_memory_bytes is None, -(p.gpu_memory_bytes or 0), p.pid))
        return tuple(found)


def snapshot_to_dict(snapshot: SystemSnapshot) -> dict[str, Any]:
    """JSON-ready form of a snapshot (tuples become lists, None stays null)."""
    return dataclasses.asdict(snapshot)


def nvml_from_env() -> Any | None:
    """The fake NVML named by ``$WAITWISE_FAKE_NVML`` (testing hook), else None."""
    spec = os.environ.get(FAKE_NVML_ENV)
    if not spec:
        return None
    from waitwise_tui.core.gpu.fake import fake_from_spec

    return fake_from_spec(spec)


@dataclass
class ProcessDetails:
    """What psutil tells about one pid (None where access is denied)."""

    user: str | None = None
    command: str | None = None
    cpu_percent: float | None = None
    rss_bytes: int | None = None
    elapsed_s: float | None = None
    own: bool = False
    rank: int | None = None
    local_rank: int | None = None


class _Static(NamedTuple):
    """What ``ProcessInspector`` reads once per process (not at every poll)."""

    user: str | None
    command: str | None
    created: float | None
    own: bool
    exe: str | None  # the program file when read; another one later means an exec
    complete: bool  # False while the command line reads empty: the process is mid-exec
    rank: int | None = None
    local_rank: int | None = None


class ProcessInspector:
    """psutil look-ups for GPU pids; keeps ``Process`` objects so CPU % is a delta."""

    # A pid psutil cannot see (usually another PID namespace: a container) is looked
    # up again only after this long, not at every poll.
    MISSING_RETRY_SECONDS = 10.0

    def __init__(self) -> None:
        # pid -> (Process, the details that change only with an exec)
        self._procs: dict[int, tuple[Any, _Static]] = {}
        self._missing: dict[int, float] = {}  # pid -> when psutil last failed to find it
        self._uid = os.getuid() if hasattr(os, "getuid") else None

    def inspect(self, pids: set[int]) -> dict[int, ProcessDetails]:
        """Info for each pid psutil can see; pids it cannot see are absent.

        User, command line and start time are read once per process, and again only
        after an exec: a pid first seen while it execs (its command line still empty,
        or still its parent's) gets its own name at a later poll, not its parent's for
        life. Each poll reads CPU and memory (two /proc files) and the program link."""
        import psutil

        found: dict[int, ProcessDetails] = {}
        now = time.time()
        for pid in pids:
            known = self._procs.get(pid)
            fresh = False
            # is_running also checks the start time, so a reused pid is a new process.
            if known is None or not known[0].is_running():
                missed = self._missing.get(pid)
                if missed is not None and now - missed < self.MISSING_RETRY_SECONDS:
                    continue
                try:
                    proc = psutil.Process(pid)
                    known = (proc, self._static(proc))
                except (psutil.Error, OSError):
                    self._procs.pop(pid, None)
                    self._missing[pid] = now
                    continue
                self._missing.pop(pid, None)
                fresh = True
                self._procs[pid] = known
            elif self._exec_since(pid, known[1]):
                try:
                    known = (known[0], self._static(known[0]))
                except (psutil.Error, OSError):
                    self._procs.pop(pid, None)
                    continue
                self._procs[pid] = known
            proc, static = known
            info = ProcessDetails(
                user=static.user,
                command=static.command,
                own=static.own,
                rank=static.rank,
                local_rank=static.local_rank,
            )
            created = static.created
            info.elapsed_s = max(0.0, now - created) if created is not None else None
            try:
                with proc.oneshot():
                    cpu = self._field(proc.cpu_percent)
                    # psutil's first cpu_percent() has no interval behind it: report unknown.
                    info.cpu_percent = None if fresh else cpu
                    memory = self._field(proc.memory_info)
                    info.rss_bytes = memory.rss if memory is not None else None
            except psutil.NoSuchProcess:
                self._procs.pop(pid, None)
                continue
            found[pid] = info
        for gone in set(self._procs) - pids:
            del self._procs[gone]
        for gone in set(self._missing) - pids:
            del self._missing[gone]
        return found

    @staticmethod
    def _exe(pid: int) -> str | None:
        """The program the process runs now (Linux; psutil caches its own answer)."""
        try:
            return os.readlink(f"/proc/{pid}/exe")
        except OSError:  # not Linux, another user's process, gone
            return None

    def _exec_since(self, pid: int, static: _Static) -> bool:
        """Whether the process may have exec'd since ``static`` was read."""
        if not static.complete:
            return True
        return static.exe is not None and self._exe(pid) != static.exe

    def _static(self, proc: Any) -> _Static:
        # The program link first: an exec between the two reads then shows up as a
        # changed link at the next poll, never as an old command cached for good.
        exe = self._exe(proc.pid)
        with proc.oneshot():
            user = self._field(proc.username)
            cmdline = self._field(proc.cmdline)
            command = " ".join(cmdline) if cmdline else self._field(proc.name)
            created = self._field(proc.create_time)
            uids = self._field(proc.uids) if self._uid is not None else None
        own = uids is not None and uids.real == self._uid
        shown = display(command) if command is not None else None
        rank, local_rank = ranks_from_environ(self._environ(proc) if own else None)
        # Mid-exec the kernel shows an empty command line (and the parent's name); a
        # zombie's, or one access is denied to, is None and will not change.
        return _Static(
            user, shown, created, own, exe, complete=cmdline != [], rank=rank, local_rank=local_rank
        )

    @staticmethod
    def _environ(proc: Any) -> dict[str, str] | None:
        """The process's environment (its own user's processes only), or None."""
        import psutil

        try:
            return proc.environ()
        except (psutil.Error, OSError):
            return None

    @staticmethod
    def _field(getter: Any) -> Any:
        import psutil

        try:
            return getter()
        except psutil.AccessDenied:
            return None
        except psutil.ZombieProcess:
            return None


class _DeviceLost(Exception):
    """A device call failed in a way that makes the whole device unusable."""


class GpuSampler:
    """NVML side of the snapshot: status plus per-device readings."""

    def __init__(
        self,
        nvml: Any | None = None,
        *,
        inspector: ProcessInspector | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._nvml = nvml
        self._inspector = inspector or ProcessInspector()
        self._status: NvmlStatus | None = None
        self._handles: list[Any] = []
        self._static: dict[int, tuple[str | None, str | None]] = {}
        self._memory_v2: dict[int, bool] = {}
        self._process_suffix: dict[str, str | None] = {}
        self._util_seen: dict[int, int] = {}
        # index -> (when asked, SM % by pid, pids then on the GPU)
        self._sm: dict[int, tuple[float, dict[int, int], frozenset[int]]] = {}
        # (query, GPU handle, selector) -> when to ask again after "not supported"
        self._unsupported: dict[tuple[Any, ...], float] = {}

    @property
    def initialised(self) -> bool:
        return self._status is not None and self._status.ok

    def _init(self) -> NvmlStatus:
        cuda_visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        if self._nvml is None:
            try:
                import pynvml
            except ImportError:
                return NvmlStatus(
                    False, "pynvml (nvidia-ml-py) is not installed", None, cuda_visible
                )
            self._nvml = pynvml
        nvml = self._nvml
        try:
            nvml.nvmlInit()
        except nvml.NVMLError as exc:
            return NvmlStatus(False, _init_problem(nvml, exc), None, cuda_visible)
        try:
            driver = _text(nvml.nvmlSystemGetDriverVersion())
        except nvml.NVMLError:
            driver = None
        try:
            count = nvml.nvmlDeviceGetCount()
        except nvml.NVMLError as exc:
            return NvmlStatus(False, f"NVML cannot count GPUs: {exc}", driver, cuda_visible)
        self._handles = []
        self._unsupported.clear()
        self._sm.clear()
        for index in range(count):
            try:
                self._handles.append(nvml.nvmlDeviceGetHandleByIndex(index))
            except nvml.NVMLError:
                # Kept as a slot so indexes stay aligned; it shows as an error row.
                self._handles.append(None)
        return NvmlStatus(True, None, driver, cuda_visible)

    def sample(self) -> tuple[NvmlStatus, tuple[GpuInfo, ...]]:
        if self._status is None:
            self._status = self._init()
        if not self._status.ok:
            return self._status, ()
        readings = [self._read_device(index, h) for index, h in enumerate(self._handles)]
        gpus = self._attach_processes(readings)
        return self._status, gpus

    def close(self) -> None:
        if self.initialised:
            with contextlib.suppress(self._nvml.NVMLError):
                self._nvml.nvmlShutdown()
        self._status = None

    # -- one device ---------------------------------------------------------------------

    def _call(self, name: str, *args: Any, selector: Any = None) -> Any:
        """One NVML query; None when unsupported, ``_DeviceLost`` when the GPU is gone.

        A query the GPU or driver does not support is not asked again for
        ``UNSUPPORTED_RETRY_S``: the answer does not change, and asking is not free (the
        fan query of an H200, which has no fan, took 0.4 ms to say so, every poll).
        The remembered key is the query, the GPU and ``selector``, by default the
        arguments after the handle (the two clocks stay apart); a query whose argument
        changes at every call (process utilisation's timestamp) passes a fixed one.
        """
        nvml = self._nvml
        fn = getattr(nvml, name, None)
        if fn is None:
            return None
        key = (name, id(args[0]) if args else None, args[1:] if selector is None else selector)
        retry = self._unsupported.get(key)
        if retry is not None:
            if self._clock() < retry:
                return None
            del self._unsupported[key]
        try:
            return fn(*args)
        except (nvml.NVMLError_GpuIsLost, nvml.NVMLError_Unknown) as exc:
            raise _DeviceLost(str(exc)) from exc
        except (nvml.NVMLError_NotSupported, nvml.NVMLError_FunctionNotFound):
            self._unsupported[key] = self._clock() + UNSUPPORTED_RETRY_S
            return None
        except nvml.NVMLError:
            # NoPermission, NotFound (no samples yet)...: unknown this time.
            return None

    def _memory(self, index: int, handle: Any) -> Any:
        """Memory info, v2 where the driver has it: its ``used`` leaves out the memory
        the driver reserves (480 MiB on an H100), as nvidia-smi does; v1's includes it."""
        version = getattr(self._nvml, "nvmlMemory_v2", None)
        if version is not None and self._memory_v2.get(index, True):
            memory = self._call("nvmlDeviceGetMemoryInfo", handle, version)
            if memory is not None:
                return memory
            self._memory_v2[index] = False  # older driver: v1 from now on
        return self._call("nvmlDeviceGetMemoryInfo", handle)

    def _read_device(self, index: int, handle: Any) -> tuple[GpuInfo, list[Any] | None]:
        if handle is None:
            return GpuInfo(index, None, None, processes=None, error="no handle from NVML"), None
        try:
            static = self._static.get(index)
            if static is None:
                static = (
                    _text(self._call("nvmlDeviceGetName", handle)),
                    _text(self._call("nvmlDeviceGetUUID", handle)),
                )
                self._static[index] = static
            name, uuid = static
            memory = self._memory(index, handle)
            util = self._call("nvmlDeviceGetUtilizationRates", handle)
            power = self._call("nvmlDeviceGetPowerUsage", handle)
            limit = self._call("nvmlDeviceGetEnforcedPowerLimit", handle)
            pstate = self._call("nvmlDeviceGetPerformanceState", handle)
            reasons = self._call("nvmlDeviceGetCurrentClocksEventReasons", handle)
            if reasons is None:
                reasons = self._call("nvmlDeviceGetCurrentClocksThrottleReasons", handle)
            raw_processes = self._list_processes(handle)
            info = GpuInfo(
                index=index,
                name=name,
                uuid=uuid,
                util_percent=util.gpu if util is not None else None,
                memory_util_percent=util.memory if util is not None else None,
                memory_used_bytes=memory.used if memory is not None else None,
                memory_total_bytes=memory.total if memory is not None else None,
                temperature_c=self._call("nvmlDeviceGetTemperature", handle, _TEMPERATURE_GPU),
                power_w=power / 1000.0 if power is not None else None,
                power_limit_w=limit / 1000.0 if limit is not None else None,
                sm_clock_mhz=self._call("nvmlDeviceGetClockInfo", handle, _CLOCK_SM),
                memory_clock_mhz=self._call("nvmlDeviceGetClockInfo", handle, _CLOCK_MEM),
                fan_percent=self._call("nvmlDeviceGetFanSpeed", handle),
                pstate=pstate if pstate is not None and pstate != _PSTATE_UNKNOWN else None,
                throttle_reasons=_reason_words(reasons) if reasons is not None else None,
                ecc_corrected=self._call(
                    "nvmlDeviceGetTotalEccErrors", handle, _ECC_CORRECTED, _ECC_VOLATILE
                ),
                ecc_uncorrected=self._call(
                    "nvmlDeviceGetTotalEccErrors", handle, _ECC_UNCORRECTED, _ECC_VOLATILE
                ),
                processes=None,
            )
            sm_by_pid = self._process_sm(index, handle, raw_processes) if raw_processes else {}
        except _DeviceLost as exc:
            name, uuid = self._static.get(index, (None, None))
            return GpuInfo(index, name, uuid, processes=None, error=str(exc) or "GPU lost"), None
        if raw_processes is None:
            return info, None
        return info, [(p, sm_by_pid.get(p[0])) for p in raw_processes]

    def _list_processes(self, handle: Any) -> list[tuple[int, int | None]] | None:
        """(pid, GPU memory) of compute and graphics contexts; None when unsupported."""
        merged: dict[int, int | None] = {}
        supported = False
        for kind in ("Compute", "Graphics"):
            entries = self._versioned_processes(kind, handle)
            if entries is None:
                continue
            supported = True
            for entry in entries:
                memory = getattr(entry, "usedGpuMemory", None)
                previous = merged.get(entry.pid)
                merged[entry.pid] = memory if previous is None else max(previous, memory or 0)
        if not supported:
            return None
        return list(merged.items())

    def _versioned_processes(self, kind: str, handle: Any) -> list[Any] | None:
        nvml = self._nvml
        base = f"nvmlDeviceGet{kind}RunningProcesses"
        known = self._process_suffix.get(kind, "?")
        suffixes = _PROCESS_SUFFIXES if known == "?" else ((known,) if known is not None else ())
        for suffix in suffixes:
            fn = getattr(nvml, base + suffix, None)
            if fn is None:
                continue
            try:
                result = fn(handle)
            except nvml.NVMLError_FunctionNotFound:
                # The Python binding has the symbol but the driver library lacks it.
                continue
            except (nvml.NVMLError_GpuIsLost, nvml.NVMLError_Unknown) as exc:
                raise _DeviceLost(str(exc)) from exc
            except nvml.NVMLError:
                self._process_suffix[kind] = suffix
                return None
            self._process_suffix[kind] = suffix
            return list(result)
        self._process_suffix[kind] = None
        return None

    def _process_sm(
        self, index: int, handle: Any, raw_processes: list[tuple[int, int | None]]
    ) -> dict[int, int]:
        """SM % per pid: the mean of NVML's samples since the last ask (it keeps a ring
        buffer). Asked every ``PROCESS_SM_S`` seconds, or at once when a process
        appears: one ask cost 2 ms of CPU on an H200 with one process, more than the
        rest of the GPU's poll together."""
        pids = frozenset(pid for pid, _ in raw_processes)
        now = self._clock()
        last = self._sm.get(index)
        if last is not None and now - last[0] < PROCESS_SM_S and pids <= last[2]:
            return last[1]
        samples = self._call(
            "nvmlDeviceGetProcessUtilization",
            handle,
            self._util_seen.get(index, 0),
            selector="process-util",
        )
        sums: dict[int, list[int]] = {}
        newest = self._util_seen.get(index, 0)
        for sample in samples or ():
            newest = max(newest, int(sample.timeStamp))
            total = sums.setdefault(sample.pid, [0, 0])
            total[0] += int(sample.smUtil)
            total[1] += 1
        self._util_seen[index] = newest
        sm = {pid: round(total / count) for pid, (total, count) in sums.items()}
        self._sm[index] = (now, sm, pids)
        return sm

    def _attach_processes(
        self, readings: list[tuple[GpuInfo, list[Any] | None]]
    ) -> tuple[GpuInfo, ...]:
        pids = {raw[0][0] for _, raws in readings if raws for raw in raws}
        seen = self._inspector.inspect(pids) if pids else {}
        gpus = []
        for info, raws in readings:
            if raws is None:
                gpus.append(info)
                continue
            processes = []
            for (pid, memory), sm in raws:
                proc = seen.get(pid)
                processes.append(
                    GpuProcess(
                        pid=pid,
                        gpu_index=info.index,
                        gpu_memory_bytes=memory,
                        sm_percent=sm,
                        user=proc.user if proc else None,
                        command=proc.command if proc else None,
                        cpu_percent=proc.cpu_percent if proc else None,
                        rss_bytes=proc.rss_bytes if proc else None,
                        elapsed_s=proc.elapsed_s if proc else None,
                        own=proc.own if proc else False,
                        visible=proc is not None,
                        rank=proc.rank if proc else None,
                        local_rank=proc.local_rank if proc else None,
                    )
                )
            processes.sort(key=lambda p: (-(p.gpu_memory_bytes or 0), p.pid))
            gpus.append(dataclasses.replace(info, processes=tuple(processes)))
        return tuple(gpus)


RANK_KEYS = ("RANK", "SLURM_PROCID", "PMI_RANK", "OMPI_COMM_WORLD_RANK")
LOCAL_RANK_KEYS = ("LOCAL_RANK", "SLURM_LOCALID", "OMPI_COMM_WORLD_LOCAL_RANK")


def ranks_from_environ(environ: dict[str, str] | None) -> tuple[int | None, int | None]:
    """(rank, local rank) from a process environment: torchrun's ``RANK`` and
    ``LOCAL_RANK`` first, then Slurm's and MPI's; None where absent or not a number."""
    if not environ:
        return None, None

    def first(keys: tuple[str, ...]) -> int | None:
        for key in keys:
            value = environ.get(key, "").strip()
            if value.isdigit() and len(value) < 10:
                return int(value)
        return None

    return first(RANK_KEYS), first(LOCAL_RANK_KEYS)


def _init_problem(nvml: Any, exc: Exception) -> str:
    """One line saying why NVML is unusable (what shows it says "host only" first)."""
    if isinstance(exc, nvml.NVMLError_LibraryNotFound):
        return "NVML library not found (no NVIDIA driver on this machine)"
    if isinstance(exc, nvml.NVMLError_DriverNotLoaded):
        return "NVIDIA driver not loaded"
    if isinstance(exc, nvml.NVMLError_LibRmVersionMismatch):
        return "NVIDIA driver/library version mismatch (reload the driver or reboot)"
    if isinstance(exc, nvml.NVMLError_NoPermission):
        return "no permission to use NVML"
    return f"NVML failed to start ({exc})"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _reason_words(mask: int) -> tuple[str, ...]:
    return tuple(word for bit, word in THROTTLE_REASONS if mask & bit)


class SystemSampler:
    """GPU + host sampler; call ``sample()`` from one thread at a time."""

    def __init__(
        self,
        nvml: Any | None = None,
        *,
        host: HostSource | None = None,
        disk_path: str | os.PathLike[str] = ".",
        inspector: ProcessInspector | None = None,
    ) -> None:
        self.gpu = GpuSampler(nvml, inspector=inspector)
        self.host = host if host is not None else HostSampler(disk_path)

    def sample(self) -> SystemSnapshot:
        status, gpus = self.gpu.sample()
        return SystemSnapshot(time=time.time(), nvml=status, gpus=gpus, host=self.host.sample())

    def close(self) -> None:
        self.gpu.close()


def probe_readings(
    status: NvmlStatus, gpus: tuple[GpuInfo, ...]
) -> list[tuple[int, int, int | None]]:
    """What the job runner's GPU probe reports of a reading: (index, memory used in MiB,
    util % or None) per healthy GPU; [] without NVML."""
    if not status.ok:
        return []
    return [
        (gpu.index, (gpu.memory_used_bytes or 0) // (1024 * 1024), gpu.util_percent)
        for gpu in gpus
        if gpu.error is None
    ]
