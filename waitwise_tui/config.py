"""User settings (a TOML file in the platformdirs config dir) and workspace paths.

Settings are small and read at start-up; a broken file never stops the app: defaults
are used and the problem is reported as one line (``Settings.load`` returns it).
The workspace is the project directory the app runs in; its ``.waitwise/`` folder is
created only when something is first written there.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from waitwise_tui.core.atomic import atomic_write_text

if TYPE_CHECKING:
    from waitwise_tui.core.notify.channels import NotifyConfig
    from waitwise_tui.core.runs.gpu_alerts import GpuAlertConfig
    from waitwise_tui.core.runs.health import HealthConfig
    from waitwise_tui.core.tuner.service import RunnerOptions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

APP_NAME = "waitwise-tui"
CONFIG_ENV = "WAITWISE_CONFIG_DIR"
NOTIFICATION_STYLES = ("toast", "toast+bell", "quiet")


def config_dir() -> Path:
    """The user config dir; ``$WAITWISE_CONFIG_DIR`` overrides it (tests use this)."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False))


def user_themes_dir() -> Path:
    return config_dir() / "themes"


@dataclass
class Settings:
    """Everything a user may set in ``settings.toml``."""

    interval: float = 1.0
    theme: str = "waitwise-dark"
    # toast: Textual notification; toast+bell: also the terminal bell (and tmux
    # display-message inside tmux); quiet: badges only.
    notifications: str = "toast+bell"
    osc9: bool = False
    auto_journal: bool = True
    tests_python: str = ""
    tests_courteous: bool = True
    gpu_free_memory_mib: int = 1024
    gpu_free_util_percent: int = 10
    alt_online_lookup: bool = False
    # Data tab and `data`: read cells such as ?, NA, N/A, -, null as missing values.
    data_missing_tokens: bool = True
    keymap: dict[str, str] = field(default_factory=dict)
    # [slurm]: partition, account, qos, extra_args, poll_seconds, command_timeout,
    # retry_seconds (see core.jobs.slurm.SlurmConfig).
    slurm: dict[str, Any] = field(default_factory=dict)
    # Apprise URLs that alerts are sent to when no terminal is attached: strings, or
    # tables {url, level, kinds}; [notify]: level, kinds and delivery knobs (see
    # core.notify.channels.parse).
    notify_urls: list[Any] = field(default_factory=list)
    notify: dict[str, Any] = field(default_factory=dict)
    # [gpu_alerts]: thresholds of the GPU alerts tied to a run (input-bound, memory
    # headroom, throttling; see core.runs.gpu_alerts.GpuAlertConfig).
    gpu_alerts: dict[str, Any] = field(default_factory=dict)
    # [run_alerts]: thresholds of the run health alerts (plateau, divergence, stall,
    # status; see core.runs.health.HealthConfig).
    run_alerts: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def path(cls) -> Path:
        return config_dir() / "settings.toml"

    @classmethod
    def load(cls) -> tuple[Settings, str | None]:
        """Read settings; returns (settings, problem). Defaults fill what is missing."""
        path = cls.path()
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(), None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            return cls(), f"settings file {path} ignored: {exc}"
        settings, problem = cls.from_dict(raw)
        if settings.notify_urls and _readable_by_others(path):
            warning = (
                f"settings file {path} holds notification URLs (tokens) and is readable"
                f" by others: chmod 600 it"
            )
            problem = f"{problem}; {warning}" if problem else warning
        return settings, problem

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> tuple[Settings, str | None]:
        settings = cls()
        problems: list[str] = []
        known = {f.name: f for f in fields(cls)}
        for key, value in raw.items():
            if key not in known:
                problems.append(f"unknown setting {key!r}")
                continue
            default = getattr(settings, key)
            if key in ("slurm", "gpu_alerts", "run_alerts"):
                table = _sub_table(key, value, problems)
                if table is not None:
                    setattr(settings, key, table)
                continue
            if key in ("notify_urls", "notify"):
                from waitwise_tui.core.notify.channels import parse

                urls = value if key == "notify_urls" else raw.get("notify_urls", [])
                table = value if key == "notify" else raw.get("notify", {})
                _config, notify_problems = parse(urls, table)
                if key == "notify_urls" or "notify_urls" not in raw:
                    problems.extend(notify_problems)  # reported once, for both keys
                if isinstance(value, type(default)):
                    setattr(settings, key, value)
                continue
            if isinstance(default, bool):
                ok = isinstance(value, bool)
            elif isinstance(default, float):
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
                value = float(value) if ok else value
            elif isinstance(default, int):
                ok = isinstance(value, int) and not isinstance(value, bool)
            elif isinstance(default, dict):
                ok = isinstance(value, dict) and all(
                    isinstance(k, str) and isinstance(v, str) for k, v in value.items()
                )
            else:
                ok = isinstance(value, str)
            if not ok:
                problems.append(f"setting {key!r} has the wrong type ({type(value).__name__})")
                continue
            setattr(settings, key, value)
        if settings.interval < 0.1:
            problems.append("setting 'interval' below 0.1 s; using 0.1")
            settings.interval = 0.1
        if settings.notifications not in NOTIFICATION_STYLES:
            problems.append(
                f"setting 'notifications' must be one of {', '.join(NOTIFICATION_STYLES)}"
            )
            settings.notifications = "toast+bell"
        return settings, ("; ".join(problems) or None)

    def runner_options(self) -> RunnerOptions:
        """The job runner's share of the settings, as core takes it."""
        from waitwise_tui.core.tuner.service import RunnerOptions

        return RunnerOptions(
            free_memory_mib=self.gpu_free_memory_mib,
            free_util_percent=self.gpu_free_util_percent,
            slurm=dict(self.slurm),
        )

    def gpu_alert_config(self) -> GpuAlertConfig:
        """Thresholds of the GPU alerts tied to a run, as core takes them."""
        from waitwise_tui.core.runs.gpu_alerts import GpuAlertConfig

        return GpuAlertConfig.parse(self.gpu_alerts)[0]

    def health_config(self) -> HealthConfig:
        """Thresholds of the run health alerts, as core takes them."""
        from waitwise_tui.core.runs.health import HealthConfig

        return HealthConfig.parse(self.run_alerts)[0]

    def notify_config(self) -> NotifyConfig:
        """The notification channels and delivery options, as core takes them."""
        from waitwise_tui.core.notify.channels import parse

        return parse(self.notify_urls, self.notify)[0]

    def save(self) -> None:
        import tomli_w

        # A new file holding notification URLs (tokens) is for its owner's eyes only.
        mode = 0o600 if self.notify_urls else None
        atomic_write_text(self.path(), tomli_w.dumps(asdict(self)), mode=mode)


def _readable_by_others(path: Path) -> bool:
    if os.name != "posix":
        return False
    try:
        return bool(path.stat().st_mode & 0o044)
    except OSError:
        return False


def _sub_table(key: str, value: object, problems: list[str]) -> dict | None:
    """A ``[slurm]``, ``[gpu_alerts]`` or ``[run_alerts]`` table checked by its own
    parser: its problems are added to ``problems`` and the keys they name are dropped
    (their defaults stay); None when it is not a table at all."""
    if not isinstance(value, dict):
        problems.append(f"setting '{key}' must be a table")
        return None
    if key == "slurm":
        from waitwise_tui.core.jobs.slurm import SlurmConfig

        _parsed, found = SlurmConfig.from_table(value)
        named = "slurm.{}"  # "setting slurm.KEY must be ...", "unknown setting slurm.KEY"
    elif key == "gpu_alerts":
        from waitwise_tui.core.runs.gpu_alerts import GpuAlertConfig

        _parsed, found = GpuAlertConfig.parse(value)
        named = "gpu_alerts.{}:"
    else:
        from waitwise_tui.core.runs.health import HealthConfig

        _parsed, found = HealthConfig.parse(value)
        named = "run_alerts.{}:"
    problems.extend(found)
    return {k: v for k, v in value.items() if not any(named.format(k) in p for p in found)}
