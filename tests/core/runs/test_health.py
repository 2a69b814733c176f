"""Health alerts, each from crafted data, each firing once per condition; status and ETA."""

from __future__ import annotations

import math

import numpy as np
import pytest

from waitwise_tui.core.runs.health import HealthConfig, RunHealth
from waitwise_tui.core.runs.series import Series


class Feeder:
    """A run with a fake clock: ``add`` appends points and observes them."""

    def __init__(self, config: HealthConfig | None = None) -> None:
        self.health = RunHealth("run", config)
        self.series: dict[str, Series] = {}
        self.now = 1000.0
        self.step = 0

    def add(self, metric: str, values, *, advance: float = 1.0, progress=None):
        series = self.series.setdefault(metric, Series(metric))
        values = list(values)
        steps = np.arange(self.step + 1, self.step + 1 + len(values), dtype=float)
        self.step += len(values)
        series.append(steps, values)
        self.now += advance
        return self.health.observe(self.now, self.series, {metric: len(values)}, progress)

    def update(self, *, finished=False, gone=False, writer_alive=None, **facts):
        return self.health.update(
            self.now, finished=finished, gone=gone, writer_alive=writer_alive, **facts
        )


def kinds(alerts) -> list[str]:
    return [a.kind for a in alerts]


def test_nan_fires_once_per_metric():
    feed = Feeder()
    assert feed.add("loss", [1.0, 0.9]) == []
    alerts = feed.add("loss", [0.8, math.nan, 0.7])
    assert kinds(alerts) == ["nan"]
    assert alerts[0].metric == "loss" and alerts[0].step == 4.0
    assert "not finite" in alerts[0].message
    assert feed.add("loss", [math.inf, math.nan]) == []
    assert kinds(feed.add("acc", [math.nan])) == ["nan"]
    assert {a.kind for a in feed.health.active_alerts()} == {"nan"}


def test_divergence_fires_once_and_again_after_recovery():
    feed = Feeder(HealthConfig(warmup_points=32, plateau_min_points=10**9))
    assert feed.add("loss", np.linspace(1.0, 0.1, 64)) == []
    alerts = feed.add("loss", [0.9] * 32)
    assert kinds(alerts) == ["divergence"]
    assert "diverging" in alerts[0].message
    assert feed.add("loss", [1.5] * 16) == []
    assert feed.add("loss", [0.1] * 64) == []  # recovered: condition clears
    assert not feed.health.active_alerts()
    assert kinds(feed.add("loss", [2.0] * 64)) == ["divergence"]


def test_divergence_ignores_non_loss_metrics_warmup_and_single_spikes():
    feed = Feeder(HealthConfig(warmup_points=32))
    assert feed.add("acc", list(np.linspace(0.1, 0.9, 64)) + [5.0] * 16) == []
    early = Feeder(HealthConfig(warmup_points=32, plateau_min_points=10**9))
    assert early.add("loss", [1.0] * 8 + [0.1] * 8 + [5.0] * 8) == []
    spiky = Feeder(HealthConfig(warmup_points=32, plateau_min_points=10**9))
    assert spiky.add("loss", [*list(np.linspace(1.0, 0.1, 64)), 0.9]) == []


def test_plateau_fires_once_on_a_flat_curve_and_clears_on_improvement():
    rng = np.random.default_rng(0)
    feed = Feeder()
    assert feed.add("loss", np.linspace(2.0, 1.0, 100)) == []
    alerts = feed.add("loss", 1.0 + rng.random(400) * 0.01)
    assert kinds(alerts) == ["plateau"]
    assert "plateau" in alerts[0].message
    assert feed.add("loss", 1.0 + rng.random(50) * 0.01) == []
    assert feed.add("loss", np.linspace(1.0, 0.3, 200)) == []  # real improvement clears it
    assert ("plateau", "loss") not in feed.health.active


def test_no_plateau_while_the_smoothed_curve_still_falls():
    rng = np.random.default_rng(1)
    feed = Feeder()
    # Noisy mini-batch loss falling slowly: single batches are often worse than the best
    # before them, but the smoothed trend is down.
    steps = np.arange(2000)
    noisy = 2.0 * np.exp(-steps / 800) + 0.3 + rng.normal(0, 0.15, len(steps))
    for chunk in np.array_split(noisy, 40):
        assert feed.add("loss", chunk) == []


def test_plateau_judges_the_validation_loss_when_there_is_one():
    rng = np.random.default_rng(2)
    feed = Feeder()
    assert feed.add("val_loss", np.linspace(3.0, 2.0, 10)) == []
    flat_train = 0.5 + rng.normal(0, 0.001, 400)
    assert feed.add("train_loss", flat_train) == []  # the validation loss is judged
    assert kinds(feed.add("val_loss", np.linspace(2.0, 0.4, 30))) == []
    assert not feed.health.active_alerts()
    assert kinds(feed.add("val_loss", [0.4] * 40)) == ["plateau"]


def test_stall_needs_a_live_writer_a_long_gap_and_fires_once():
    feed = Feeder()
    for _ in range(5):
        feed.add("loss", [1.0])
        assert feed.update(writer_alive=True) == []
    assert feed.health.status == "live"
    feed.now += 40
    assert feed.update(writer_alive=True) == [] and feed.health.status == "idle"  # < 60 s
    feed.now += 25
    alerts = feed.update(writer_alive=True, writer_pid=42)
    assert kinds(alerts) == ["stall"] and feed.health.status == "stalled"
    assert "no new point" in alerts[0].message and "writer pid 42 alive" in alerts[0].message
    feed.now += 100
    assert feed.update(writer_alive=True) == []
    feed.add("loss", [0.9])
    assert feed.update(writer_alive=True) == [] and feed.health.status == "live"
    feed.now += 1000
    assert kinds(feed.update(writer_alive=True)) == ["stall"]


def test_quiet_without_an_identified_writer_is_idle_not_stalled():
    feed = Feeder()
    for _ in range(5):
        feed.add("loss", [1.0])
        feed.update()
    feed.now += 1000
    assert feed.update() == []
    assert feed.health.status == "idle"
    assert "no writer process identified" in feed.health.status_reason


def test_stall_threshold_scales_with_the_usual_interval():
    feed = Feeder()
    for _ in range(5):
        feed.add("loss", [1.0], advance=30.0)
        feed.update()
    assert feed.health.interval() == pytest.approx(30.0)
    assert feed.health.stall_seconds() == pytest.approx(150.0)
    feed.now += 100
    assert feed.update() == []


def test_writer_exit_before_a_known_total_is_a_crash():
    feed = Feeder()
    feed.add("loss", [1.0], progress=(1, 100))
    assert feed.update(writer_alive=True) == []
    alerts = feed.update(writer_alive=False, writer_pid=7)
    assert kinds(alerts) == ["crashed"] and feed.health.status == "crashed"
    assert feed.health.status_reason == "writer pid 7 exited before its total, at 1/100"
    assert feed.update(writer_alive=False) == []


def test_writer_exit_with_nothing_to_say_why_is_ended_without_an_alert():
    feed = Feeder()
    feed.add("loss", [1.0])
    feed.update(writer_alive=True)
    assert feed.update(writer_alive=False, writer_pid=7) == []
    assert feed.health.status == "ended"
    assert "exit status unknown" in feed.health.status_reason


def test_a_known_exit_is_the_final_word():
    feed = Feeder()
    feed.add("loss", [1.0], progress=(1, 100))
    feed.update(writer_alive=True)
    alerts = feed.update(writer_alive=False, exit_code=0, exit_source="exit.json")
    assert kinds(alerts) == ["finished"]
    assert feed.health.status_reason == "exit code 0 (exit.json) at 1/100"
    killed = Feeder()
    killed.add("loss", [1.0])
    killed.update()
    alerts = killed.update(writer_alive=None, exit_signal=9, exit_source="exit.json")
    assert kinds(alerts) == ["crashed"] and "killed by signal 9" in alerts[0].message


def test_a_crash_line_ending_the_log():
    feed = Feeder()
    feed.add("loss", [1.0])
    feed.update()
    alerts = feed.update(writer_alive=False, crash="RuntimeError: CUDA out of memory")
    assert kinds(alerts) == ["crashed"]
    assert feed.health.status_reason == "the log ends with: RuntimeError: CUDA out of memory"


def test_finished_by_marker_or_by_reaching_the_total():
    feed = Feeder()
    feed.add("loss", [1.0])
    feed.update(writer_alive=True)
    alerts = feed.update(finished=True, writer_alive=True)
    assert kinds(alerts) == ["finished"] and feed.health.status == "finished"
    assert feed.update(finished=True) == []

    done = Feeder()
    done.add("loss", [1.0] * 10, progress=(10, 10))
    done.update(writer_alive=True)
    assert kinds(done.update(writer_alive=False)) == ["finished"]


def test_historic_run_raises_no_run_level_alerts():
    feed = Feeder()
    feed.add("loss", [1.0])
    feed.now += 10_000
    assert feed.update(finished=True) == []
    assert feed.health.status == "finished"
    old = Feeder()
    old.add("loss", [1.0])
    old.now += 10_000
    assert old.update() == [] and old.health.status == "idle"


def test_gone():
    feed = Feeder()
    feed.add("loss", [1.0])
    feed.update(gone=True)
    assert feed.health.status == "gone"


def test_rate_and_eta_from_a_user_total():
    feed = Feeder()
    for _ in range(10):
        feed.add("loss", [1.0] * 10, advance=2.0)  # 10 steps every 2 s
        feed.update()
    assert feed.health.step_rate() == pytest.approx(5.0)
    assert feed.health.eta_seconds() is None
    feed.health.set_total(1000)
    assert feed.health.progress() == pytest.approx(0.1)
    assert feed.health.eta_seconds() == pytest.approx(900 / 5.0)


def test_eta_from_a_progress_bar():
    feed = Feeder()
    feed.add("loss", [1.0], progress=(10, 110), advance=1.0)
    feed.add("loss", [1.0], progress=(20, 110), advance=5.0)
    assert feed.health.progress() == pytest.approx(20 / 110)
    assert feed.health.eta_seconds() is None  # one rate sample is one poll's luck
    feed.add("loss", [1.0], progress=(30, 110), advance=5.0)
    feed.add("loss", [1.0], progress=(40, 110), advance=5.0)
    assert feed.health.eta_seconds() == pytest.approx(35.0)


def test_wall_times_in_the_log_date_a_first_read():
    health = RunHealth("run")
    series = Series("loss")
    now = 1_700_000_000.0
    walls = now - 3600 + np.arange(50) * 10.0  # written an hour ago, every 10 s
    series.append(np.arange(50.0), np.ones(50), walls)
    health.observe(now, {"loss": series}, {"loss": 50})
    assert health.age(now) == pytest.approx(3600 - 490)
    assert health.interval() == pytest.approx(10.0)
    assert health.step_rate() == pytest.approx(0.1)
    health.update(now, finished=False, gone=False, writer_alive=None)
    assert health.status == "idle"


def test_reset_lets_metric_alerts_fire_again():
    feed = Feeder()
    assert kinds(feed.add("loss", [math.nan])) == ["nan"]
    feed.health.reset()
    feed.series.clear()
    assert kinds(feed.add("loss", [math.nan])) == ["nan"]


def test_quiet_after_reaching_the_total_is_finished():
    feed = Feeder()
    feed.add("loss", [1.0] * 10, progress=(10, 10))
    feed.update()
    assert feed.health.status == "live"
    feed.now += 100
    assert kinds(feed.update()) == ["finished"]
    assert feed.health.status == "finished" and feed.health.eta_seconds() is None
