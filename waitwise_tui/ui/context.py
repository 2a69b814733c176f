"""What every panel and tab is given: workspace, settings and start-up options."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from waitwise_tui.config import Settings
from waitwise_tui.core.workspace import Workspace


@dataclass
class AppContext:
    workspace: Workspace
    settings: Settings
    # Start-up options from the CLI, by name: "run_paths", "data_path", "project_dir", ...
    options: dict[str, Any] = field(default_factory=dict)
    # Injected backends for tests and screenshots (e.g. "nvml": a fake NVML module).
    backends: dict[str, Any] = field(default_factory=dict)
