"""GPU sampler against a table of fake-NVML scenarios (the real pynvml error classes)."""

from __future__ import annotations

import json
import os
import sys

import pynvml
import pytest
from fakes import FrozenHost
from waits import wait_until

from waitwise_tui.core.gpu.fake import (
    FOREIGN_PID_BASE,
    SCENARIOS,
    FakeConfig,
    FakeNvml,
    fake_from_spec,
)
from waitwise_tui.core.gpu.host import HostInfo
from waitwise_tui.core.gpu.sampler import (
    GpuSampler,
    SystemSampler,
    SystemSnapshot,
    nvml_from_env,
    snapshot_to_dict,
)

FROZEN_HOST = HostInfo(
    cpu_percent=12.5,
    per_cpu_percent=(10.0, 15.0),
    cpu_count=2,
    load_1m=0.5,
    load_5m=0.4,
    load_15m=0.3,
    memory_used_bytes=4 * 1024**3,
    memory_total_bytes=16 * 1024**3,
    swap_used_bytes=0,
    swap_total_bytes=0,
    disk_path=".",
    disk_free_bytes=100 * 1024**3,
    disk_total_bytes=200 * 1024**3,
    disk_read_bytes_per_s=None,
    disk_write_bytes_per_s=None,
    net_rx_bytes_per_s=None,
    net_tx_bytes_per_s=None,
)


def sample_twice(nvml: FakeNvml) -> tuple[SystemSnapshot, SystemSnapshot]:
    sampler = SystemSampler(nvml, host=FrozenHost(FROZEN_HOST))
    return sampler.sample(), sampler.sample()


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        ("missing", "NVML library not found"),
        ("no-driver", "driver not loaded"),
        ("mismatch", "version mismatch"),
    ],
)
def test_unusable_nvml_gives_host_only_with_reason(scenario: str, reason: str) -> None:
    _, snap = sample_twice(fake_from_spec(scenario))
    assert snap.nvml.ok is False
    assert reason in snap.nvml.error
    assert "\n" not in snap.nvml.error
    assert snap.gpus == ()
    assert snap.host == FROZEN_HOST


def test_missing_pynvml_module_gives_host_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # makes `import pynvml` raise ImportError
    status, gpus = GpuSampler().sample()
    assert status.ok is False
    assert "not installed" in status.error
    assert gpus == ()


def test_zero_devices() -> None:
    _, snap = sample_twice(fake_from_spec("none"))
    assert snap.nvml.ok is True
    assert snap.nvml.driver == "550.54.15"
    assert snap.gpus == ()
    assert snap.processes == ()


def test_two_devices_full_reading() -> None:
    first, snap = sample_twice(fake_from_spec("two"))
    assert [g.index for g in snap.gpus] == [0, 1]
    gpu = snap.gpus[0]
    assert gpu.name == "NVIDIA A100-SXM4-80GB"
    assert gpu.uuid.startswith("GPU-")
    assert gpu.error is None
    assert 0 <= gpu.util_percent <= 100
    assert gpu.memory_total_bytes == 80 * 1024**3
    assert 0 < gpu.memory_used_bytes < gpu.memory_total_bytes
    assert gpu.power_limit_w == 400.0
    assert gpu.sm_clock_mhz in (210, 1410) and gpu.memory_clock_mhz == 1593
    assert gpu.pstate in (0, 8)
    assert gpu.ecc_uncorrected == 0 and gpu.ecc_corrected == 0
    assert isinstance(gpu.throttle_reasons, tuple)
    # the fake's clock moves once per poll, so utilisation changes between polls
    assert [g.util_percent for g in first.gpus] != [g.util_percent for g in snap.gpus]


def test_processes_joined_sorted_and_marked() -> None:
    _, snap = sample_twice(fake_from_spec("two"))
    procs = snap.processes
    memories = [p.gpu_memory_bytes for p in procs]
    assert memories == sorted(memories, reverse=True)
    mine = [p for p in procs if p.pid == os.getpid()]
    assert len(mine) == 1  # compute + graphics contexts of one pid are merged
    assert mine[0].own and mine[0].visible
    assert "pytest" in mine[0].command or "python" in mine[0].command
    assert mine[0].cpu_percent is not None  # second poll: a real delta
    assert mine[0].rss_bytes > 0
    foreign = [p for p in procs if p.pid >= FOREIGN_PID_BASE]
    assert foreign and all(not p.visible and not p.own and p.user is None for p in foreign)
    assert all(p.sm_percent is not None for p in procs)


def test_first_poll_process_cpu_is_unknown() -> None:
    first, _ = sample_twice(fake_from_spec("two"))
    mine = [p for p in first.processes if p.pid == os.getpid()]
    assert mine[0].cpu_percent is None


def test_unsupported_fields_are_none_not_zero() -> None:
    _, snap = sample_twice(fake_from_spec("unsupported"))
    for gpu in snap.gpus:
        assert gpu.error is None
        assert gpu.util_percent is not None  # still supported in this scenario
        for field in (
            "fan_percent",
            "power_w",
            "power_limit_w",
            "ecc_corrected",
            "ecc_uncorrected",
            "sm_clock_mhz",
            "memory_clock_mhz",
            "pstate",
            "throttle_reasons",
            "temperature_c",
        ):
            assert getattr(gpu, field) is None, field
        assert all(p.sm_percent is None for p in gpu.processes)
    data = snapshot_to_dict(snap)
    assert data["gpus"][0]["fan_percent"] is None
    assert data["gpus"][0]["power_w"] is None


def test_process_listing_unsupported_is_none() -> None:
    _, snap = sample_twice(fake_from_spec("no-processes"))
    assert all(g.processes is None for g in snap.gpus)
    assert snap.processes == ()


def test_lost_gpu_becomes_error_row_while_others_update() -> None:
    nvml = fake_from_spec("lost")
    sampler = SystemSampler(nvml, host=FrozenHost(FROZEN_HOST))
    first = sampler.sample()
    assert first.gpus[1].error is None
    second, third = sampler.sample(), sampler.sample()
    for snap in (second, third):
        lost = snap.gpus[1]
        assert lost.error == "GPU is lost"
        assert lost.name == "NVIDIA H100 80GB HBM3"  # cached static field survives
        assert lost.util_percent is None and lost.processes is None
        assert snap.gpus[0].error is None
    assert second.gpus[0].util_percent != third.gpus[0].util_percent


@pytest.mark.parametrize(("scenario", "suffix"), [("two", "_v3"), ("v2", "_v2"), ("v1", "")])
def test_process_query_falls_back_through_versions(scenario: str, suffix: str) -> None:
    nvml = fake_from_spec(scenario)
    sampler = GpuSampler(nvml)
    _, gpus = sampler.sample()
    assert sampler._process_suffix == {"Compute": suffix, "Graphics": suffix}
    assert sum(len(g.processes) for g in gpus) == 3


def test_missing_symbols_really_missing_in_fake() -> None:
    nvml = fake_from_spec("v2")
    assert getattr(nvml, "nvmlDeviceGetComputeRunningProcesses_v3", None) is None
    with pytest.raises(pynvml.NVMLError_FunctionNotFound):
        fake = fake_from_spec("v1")
        fake.nvmlInit()
        fake.nvmlDeviceGetComputeRunningProcesses_v3(fake.nvmlDeviceGetHandleByIndex(0))


def test_vanished_process_is_labelled_not_a_crash() -> None:
    _, snap = sample_twice(fake_from_spec("vanished"))
    gone = [p for p in snap.processes if not p.visible]
    assert len(gone) == 1
    assert gone[0].command is None and gone[0].rss_bytes is None
    assert gone[0].gpu_memory_bytes is not None


def test_fake_raises_real_pynvml_classes() -> None:
    nvml = fake_from_spec("unsupported")
    nvml.nvmlInit()
    handle = nvml.nvmlDeviceGetHandleByIndex(0)
    with pytest.raises(pynvml.NVMLError_NotSupported):
        nvml.nvmlDeviceGetFanSpeed(handle)


def test_big_config_and_determinism() -> None:
    a = fake_from_spec("8x50")
    b = fake_from_spec("8x50")
    snap_a, snap_b = sample_twice(a)[1], sample_twice(b)[1]
    assert len(snap_a.gpus) == 8
    assert len(snap_a.processes) == 50
    strip = [(g.util_percent, g.memory_used_bytes, g.uuid) for g in snap_a.gpus]
    assert strip == [(g.util_percent, g.memory_used_bytes, g.uuid) for g in snap_b.gpus]


def test_unsupported_gpus_subset() -> None:
    nvml = FakeNvml(FakeConfig(unsupported=frozenset({"fan"}), unsupported_gpus=(1,)))
    _, snap = sample_twice(nvml)
    assert snap.gpus[0].fan_percent is not None
    assert snap.gpus[1].fan_percent is None


def test_every_scenario_serialises_to_json() -> None:
    for name in SCENARIOS:
        _, snap = sample_twice(fake_from_spec(name))
        data = json.loads(json.dumps(snapshot_to_dict(snap)))
        assert set(data) == {"time", "nvml", "gpus", "host"}
        assert {"ok", "error", "driver"} <= set(data["nvml"])


def test_cuda_visible_devices_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1,0")
    _, snap = sample_twice(fake_from_spec("two"))
    assert snap.nvml.cuda_visible_devices == "1,0"


def test_env_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    assert nvml_from_env() is None
    monkeypatch.setenv("WAITWISE_FAKE_NVML", "3x4")
    fake = nvml_from_env()
    assert isinstance(fake, FakeNvml) and fake.config.gpus == 3
    monkeypatch.setenv("WAITWISE_FAKE_NVML", "nonsense")
    with pytest.raises(ValueError, match="unknown fake NVML spec"):
        nvml_from_env()


def test_close_shuts_nvml_down() -> None:
    nvml = fake_from_spec("two")
    sampler = SystemSampler(nvml, host=FrozenHost(FROZEN_HOST))
    sampler.sample()
    sampler.close()
    with pytest.raises(pynvml.NVMLError_Uninitialized):
        nvml.nvmlDeviceGetCount()


def test_memory_used_leaves_out_driver_reserve_like_nvidia_smi() -> None:
    """On an H100 the v1 call counted the driver's 480 MiB reserve as used, so the
    monitor read 479 MiB above nvidia-smi; the v2 call reports it apart."""
    from waitwise_tui.core.gpu.fake import RESERVED

    nvml = fake_from_spec("two")
    _, snap = sample_twice(nvml)
    handle = nvml.nvmlDeviceGetHandleByIndex(0)
    v1 = nvml.nvmlDeviceGetMemoryInfo(handle)
    v2 = nvml.nvmlDeviceGetMemoryInfo(handle, pynvml.nvmlMemory_v2)
    assert v1.used - v2.used == RESERVED
    assert snap.gpus[0].memory_used_bytes == v2.used


def test_memory_falls_back_to_v1_on_an_older_driver() -> None:
    from waitwise_tui.core.gpu.fake import RESERVED

    nvml = fake_from_spec("v1")
    sampler = GpuSampler(nvml)
    _, gpus = sampler.sample()
    _, again = sampler.sample()
    handle = nvml.nvmlDeviceGetHandleByIndex(0)
    with pytest.raises(pynvml.NVMLError_FunctionNotFound):
        nvml.nvmlDeviceGetMemoryInfo(handle, pynvml.nvmlMemory_v2)
    assert gpus[0].memory_used_bytes == nvml.nvmlDeviceGetMemoryInfo(handle).used
    assert gpus[0].memory_used_bytes > RESERVED
    assert sampler._memory_v2 == {0: False, 1: False}  # not asked again every poll
    assert again[0].memory_used_bytes == gpus[0].memory_used_bytes


def test_command_with_newlines_stays_one_line() -> None:
    """``python -c "<script>"`` has newlines in its argv; seen on a real GPU box."""
    import subprocess

    from waitwise_tui.core.gpu.sampler import ProcessInspector
    from waitwise_tui.core.text import display as one_line

    assert one_line("a\nb\tc\x1b[0m") == "a\\nb c\\x1b[0m"
    argv = [sys.executable, "-c", "import time\ntime.sleep(30)\n"]
    child = subprocess.Popen(argv)
    try:
        # Popen returns once the exec has begun, not once the new command line is in.
        wait_until(lambda: command_line(child.pid) == argv, "the child's exec")
        details = ProcessInspector().inspect({child.pid})[child.pid]
        assert details.command.endswith("-c import time\\ntime.sleep(30)\\n")
        assert "\n" not in details.command
    finally:
        child.kill()
        child.wait()


def command_line(pid: int) -> list[str] | None:
    import psutil

    try:
        return psutil.Process(pid).cmdline()
    except psutil.Error:
        return None


def test_pid_seen_before_its_exec_gets_the_command_it_execs() -> None:
    """A pid first seen before its exec (a launcher, a fork) is not stuck with the
    command it had then: the exec shows up as another program behind the pid."""
    import shutil
    import subprocess

    from waitwise_tui.core.gpu.sampler import ProcessInspector

    sleep = shutil.which("sleep")
    assert sleep is not None
    script = f"import os, sys\nsys.stdin.readline()\nos.execv({sleep!r}, [{sleep!r}, '30'])"
    child = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE)
    try:
        wait_until(lambda: command_line(child.pid) == [sys.executable, "-c", script], "python")
        inspector = ProcessInspector()
        before = inspector.inspect({child.pid})[child.pid]
        assert before.command.startswith(f"{sys.executable} -c import os")
        child.stdin.write(b"go\n")
        child.stdin.flush()
        wait_until(lambda: command_line(child.pid) == [sleep, "30"], "the exec of sleep")
        after = inspector.inspect({child.pid})[child.pid]
        assert after.command == f"{sleep} 30"
    finally:
        child.kill()
        child.wait()


def test_pid_seen_mid_exec_gets_its_own_command_not_its_parents() -> None:
    """Real fork+exec: Popen returns once the exec has begun, and for a moment the
    kernel shows the child's command line empty and its parent's name ("python").
    A pid first seen then gets its own command at a later poll."""
    import shutil
    import subprocess

    from waitwise_tui.core.gpu.sampler import ProcessInspector

    sleep = shutil.which("sleep")
    assert sleep is not None
    inspector = ProcessInspector()
    mid_exec = 0
    for _ in range(30):  # each a few ms; the window is caught a few times in a hundred
        child = subprocess.Popen([sleep, "30"])
        try:
            first = inspector.inspect({child.pid}).get(child.pid)
            mid_exec += first is not None and first.command != f"{sleep} 30"
            pid = child.pid
            wait_until(lambda: command_line(pid) == [sleep, "30"], "the exec of sleep")  # noqa: B023
            later = inspector.inspect({child.pid})[child.pid]
            assert later.command == f"{sleep} 30", f"seen mid-exec {mid_exec} times"
        finally:
            child.kill()
            child.wait()


def test_empty_command_line_is_read_again(monkeypatch) -> None:
    """What the kernel answers mid-exec (an empty command line) is not cached."""
    import psutil

    from waitwise_tui.core.gpu.sampler import ProcessInspector

    real = psutil.Process.cmdline
    answers = [[]]  # the first read lands mid-exec
    monkeypatch.setattr(
        psutil.Process, "cmdline", lambda self: answers.pop() if answers else real(self)
    )
    inspector = ProcessInspector()
    first = inspector.inspect({os.getpid()})[os.getpid()]
    assert first.command == psutil.Process().name()  # the name is all there is yet
    again = inspector.inspect({os.getpid()})[os.getpid()]
    assert again.command == " ".join(real(psutil.Process()))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counting(nvml: FakeNvml, name: str) -> list[int]:
    """Count calls of one NVML function on ``nvml``."""
    calls: list[int] = []
    real = getattr(nvml, name)

    def wrapper(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    setattr(nvml, name, wrapper)
    return calls


def test_unsupported_queries_are_not_asked_again_for_a_minute() -> None:
    """An H200 has no fan: asking cost 0.4 ms per poll just to hear "not supported"."""
    from waitwise_tui.core.gpu.sampler import UNSUPPORTED_RETRY_S

    nvml = fake_from_spec("unsupported")
    fan = counting(nvml, "nvmlDeviceGetFanSpeed")
    util = counting(nvml, "nvmlDeviceGetUtilizationRates")
    clock = Clock()
    sampler = GpuSampler(nvml, clock=clock)
    for _ in range(5):
        _, gpus = sampler.sample()
        clock.now += 1
    assert len(fan) == 2  # once per GPU, on the first poll
    assert len(util) == 10  # supported fields are read at every poll
    assert all(g.fan_percent is None for g in gpus)
    clock.now += UNSUPPORTED_RETRY_S
    sampler.sample()
    assert len(fan) == 4  # asked again after the retry time


def test_process_sm_is_asked_every_few_seconds_and_averaged() -> None:
    """nvmlDeviceGetProcessUtilization cost 2 ms per call on an H200."""
    from types import SimpleNamespace

    from waitwise_tui.core.gpu.sampler import PROCESS_SM_S

    nvml = fake_from_spec("vanished")  # one GPU, two processes
    pids = [pid for pid, _, _ in nvml._processes]
    windows = iter(
        [
            [(pids[0], 10, 40), (pids[0], 11, 60), (pids[1], 11, 5)],  # two samples: mean 50
            [(pids[0], 20, 90)],
        ]
    )
    asked: list[int] = []

    def utilization(handle, last_seen):
        asked.append(last_seen)
        return [SimpleNamespace(pid=p, timeStamp=t, smUtil=u) for p, t, u in next(windows)]

    nvml.nvmlDeviceGetProcessUtilization = utilization
    clock = Clock()
    sampler = GpuSampler(nvml, clock=clock)
    _, gpus = sampler.sample()
    sm = {p.pid: p.sm_percent for p in gpus[0].processes}
    assert sm == {pids[0]: 50, pids[1]: 5}
    clock.now += PROCESS_SM_S / 2
    _, gpus = sampler.sample()
    assert len(asked) == 1  # not yet: the last values stand
    assert {p.pid: p.sm_percent for p in gpus[0].processes} == sm
    clock.now += PROCESS_SM_S
    _, gpus = sampler.sample()
    assert asked == [0, 11]  # only samples newer than the last one seen
    assert {p.pid: p.sm_percent for p in gpus[0].processes} == {pids[0]: 90, pids[1]: None}


def test_a_new_process_gets_its_sm_at_once() -> None:
    nvml = fake_from_spec("two")
    calls = counting(nvml, "nvmlDeviceGetProcessUtilization")
    clock = Clock()
    sampler = GpuSampler(nvml, clock=clock)
    sampler.sample()
    sampler.sample()
    assert len(calls) == 2  # two GPUs, asked once each
    nvml._processes.append((FOREIGN_PID_BASE + 99, 1, 1024**3))
    _, gpus = sampler.sample()
    assert len(calls) == 3  # GPU 1 has a new pid: asked again, GPU 0 not
    assert next(p for p in gpus[1].processes if p.pid == FOREIGN_PID_BASE + 99).sm_percent


def test_process_details_that_do_not_change_are_read_once(monkeypatch) -> None:
    import psutil

    from waitwise_tui.core.gpu.sampler import ProcessInspector

    reads: list[int] = []
    real = psutil.Process.cmdline

    def cmdline(self):
        reads.append(self.pid)
        return real(self)

    monkeypatch.setattr(psutil.Process, "cmdline", cmdline)
    inspector = ProcessInspector()
    first = inspector.inspect({os.getpid()})[os.getpid()]
    again = inspector.inspect({os.getpid()})[os.getpid()]
    assert reads == [os.getpid()]
    assert again.command == first.command and again.user == first.user
    assert again.cpu_percent is not None and again.rss_bytes  # these are read every poll
