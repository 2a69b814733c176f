"""LocalBackend: runs jobs on this machine, detached, under the shim.

The job row is written (and claimed) before the process starts. Each job runs in its
own session so it survives the app; ``poll`` reattaches by pid plus process start time
(a reused pid is not mistaken for the job), collects ``exit.json``, marks a job whose
process vanished without one as lost, enforces timeouts and escalates cancels from
SIGTERM to SIGKILL. Free GPUs are leased in the database and handed to the job as
``CUDA_VISIBLE_DEVICES``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable

from waitwise_tui.core.jobs import model
from waitwise_tui.core.jobs.backend import BackendBase, read_json, resolve_argv, shim_argv
from waitwise_tui.core.jobs.model import Job
from waitwise_tui.core.workspace import Workspace

# (index, memory_used_mib, util_percent or None) per GPU; [] when there is no GPU.
GpuProbe = Callable[[], list[tuple[int, int, int | None]]]

# A "starting" job with no pid after this long lost its runner mid-spawn.
_SPAWN_STALE_SECONDS = 30.0


def default_gpu_probe() -> GpuProbe:
    """A probe with an NVML sampler of its own, for headless use (the CLI); the app
    passes the probe of its live readings instead (``ui/live.py``: one sampler)."""
    from waitwise_tui.core.gpu.sampler import GpuSampler, nvml_from_env, probe_readings

    sampler = GpuSampler(nvml_from_env())

    def probe() -> list[tuple[int, int, int | None]]:
        return probe_readings(*sampler.sample())

    return probe


class LocalBackend(BackendBase):
    """Start, watch and stop the local jobs of one workspace."""

    name = "local"

    def __init__(
        self,
        workspace: Workspace,
        conn: sqlite3.Connection,
        *,
        gpu_probe: GpuProbe | None = None,
        free_memory_mib: int = 1024,
        free_util_percent: int = 10,
        grace_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(workspace, conn, clock=clock)
        self._probe = gpu_probe
        self.free_memory_mib = free_memory_mib
        self.free_util_percent = free_util_percent
        self.grace_seconds = grace_seconds
        # Shims this process spawned, kept so they are reaped (no zombies).
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    # -- submitting ---------------------------------------------------------------

    def _start(self, job: Job) -> None:
        self._try_start(job, self._free_gpus() if job.gpus_requested else [])

    def _free_gpus(self) -> list[int] | None:
        """Indexes of free, unleased GPUs; None when the machine has no GPU at all."""
        if self._probe is None:
            try:
                self._probe = default_gpu_probe()
            except ImportError:
                self._probe = list
        readings = self._probe()
        if not readings:
            return None
        leased = self.store.leased_gpus()
        return [
            index
            for index, used_mib, util in readings
            if index not in leased
            and used_mib <= self.free_memory_mib
            and (util is None or util <= self.free_util_percent)
        ]

    def _try_start(self, job: Job, free: list[int] | None) -> bool:
        gpus: list[int] = []
        if job.gpus_requested and free is not None:
            if len(free) < job.gpus_requested:
                return False
            gpus = free[: job.gpus_requested]
        now = self.clock()
        if not self.store.transition(
            job.id,
            model.QUEUED,
            model.STARTING,
            started=now,
            attempts=job.attempts + 1,
            gpus=",".join(map(str, gpus)),
            pid=None,
            pid_start_time=None,
            exit_code=None,
            reason="",
            cancel_requested=None,
            cancel_reason="",
        ):
            return False  # another runner claimed it
        if gpus and not self.store.lease(job.id, gpus):
            self.store.transition(job.id, model.STARTING, model.QUEUED, attempts=job.attempts)
            return False
        if free is not None:
            del free[: len(gpus)]
        try:
            proc = self._spawn(job, gpus, job.attempts + 1)
        except OSError as exc:
            self.store.release(job.id)
            self.store.transition(
                job.id,
                model.STARTING,
                model.FAILED,
                reason=f"cannot start: {exc}",
                finished=self.clock(),
            )
            return True
        try:
            import psutil

            create_time: float | None = psutil.Process(proc.pid).create_time()
        except Exception:
            create_time = None
        self._children[job.id] = proc
        self.store.transition(
            job.id, model.STARTING, model.RUNNING, pid=proc.pid, pid_start_time=create_time
        )
        return True

    def _spawn(self, job: Job, gpus: list[int], attempt: int) -> subprocess.Popen[bytes]:
        if not os.path.isdir(job.workdir):
            raise OSError(f"working directory {job.workdir} does not exist")
        argv = resolve_argv(job.argv)
        if shutil.which(argv[0], path=os.environ.get("PATH")) is None and not os.path.exists(
            os.path.join(job.workdir, argv[0])
        ):
            raise OSError(f"command not found: {argv[0]}")
        jobdir = self._prepare_jobdir(job, attempt)
        env = self._job_env(job)
        if gpus:
            env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"
            env["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, gpus))
        return subprocess.Popen(
            shim_argv(jobdir, argv),
            cwd=job.workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    # -- watching -------------------------------------------------------------------

    def poll(self) -> list[Job]:
        """Start queued jobs, check running ones; returns the jobs that ended now."""
        self._reap()
        ended: list[Job] = []
        for job in self.store.in_state(model.STARTING, model.RUNNING, backend=self.name):
            final = self._check(job)
            if final is not None:
                ended.append(final)
        queued = self.store.in_state(model.QUEUED, backend=self.name)
        if queued:
            free = self._free_gpus() if any(j.gpus_requested for j in queued) else None
            for job in queued:
                self._try_start(job, free)
        return ended

    def _reap(self) -> None:
        for job_id, proc in list(self._children.items()):
            if proc.poll() is not None:
                del self._children[job_id]

    def _check(self, job: Job) -> Job | None:
        now = self.clock()
        jobdir = self.jobdir(job.id)
        exit_record = read_json(jobdir / "exit.json")
        if exit_record is not None:
            return self._finish(job, exit_record)
        if job.state == model.STARTING and job.pid is None:
            shim = read_json(jobdir / "shim.json")
            if shim is not None and _alive(shim.get("pid"), None):
                # The runner died between spawn and recording the pid: adopt the shim.
                import psutil

                pid = int(shim["pid"])
                with contextlib.suppress(psutil.Error):
                    created = psutil.Process(pid).create_time()
                    self.store.transition(
                        job.id, model.STARTING, model.RUNNING, pid=pid, pid_start_time=created
                    )
                return None
            if now - (job.started or now) < _SPAWN_STALE_SECONDS:
                return None
            return self._finish(job, None)
        if not _alive(job.pid, job.pid_start_time):
            self._reap()
            exit_record = read_json(jobdir / "exit.json")
            return self._finish(job, exit_record)
        if job.cancel_requested is None:
            timeout = job.timeout_seconds
            if timeout is not None and job.started is not None and now - job.started > timeout:
                self._request_cancel(job, f"timed out after {timeout:g} s")
        elif now - job.cancel_requested > self.grace_seconds:
            _signal_group(job, signal.SIGKILL)
        return None

    def _finish(self, job: Job, record: dict[str, object] | None) -> Job | None:
        fields: dict[str, object] = {"finished": self.clock()}
        retry = False
        fresh = self.store.get(job.id) or job
        cancel_reason = fresh.cancel_reason
        exit_code = record.get("exit_code") if record else None
        signum = record.get("signal") if record else None
        if record and record.get("error"):
            state, reason = model.FAILED, f"cannot start: {record['error']}"
            fields["exit_code"] = exit_code
        elif fresh.cancel_requested is not None:
            timed_out = cancel_reason.startswith("timed out")
            state = model.FAILED if timed_out else model.CANCELLED
            reason = cancel_reason
            fields["exit_code"] = exit_code
        elif record is None:
            state, reason = model.LOST, "process vanished without exit.json"
            retry = job.attempts < job.max_attempts
        elif exit_code == 0:
            state, reason = model.DONE, ""
            fields["exit_code"] = 0
        elif signum is not None:
            state, reason = model.FAILED, f"killed by signal {signum}"
            retry = job.attempts < job.max_attempts
        else:
            state, reason = model.FAILED, f"exit code {exit_code}"
            fields["exit_code"] = exit_code
        self.store.release(job.id)
        if retry:
            self.store.transition(job.id, job.state, model.QUEUED, reason=f"retrying: {reason}")
            return None
        if not self.store.transition(job.id, job.state, state, reason=reason, **fields):
            return None  # another runner finished it first
        return self.store.get(job.id)

    # -- controlling ------------------------------------------------------------------

    def cancel(self, job_id: int, reason: str = "cancelled") -> bool:
        """Cancel a queued job now, or SIGTERM a running one (SIGKILL after the grace)."""
        job = self.store.get(job_id)
        if job is None or not job.active:
            return False
        if job.state == model.QUEUED:
            return self.store.transition(
                job_id, model.QUEUED, model.CANCELLED, reason=reason, finished=self.clock()
            )
        self._request_cancel(job, reason)
        return True

    def _request_cancel(self, job: Job, reason: str) -> None:
        self.store.update(job.id, cancel_requested=self.clock(), cancel_reason=reason)
        _signal_group(job, signal.SIGTERM)


def _alive(pid: object, start_time: float | None) -> bool:
    """Is ``pid`` running and (when known) the process that started at ``start_time``?"""
    if not isinstance(pid, int):
        return False
    import psutil

    try:
        proc = psutil.Process(pid)
        if start_time is not None and abs(proc.create_time() - start_time) > 0.05:
            return False
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _signal_group(job: Job, signum: int) -> None:
    # Only signal the group if the pid is still our shim (never a reused pid).
    if job.pid is None or not _alive(job.pid, job.pid_start_time):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(job.pid, signum)
