"""GPU alerts tied to a run, over the fake NVML scenarios and a real busy writer process.

The detector takes each reading's time from its caller, so a minute of readings is a
loop here, not a minute of waiting; the writer's CPU is measured for real (psutil)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from types import SimpleNamespace

import psutil
import pytest
from waits import wait_until

from waitwise_tui.core.gpu.fake import SCENARIOS, FakeConfig, FakeNvml
from waitwise_tui.core.gpu.sampler import GpuSampler
from waitwise_tui.core.notify.message import level_of, note_for
from waitwise_tui.core.runs.gpu_alerts import GpuAlertConfig, GpuAlerts, RunLoad, WriterCpu

ME = os.getpid()  # the fake puts this process first on GPU 0: the run's writer here


def readings(config: FakeConfig, count: int, step_s: float = 5.0):
    """(time, gpus) of ``count`` real sampler polls of the fake, ``step_s`` apart."""
    sampler = GpuSampler(FakeNvml(config))
    for n in range(count):
        status, gpus = sampler.sample()
        assert status.ok
        yield 1000.0 + n * step_s, gpus


def run_alerts(scenario, runs, count=20, step_s=5.0, config=None):
    detector = GpuAlerts(config or GpuAlertConfig())
    config = SCENARIOS[scenario] if isinstance(scenario, str) else scenario
    events = []
    for now, gpus in readings(config, count, step_s):
        events += detector.update(now, gpus, runs)
    return events


def live(pid=ME, cpu=5.0, cores=4, status="live"):
    return RunLoad("train", status, pid, frozenset([pid]), cpu, cpu, cores)


def test_input_bound_fires_once_with_the_numbers() -> None:
    events = run_alerts("input-bound", [live(cpu=99.0)], count=40)
    assert [e.data["alert"] for e in events] == ["input_bound"]
    event = events[0]
    assert event.source == "train" and event.data["gpu"] == 0
    assert event.data["util"] == 8.0 and event.data["cpu"] == 99
    assert "8 % GPU utilisation" in event.message and "99 % CPU" in event.message
    assert event.time >= 1000.0 + 60 * 0.95  # not before a minute of readings
    assert level_of(event) == "warning"
    assert "train" in note_for(event, host="box").title


def test_input_bound_needs_a_busy_writer_and_a_live_run() -> None:
    assert run_alerts("input-bound", [live(cpu=20.0)], count=40) == []
    assert run_alerts("input-bound", [live(cpu=99.0, status="stalled")], count=40) == []
    # A busy GPU is not input-bound, however busy the CPU.
    busy = FakeConfig(gpus=1, processes=1, util=80)
    assert run_alerts(busy, [live(cpu=99.0)], count=40) == []


def test_input_bound_counts_every_core_of_the_process_tree() -> None:
    """DataLoader workers: 7 cores of 8 busy in the tree, the main process at 40 %."""
    run = RunLoad("train", "live", ME, frozenset([ME]), 40.0, 760.0, 8)
    assert [e.data["alert"] for e in run_alerts("input-bound", [run], count=40)] == ["input_bound"]


def test_a_run_whose_writer_is_on_no_gpu_gets_no_gpu_alerts() -> None:
    stranger = RunLoad("train", "live", 1, frozenset([1]), 99.0, 99.0, 1)
    assert run_alerts("input-bound", [stranger], count=40) == []
    assert run_alerts("throttled", [stranger], count=40) == []


def test_memory_leak_projects_the_time_to_out_of_memory() -> None:
    events = run_alerts("leak", [live()], count=80)
    kinds = [e.data["alert"] for e in events]
    assert kinds == ["gpu_memory"], kinds  # one episode: growing, then full, still one
    event = events[0]
    assert "growing" in event.message and "out of memory in about" in event.message
    assert 0 < event.data["oom_in_s"] <= 1800
    assert event.data["used"] < 0.95 * event.data["total"]


def test_memory_above_the_fraction_fires_at_once() -> None:
    events = run_alerts("full", [live()], count=3)
    assert [e.data["alert"] for e in events] == ["gpu_memory"]
    assert "memory at 97 %" in events[0].message


def test_flat_memory_is_no_leak() -> None:
    assert run_alerts(FakeConfig(gpus=1, processes=1, util=80), [live()], count=80) == []


def test_throttling_after_a_minute_in_words() -> None:
    events = run_alerts("throttled", [live()], count=30)
    assert [e.data["alert"] for e in events] == ["throttle"]
    event = events[0]
    assert event.time - 1000.0 >= 60
    assert "thermal and power limit" in event.message
    assert event.data["reasons"] == ["power cap", "SW thermal"]


def test_short_throttling_is_not_an_alert() -> None:
    assert run_alerts("throttled", [live()], count=12) == []  # 55 s


def test_ecc_uncorrected_errors_once_per_new_count() -> None:
    events = run_alerts("ecc", [live()], count=10)
    assert [e.data["alert"] for e in events] == ["ecc"]
    assert events[0].data["ecc_uncorrected"] == 2
    assert level_of(events[0]) == "critical"


def test_lost_gpu_names_the_run_that_was_on_it() -> None:
    config = FakeConfig(gpus=1, processes=1, lost_gpu=0, lost_at_tick=4)
    events = run_alerts(config, [live()], count=10)
    assert [(e.source, e.data["alert"]) for e in events] == [("train", "gpu_lost")]
    assert level_of(events[0]) == "critical"
    # Without any run, a lost GPU is still worth a message: it names the GPU.
    events = run_alerts("lost", [], count=5)
    assert [(e.source, e.data["alert"]) for e in events] == [("GPU 1", "gpu_lost")]


def test_an_episode_fires_again_after_it_cleared() -> None:
    detector = GpuAlerts(GpuAlertConfig(throttle_s=10))
    samples = list(readings(SCENARIOS["throttled"], 10))
    quiet = list(readings(FakeConfig(gpus=1, processes=1, util=50, throttle_mask=0), 1))
    fired = []
    for now, gpus in samples[:5]:
        fired += detector.update(now, gpus, [live()])
    fired += detector.update(1100.0, quiet[0][1], [live()])
    for now, gpus in samples[5:]:
        fired += detector.update(now + 200, gpus, [live()])
    assert [e.data["alert"] for e in fired] == ["throttle", "throttle"]


def test_settings_table_parses_into_thresholds() -> None:
    config, problems = GpuAlertConfig.parse({"input_bound_util": 20, "throttle_s": 30.0})
    assert problems == []
    assert config.input_bound_util == 20.0 and config.throttle_s == 30.0
    config, problems = GpuAlertConfig.parse(
        {"memory_fraction": 1.5, "bogus": 1, "throttle_s": "1m"}
    )
    assert config == GpuAlertConfig()
    assert len(problems) == 3 and all(p.startswith("gpu_alerts.") for p in problems)


@pytest.fixture
def busy_writer():
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    yield proc
    proc.kill()
    proc.wait()


def test_input_bound_with_a_real_busy_writer_process(busy_writer) -> None:
    """The writer is a real process spinning a core; its pid is the fake GPU's process.
    The CPU bar is lowered: the test box is shared, a core may not be all ours."""
    run = SimpleNamespace(name="train", status="live", writer_pid=busy_writer.pid)
    cpu = WriterCpu()
    cpu.loads([run])  # psutil's baseline
    proc_times = psutil.Process(busy_writer.pid)
    start = sum(proc_times.cpu_times()[:2])
    wait_until(lambda: sum(proc_times.cpu_times()[:2]) - start > 0.2, "the writer to spin")
    (load,) = cpu.loads([run])
    assert load.pid == busy_writer.pid and busy_writer.pid in load.pids
    assert load.cpu_percent is not None and load.cpu_percent > 20
    config = FakeConfig(gpus=1, processes=1, util=8, pids=(busy_writer.pid,))
    events = run_alerts(config, [load], count=15, config=GpuAlertConfig(input_bound_cpu=0.2))
    assert [e.data["alert"] for e in events] == ["input_bound"]
    assert events[0].data["pid"] == busy_writer.pid
    assert f"pid {busy_writer.pid}" in events[0].message


def test_an_idle_writer_process_is_not_input_bound() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        run = SimpleNamespace(name="train", status="live", writer_pid=proc.pid)
        cpu = WriterCpu()
        handle = psutil.Process(proc.pid)
        wait_until(lambda: handle.status() == "sleeping", "the writer to sleep")
        cpu.loads([run])  # the baseline, once it sleeps
        since = time.monotonic()
        wait_until(lambda: time.monotonic() - since > 0.2, "a CPU interval to pass")
        (load,) = cpu.loads([run])
        assert load.cpu_percent is not None and load.cpu_percent < 20
        config = FakeConfig(gpus=1, processes=1, util=8, pids=(proc.pid,))
        events = run_alerts(config, [load], count=15, config=GpuAlertConfig(input_bound_cpu=0.2))
        assert events == []
    finally:
        proc.kill()
        proc.wait()


def test_settings_keep_the_good_thresholds_and_name_the_bad() -> None:
    from waitwise_tui.config import Settings

    settings, problem = Settings.from_dict({"gpu_alerts": {"throttle_s": 30, "bogus": 1}})
    assert problem is not None and "gpu_alerts.bogus" in problem
    assert settings.gpu_alert_config().throttle_s == 30.0
    _, problem = Settings.from_dict({"gpu_alerts": 5})
    assert problem == "setting 'gpu_alerts' must be a table"
