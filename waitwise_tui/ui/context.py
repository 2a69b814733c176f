"""What every panel and tab is given: workspace, settings, start-up options, the live
data (``live``: the one owner of GPU, host and run readings) and, in tests only, the
fakes that stand in for the outside world."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from waitwise_tui.config import Settings
from waitwise_tui.core.workspace import Workspace
from waitwise_tui.ui.live import Live

if TYPE_CHECKING:
    from datetime import datetime

    from waitwise_tui.core.gpu.host import HostSource
    from waitwise_tui.core.jobs.local import GpuProbe
    from waitwise_tui.core.runs.monitor import RunMonitor
    from waitwise_tui.ui.live import SystemSource


@dataclass(frozen=True)
class Fakes:
    """Stand-ins that tests, snapshots and the screenshot script inject; the app leaves
    every field at None and uses the real source. Production channels are not here:
    what the monitor reads is on ``AppContext.live``."""

    nvml: Any = None  # a pynvml-shaped module (core/gpu/fake.py)
    host: HostSource | None = None  # host readings: sample() -> HostInfo
    sampler: SystemSource | None = None  # a whole GPU + host sampler, instead of both
    runs_monitor: RunMonitor | None = None  # the run monitor, e.g. on a fixed clock
    gpu_probe: GpuProbe | None = None  # what the job runner sees of the GPUs
    clock: Callable[[], float] | None = None  # the job runner's clock (time.time)
    now: Callable[[], datetime] | None = None  # the date notes are named after
    tests_env: Mapping[str, str] = field(default_factory=dict)  # extra env of test runs
    arxiv_api_url: str | None = None  # a local arXiv stand-in
    slurm_watch: Any = None  # core.jobs.watch.SlurmWatch with a fake collector


@dataclass
class AppContext:
    workspace: Workspace
    settings: Settings
    # Start-up options from the CLI, by name: "run_paths", "data_path", "project_dir", ...
    options: dict[str, Any] = field(default_factory=dict)
    fakes: Fakes = field(default_factory=Fakes)
    # The live readings every view shares; built here, started by the first view
    # that subscribes (nothing runs until then).
    live: Live = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.live = Live(self)
