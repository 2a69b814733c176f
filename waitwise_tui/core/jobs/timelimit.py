"""Will the run finish before its Slurm job's time limit?

A run linked to a Slurm job (the writer's ``SLURM_JOB_ID``, or a job the tuner
submitted) has an ETA (core/runs/health.py) and the job has an end time
(``scontrol show job``: ``EndTime``). :func:`check` compares them; :class:`TimeLimitWatch`
turns the verdicts into at most two core ``Event``s per job (the early warning, and the
lead-time one), and optionally sends the batch script a signal at the lead time
(``scancel --signal=USR1 --batch``: what Lightning's and submitit's requeue handlers
listen for).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from waitwise_tui.core import fmt
from waitwise_tui.core.events import ALERT, Event
from waitwise_tui.core.jobs.slurm_cli import SlurmError, run_tool

TIME_LIMIT = "time_limit"


@dataclass(frozen=True)
class TimeLimitVerdict:
    hits: bool  # the ETA runs past the job's end
    left_s: float  # seconds until the job's end
    short_by_s: float  # how much longer than the job's end the run would need
    step_at_end: float | None  # the step the run reaches when the job ends
    within_lead: bool  # the job ends within the lead time from now

    def message(self, job_id: str) -> str:
        at = f" at about step {fmt.step(self.step_at_end)}" if self.step_at_end else ""
        return (
            f"Slurm job {job_id} will hit the time limit{at},"
            f" {fmt.duration(self.short_by_s)} before it would finish"
            f" ({fmt.duration(self.left_s)} left)"
        )


def check(
    *,
    now: float,
    end_time: float | None,
    eta_s: float | None,
    step: float | None = None,
    step_rate: float | None = None,
    lead_s: float = 1800.0,
) -> TimeLimitVerdict | None:
    """None when nothing can be said (no end time, no ETA, the job already over)."""
    if end_time is None or eta_s is None or eta_s < 0:
        return None
    left = end_time - now
    if left <= 0:
        return None
    short = eta_s - left
    step_at_end = None
    if short > 0 and step is not None and step_rate is not None and step_rate > 0:
        step_at_end = step + step_rate * left
        # "about step 41,200": three significant figures, not a false precision
        digits = max(0, len(str(int(step_at_end))) - 3)
        step_at_end = float(round(step_at_end, -digits))
    return TimeLimitVerdict(
        hits=short > 0,
        left_s=left,
        short_by_s=max(0.0, short),
        step_at_end=step_at_end,
        within_lead=left <= lead_s,
    )


def signal_batch(job_id: str, signal: str, *, timeout: float = 30.0) -> None:
    """``scancel --signal=SIG --batch ID``: the batch script's shell gets the signal."""
    if not job_id.isdigit() or not signal.isalnum():
        raise SlurmError(f"bad job id or signal: {job_id!r} {signal!r}")
    run_tool(["scancel", f"--signal={signal}", "--batch", job_id], timeout=timeout)


@dataclass
class TimeLimitWatch:
    """Per job: one early warning as soon as the ETA runs past the end, one more at
    the lead time (with the signal, when configured). Feed it verdicts; it returns
    the events to record (kind ``alert``, data ``{"alert": "time_limit", ...}``)."""

    job_id: str
    run: str = ""
    signal: str = ""  # "" = off (the default)
    send_signal: Callable[[str, str], None] = field(
        default=lambda job_id, signal: signal_batch(job_id, signal)
    )
    warned: bool = False
    lead_warned: bool = False

    def update(self, verdict: TimeLimitVerdict | None, now: float) -> list[Event]:
        if verdict is None or not verdict.hits:
            return []
        events: list[Event] = []
        data = {
            "alert": TIME_LIMIT,
            "job_id": self.job_id,
            "run": self.run,
            "left_s": verdict.left_s,
            "short_by_s": verdict.short_by_s,
            "step_at_end": verdict.step_at_end,
        }
        if not self.warned:
            self.warned = True
            events.append(Event(ALERT, "slurm", verdict.message(self.job_id), now, dict(data)))
        if verdict.within_lead and not self.lead_warned:
            self.lead_warned = True
            message = verdict.message(self.job_id)
            if self.signal:
                try:
                    self.send_signal(self.job_id, self.signal)
                    message += f"; sent SIG{self.signal} to its batch script"
                    data["signal"] = self.signal
                except SlurmError as exc:
                    message += f"; could not send SIG{self.signal}: {exc}"
            if events:  # the first warning came at the lead time already: one event
                events[-1] = Event(ALERT, "slurm", message, now, data | {"lead": True})
            else:
                events.append(Event(ALERT, "slurm", message, now, data | {"lead": True}))
        return events
