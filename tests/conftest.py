"""Test-wide fixtures: every test gets a private config dir, so no test reads or
writes the real user settings, and a private Hugging Face home, so no workspace scan
reads the user's trackio databases."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

# Hypothesis judges speed against a quiet machine; CI is two loaded cores, and xdist
# shares them. Examples keep their count; only the wall-clock health check goes.
settings.register_profile("waitwise", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("waitwise")


@pytest.fixture(autouse=True)
def _sandbox_config(tmp_path_factory, monkeypatch):
    config = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("WAITWISE_CONFIG_DIR", str(config))
    hf_home = tmp_path_factory.mktemp("hf_home")
    monkeypatch.setenv("HF_HOME", str(hf_home))
    monkeypatch.setenv("TRACKIO_DIR", str(hf_home / "trackio"))
    monkeypatch.delenv("WAITWISE_FAKE_NVML", raising=False)
    monkeypatch.delenv("TMUX", raising=False)
    return config


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """SVG snapshot tests render the whole app at two sizes: they run with the slow
    (integration) set, `pytest -m slow`, which CI runs after the default suite."""
    for item in items:
        if "snap_compare" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


from slurm_env import slurm  # noqa: E402,F401  (the fixture, for every test)
