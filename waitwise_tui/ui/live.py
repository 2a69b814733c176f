"""``Live``: the one owner of live data in the app.

It owns the one GPU + host sampler of the process and the one run monitor, each polled
on a long-lived ``Poller`` thread, and keeps the latest reading of each. Views subscribe
to the readings they show (``subscribe_system``, ``subscribe_runs``) and get them as
``SystemUpdated`` / ``RunsUpdated`` messages (``ui/messages.py``); anyone else reads
the latest ones: the job runner's GPU probe (``gpu_probe``), the notes snapshot
(``gpus_now``, ``runs``), the reading-time ETA (``training_eta``). Nothing else in the
process opens NVML.

A third poller watches Slurm jobs (``subscribe_cluster``, ``ClusterUpdated``): the jobs
the runs' writers run in (their ``SLURM_JOB_ID``) and those picked in the cluster view
(``pick_jobs``), through one ``core.jobs.watch.SlurmWatch``: one GPU collector per such
job, the time-limit check and the hang/straggler/idle-GPU alerts. It costs nothing while
no run is linked and nothing is picked; when its last subscriber leaves, every
collector's ``srun`` step is stopped.

Each poll posts one message to every subscriber, then waits until each of them has
handled it (a callback queued behind the message on each node) before the next poll is
scheduled: polls never overlap or pile up behind a busy UI, and a poll that found
nothing new (still no runs) posts nothing at all.

The samplers' modules (NVML, psutil, the log readers) are imported on the poller
threads, on their first poll: the first frame does not wait for them. A poller starts
when its first view subscribes and stops when the last one leaves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from waitwise_tui.core.text import display
from waitwise_tui.ui.messages import ClusterUpdated, RunsUpdated, SystemUpdated
from waitwise_tui.ui.poller import Poller

if TYPE_CHECKING:
    from textual.message import Message
    from textual.message_pump import MessagePump

    from waitwise_tui.config import Settings
    from waitwise_tui.core.events import Event
    from waitwise_tui.core.gpu.host import HostSource
    from waitwise_tui.core.gpu.sampler import GpuInfo, SystemSnapshot
    from waitwise_tui.core.jobs.watch import ClusterSnapshot, SlurmWatch
    from waitwise_tui.core.runs.monitor import RunMonitor, RunsSnapshot
    from waitwise_tui.core.workspace import Workspace

# A reading this much older than the poll interval is not "the latest" any more: the
# probe and the notes snapshot then take one of their own (with the same sampler).
FRESH_SLACK_S = 1.0


class SystemSource(Protocol):
    """What takes a GPU + host reading (``core.gpu.sampler.SystemSampler``)."""

    def sample(self) -> SystemSnapshot: ...


class _Fakes(Protocol):
    @property
    def nvml(self) -> Any: ...
    @property
    def host(self) -> HostSource | None: ...
    @property
    def sampler(self) -> SystemSource | None: ...
    @property
    def runs_monitor(self) -> RunMonitor | None: ...
    @property
    def slurm_watch(self) -> SlurmWatch | None: ...


class _Context(Protocol):
    """What Live reads of ``AppContext`` (context.py builds Live, so no import here)."""

    workspace: Workspace
    settings: Settings
    options: dict[str, Any]

    @property
    def fakes(self) -> _Fakes: ...


class _Channel:
    """One kind of reading: its poller and the nodes it posts to.

    ``post`` sends one message to each subscriber and queues a callback behind it; the
    poller may go on once every callback has run (or at once when nobody listens). A
    node that subscribes later gets the last message posted, so it never waits a whole
    interval (or forever, while nothing changes) for its first one.
    """

    def __init__(
        self, name: str, message: Callable[..., Message], interval: Callable[[], float]
    ) -> None:
        self._name = name
        self._message = message
        self._interval = interval
        self._nodes: list[MessagePump] = []
        self._lock = threading.RLock()
        self._poller: Poller | None = None
        self._round = 0
        self._pending = 0
        self._last: tuple[Any, ...] | None = None  # the arguments of the last post

    @property
    def running(self) -> bool:
        return self._poller is not None

    def subscribe(self, node: MessagePump, work: Callable[[], None] | None) -> None:
        """Add ``node``; with ``work``, start polling if nobody polls yet."""
        with self._lock:
            if node not in self._nodes:
                self._nodes.append(node)
                if self._last is not None:
                    node.post_message(self._message(*self._last))
            if work is None or self._poller is not None:
                return
            poller = self._poller = Poller(work, self._interval, name=self._name)
        poller.start()

    def unsubscribe(self, node: MessagePump) -> None:
        with self._lock:
            if node in self._nodes:
                self._nodes.remove(node)
            poller = self._poller
            last = not self._nodes
            if last:
                self._poller = None
            self._round += 1  # that node's callback may never run: don't wait for it
        if poller is not None:
            if last:
                poller.stop()
            else:
                poller.handled()

    def post(self, *args: Any) -> None:
        """One message to every subscriber; the next poll waits until all handled it."""
        with self._lock:
            self._last = args
            self._round += 1
            round_ = self._round
            self._pending = 0
            for node in list(self._nodes):
                if node.post_message(self._message(*args)) and node.call_later(self._ack, round_):
                    self._pending += 1
            idle = self._pending == 0
        if idle:
            self.skip()

    def skip(self) -> None:
        """Nothing to post this time: the next poll may be scheduled."""
        poller = self._poller
        if poller is not None:
            poller.handled()

    def poke(self) -> None:
        poller = self._poller
        if poller is not None:
            poller.poke()

    def _ack(self, round_: int) -> None:
        with self._lock:
            if round_ != self._round:
                return
            self._pending -= 1
            if self._pending > 0:
                return
        self.skip()


@dataclass(frozen=True)
class ChartRequest:
    """The loss chart a view shows: which lines, its size, options and colours.

    ``key`` names the request; the chart that answers it comes back in
    ``RunsUpdated.chart`` with that key."""

    run_names: tuple[str, ...]
    metrics: tuple[str, ...]
    width: int
    height: int
    options: Any
    colours: tuple[tuple[int, int, int], ...]
    key: tuple


class Live:
    """The GPU + host sampler and the run monitor of the app, and their latest readings.

    The loss chart is drawn here too, on the runs poller's thread right after the poll
    that read the new points (``request_chart``): a log line reaches the screen through
    one thread and one message."""

    def __init__(self, ctx: _Context) -> None:
        self._ctx = ctx
        self._sample_lock = threading.Lock()  # one sample() at a time, whoever asks
        self._sampler: SystemSource | None = None
        self._setup_problem: str | None = None
        self._system: tuple[float, SystemSnapshot] | None = None  # (monotonic, reading)
        self._runs_lock = threading.Lock()
        self._run_monitor: RunMonitor | None = None
        self._runs: RunsSnapshot | None = None
        self._runs_empty_posted = False  # the last runs reading posted had nothing in it
        self._watched_run: str | None = None
        self._chart_request: ChartRequest | None = None
        self._chart_drawn: tuple | None = None  # (request key, data counts) drawn last
        # GPU alerts tied to a run, judged on the system poller after each reading
        # (core.runs.gpu_alerts); built on its first poll. ``event_sink`` takes the
        # events they raise (the app posts them as ``RecordEvent``).
        self._gpu_alerts: Any = None
        self._writer_cpu: Any = None
        self.event_sink: Callable[[Event], None] | None = None
        # Lasting conditions shown in the monitor's status line until cleared (a
        # notification channel that keeps failing), by who set them.
        self._notices: dict[str, str] = {}
        self._system_channel = _Channel("waitwise-monitor", SystemUpdated, self._system_interval)
        self._runs_channel = _Channel("waitwise-runs", RunsUpdated, self._runs_interval)
        self._cluster_lock = threading.Lock()  # one poll (or stop) of the watch at a time
        self._slurm_watch: SlurmWatch | None = None
        self._picked: frozenset[str] | None = frozenset()  # None: all running jobs
        self._listing = False
        self._cluster: ClusterSnapshot | None = None
        self._cluster_channel = _Channel("waitwise-slurm", ClusterUpdated, self._cluster_interval)

    # -- subscribing -----------------------------------------------------------------

    def subscribe_system(self, node: MessagePump) -> None:
        """Send ``node`` every GPU + host reading (``SystemUpdated``); starts sampling."""
        self._system_channel.subscribe(node, self._poll_system)

    def subscribe_runs(self, node: MessagePump, *, start: bool = True) -> None:
        """Send ``node`` every runs reading (``RunsUpdated``). ``start=False`` only
        listens: the runs are polled once a view that shows them subscribes (the run
        panel, mounted after the first frame: its readers are not imported before)."""
        with self._runs_lock:
            if start and not self._runs_channel.running:
                self._runs_empty_posted = False  # a new poller: post its first reading
        self._runs_channel.subscribe(node, self._poll_runs if start else None)

    def subscribe_cluster(self, node: MessagePump) -> None:
        """Send ``node`` every reading of the watched Slurm jobs (``ClusterUpdated``)."""
        self._cluster_channel.subscribe(node, self._poll_cluster)

    def pick_jobs(self, job_ids: tuple[str, ...] | None, *, listing: bool = False) -> None:
        """Watch these Slurm jobs too (the cluster view's pick; None: all the user's
        running jobs; () to drop them). ``listing``: list the user's running jobs in
        each reading (``ClusterSnapshot.running``) for the view to pick from."""
        self._picked = None if job_ids is None else frozenset(job_ids)
        self._listing = listing
        self._cluster_channel.poke()

    @property
    def cluster(self) -> ClusterSnapshot | None:
        """The latest reading of the watched Slurm jobs; None before the first."""
        return self._cluster

    def unsubscribe(self, node: MessagePump) -> None:
        """Stop sending to ``node``; a poller nobody listens to any more stops."""
        self._system_channel.unsubscribe(node)
        self._runs_channel.unsubscribe(node)
        self._cluster_channel.unsubscribe(node)
        if not self._cluster_channel.running and self._slurm_watch is not None:
            # Nobody watches: stop the jobs' streams, off the event loop.
            threading.Thread(target=self._stop_cluster, name="waitwise-slurm-stop").start()

    def poll_system(self) -> None:
        """Sample now rather than at the end of the current interval."""
        self._system_channel.poke()

    # -- the latest readings ---------------------------------------------------------

    @property
    def system(self) -> SystemSnapshot | None:
        """The latest GPU + host reading; None before the first."""
        return self._system[1] if self._system is not None else None

    @property
    def runs(self) -> RunsSnapshot | None:
        """The latest training-runs reading; None before the first."""
        return self._runs

    def system_now(self) -> SystemSnapshot | None:
        """The latest reading while it is fresh, else one taken now with the same
        sampler; None when sampling fails. May block on NVML: call it off the event loop."""
        latest = self._system
        if latest is not None and time.monotonic() - latest[0] <= self._fresh_for():
            return latest[1]
        try:
            return self._sample()
        except Exception:  # the caller goes on without GPU readings
            return None

    def gpus_now(self) -> tuple[GpuInfo, ...]:
        """The GPUs of ``system_now()``; () without NVML. Off the event loop."""
        snapshot = self.system_now()
        if snapshot is None or not snapshot.nvml.ok:
            return ()
        return snapshot.gpus

    def gpu_probe(self) -> list[tuple[int, int, int | None]]:
        """The job runner's GPU probe (``core.jobs.local.GpuProbe``) over these readings."""
        from waitwise_tui.core.gpu.sampler import probe_readings

        snapshot = self.system_now()
        if snapshot is None:
            return []
        return probe_readings(snapshot.nvml, snapshot.gpus)

    @property
    def chart_request(self) -> ChartRequest | None:
        """The chart drawn after each runs poll (a modal that draws its own puts this
        one back when it closes)."""
        return self._chart_request

    def request_chart(self, request: ChartRequest | None) -> None:
        """Draw ``request``'s chart now (on the runs poller) and after every poll that
        brings its runs new points."""
        self._chart_request = request
        self._runs_channel.poke()

    def watch_run(self, name: str | None) -> None:
        """The run the user is looking at (the run panel's selection)."""
        self._watched_run = name

    def training_eta(self) -> float | None:
        """Seconds until the watched run ends: its ETA, else the longest ETA among the
        runs; None when no run knows its end."""
        snapshot = self._runs
        runs = snapshot.runs if snapshot is not None else ()
        watched = next((run for run in runs if run.name == self._watched_run), None)
        if watched is not None and watched.eta_seconds is not None:
            return watched.eta_seconds
        etas = [run.eta_seconds for run in runs if run.eta_seconds is not None]
        return max(etas) if etas else None

    @property
    def run_monitor(self) -> RunMonitor:
        """The run monitor (built on first use: its readers import on that thread)."""
        with self._runs_lock:
            if self._run_monitor is None:
                injected = self._ctx.fakes.runs_monitor
                if injected is not None:
                    self._run_monitor = injected
                else:
                    from waitwise_tui.core.runs.monitor import RunMonitor
                    from waitwise_tui.core.runs.totals import TotalStore

                    self._run_monitor = RunMonitor(
                        self._ctx.workspace.root,
                        self._ctx.options.get("run_paths") or (),
                        health=self._ctx.settings.health_config(),
                        totals=TotalStore(self._ctx.workspace.db_path),
                    )
            return self._run_monitor

    # -- publishing --------------------------------------------------------------------

    def publish_system(self, snapshot: SystemSnapshot | None, problem: str | None = None) -> None:
        """Keep ``snapshot`` as the latest reading and send it to the subscribers."""
        if snapshot is not None:
            self._system = (time.monotonic(), snapshot)
        self._system_channel.post(snapshot, problem)

    def publish_runs(self, snapshot: RunsSnapshot) -> None:
        """Keep ``snapshot`` as the latest runs reading and send it to the subscribers."""
        self._runs = snapshot
        self._runs_channel.post(snapshot, None)

    def set_notice(self, key: str, text: str | None) -> None:
        """Show ``text`` in the status line (the monitor's header) until it is set to
        None; any thread may call it."""
        if text is None:
            self._notices.pop(key, None)
        else:
            self._notices[key] = text
        self._system_channel.poke()

    def _problem(self) -> str | None:
        parts = [self._setup_problem, *list(self._notices.values())]
        return "; ".join(p for p in parts if p) or None

    # -- polling (on the pollers' threads) ---------------------------------------------

    def _system_interval(self) -> float:
        return max(0.1, float(self._ctx.settings.interval))

    def _runs_interval(self) -> float:
        return float(self._ctx.settings.interval)

    def _cluster_interval(self) -> float:
        from waitwise_tui.core.jobs.slurm import SlurmConfig

        config, _problems = SlurmConfig.from_table(self._ctx.settings.slurm)
        return max(0.1, float(config.gpu_watch_seconds))

    def _fresh_for(self) -> float:
        return self._system_interval() + FRESH_SLACK_S

    def _make_sampler(self) -> SystemSource:
        fakes = self._ctx.fakes
        if fakes.sampler is not None:
            return fakes.sampler
        from waitwise_tui.core.gpu.sampler import SystemSampler, nvml_from_env

        nvml = fakes.nvml
        if nvml is None:
            try:
                nvml = nvml_from_env()
            except ValueError as exc:  # a bad $WAITWISE_FAKE_NVML: say so, use NVML
                self._setup_problem = str(exc)
        return SystemSampler(nvml, host=fakes.host, disk_path=self._ctx.workspace.root)

    def _sample(self) -> SystemSnapshot:
        with self._sample_lock:
            if self._sampler is None:
                self._sampler = self._make_sampler()
            snapshot = self._sampler.sample()
            self._system = (time.monotonic(), snapshot)
        return snapshot

    def _poll_system(self) -> None:
        try:
            snapshot = self._sample()
        except Exception as exc:  # a poll must never take the app down; say why instead
            self.publish_system(None, self._problem() or f"monitor poll failed: {exc}")
            return
        self._judge_gpus(snapshot)
        self.publish_system(snapshot, self._problem())

    def _judge_gpus(self, snapshot: SystemSnapshot) -> None:
        """Raise the GPU alerts of the runs' GPUs in ``snapshot`` (to ``event_sink``)."""
        sink = self.event_sink
        runs = self._runs
        if sink is None or not snapshot.nvml.ok:
            return
        try:
            if self._gpu_alerts is None:
                from waitwise_tui.core.runs.gpu_alerts import GpuAlerts, WriterCpu

                self._gpu_alerts = GpuAlerts(self._ctx.settings.gpu_alert_config())
                self._writer_cpu = WriterCpu()
            loads = self._writer_cpu.loads(runs.runs if runs is not None else ())
            events = self._gpu_alerts.update(snapshot.time, snapshot.gpus, loads)
        except Exception as exc:  # an alert bug must not stop the monitor
            self._setup_problem = f"GPU alerts failed: {exc}"
            return
        for event in events:
            sink(event)

    def _poll_runs(self) -> None:
        try:
            snapshot = self.run_monitor.poll()
        except Exception as exc:  # keep polling; say what failed once per poll
            self._runs_channel.post(None, str(exc))
            return
        chart = self._draw_chart(snapshot)
        empty = not snapshot.runs and not snapshot.new_alerts
        if empty and self._runs_empty_posted and chart is None:
            self._runs = snapshot
            self._runs_channel.skip()  # still no runs: nothing to redraw, no message
            return
        self._runs_empty_posted = empty
        self._runs = snapshot
        self._runs_channel.post(snapshot, None, chart)

    def _make_watch(self) -> SlurmWatch:
        injected = self._ctx.fakes.slurm_watch
        if injected is not None:
            return injected
        from waitwise_tui.core.jobs.gpus import JobGpuCollector, read_allocation
        from waitwise_tui.core.jobs.slurm import SlurmConfig
        from waitwise_tui.core.jobs.watch import SlurmWatch, StoreLinks

        config, _problems = SlurmConfig.from_table(self._ctx.settings.slurm)
        timeout = config.command_timeout

        def collector(allocation):  # type: ignore[no-untyped-def]
            return JobGpuCollector(
                allocation,
                config.gpu_command,
                transport=config.gpu_transport,
                seconds=config.gpu_watch_seconds,
                timeout=timeout,
            )

        return SlurmWatch(
            make_collector=collector,
            read_allocation=lambda job_id: read_allocation(job_id, timeout=timeout),
            job_of_path=StoreLinks(self._ctx.workspace),
            lead_s=config.time_limit_lead_minutes * 60.0,
            signal=config.time_limit_signal,
        )

    def _poll_cluster(self) -> None:
        runs = self._runs.runs if self._runs is not None else ()
        try:
            with self._cluster_lock:
                if self._slurm_watch is None:
                    self._slurm_watch = self._make_watch()
                watch = self._slurm_watch
                watch.pick(self._picked, listing=self._listing)
                snapshot, events = watch.poll(runs)
        except Exception as exc:  # keep polling; say what failed
            self._cluster_channel.post(None, f"Slurm watch failed: {exc}")
            return
        previous, self._cluster = self._cluster, snapshot
        quiet = previous is not None and not previous.jobs and not snapshot.jobs
        if quiet and not events and previous.problem == snapshot.problem:  # type: ignore[union-attr]
            self._cluster_channel.skip()  # still nothing watched: no message
            return
        self._cluster_channel.post(snapshot, snapshot.problem, tuple(events))

    def _stop_cluster(self) -> None:
        with self._cluster_lock:
            if not self._cluster_channel.running and self._slurm_watch is not None:
                self._slurm_watch.stop()

    def _draw_chart(self, snapshot: RunsSnapshot) -> tuple[str, tuple] | None:
        """The requested chart, when the request or its data changed since last drawn."""
        request = self._chart_request
        if request is None:
            return None
        counts = tuple(
            (run.name, metric.name, metric.count)
            for run in snapshot.runs
            if run.name in request.run_names
            for metric in run.metrics
        )
        drawn = (request.key, counts)
        if drawn == self._chart_drawn:
            return None
        try:
            ansi = self.run_monitor.chart(
                request.run_names,
                request.metrics,
                request.width,
                request.height,
                request.options,
                request.colours,
            )
        except Exception as exc:  # a chart bug must not stop the monitor
            ansi = f"chart failed: {display(exc)}"  # parsed as ANSI: no ESC of its own
        self._chart_drawn = drawn
        return ansi, request.key


__all__ = ["ChartRequest", "Live", "SystemSource"]
