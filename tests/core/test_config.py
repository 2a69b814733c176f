"""Settings file round trip and bad input; workspace creation is lazy."""

from __future__ import annotations

from waitwise_tui.config import Settings
from waitwise_tui.core.workspace import Workspace


def test_missing_file_gives_defaults():
    settings, problem = Settings.load()
    assert problem is None
    assert settings.interval == 1.0
    assert settings.theme == "waitwise-dark"


def test_save_and_load_round_trip():
    settings = Settings(interval=2.5, theme="waitwise-light", keymap={"app.quit": "x"})
    settings.save()
    loaded, problem = Settings.load()
    assert problem is None
    assert loaded == settings


def test_broken_toml_falls_back_with_one_line(_sandbox_config):
    (_sandbox_config / "settings.toml").write_text("interval = [", encoding="utf-8")
    settings, problem = Settings.load()
    assert settings == Settings()
    assert problem is not None and "\n" not in problem
    assert "settings.toml" in problem


def test_wrong_types_and_unknown_keys_are_reported_and_ignored(_sandbox_config):
    (_sandbox_config / "settings.toml").write_text(
        'interval = "fast"\ntheme = "waitwise-light"\nbogus = 1\nnotifications = "loud"\n',
        encoding="utf-8",
    )
    settings, problem = Settings.load()
    assert settings.interval == 1.0
    assert settings.theme == "waitwise-light"
    assert settings.notifications == "toast+bell"
    assert "interval" in problem and "bogus" in problem and "notifications" in problem


def test_interval_floor():
    settings, problem = Settings.from_dict({"interval": 0.01})
    assert settings.interval == 0.1
    assert "interval" in problem


def test_workspace_is_created_only_on_ensure(tmp_path):
    ws = Workspace(tmp_path)
    assert ws.db_path == tmp_path.resolve() / ".waitwise" / "waitwise.db"
    assert not ws.state_dir.exists()
    ws.ensure()
    assert ws.state_dir.is_dir()


def test_slurm_table_is_checked_key_by_key(_sandbox_config):
    (_sandbox_config / "settings.toml").write_text(
        '[slurm]\npartition = "gpu"\nextra_args = ["--exclusive"]\npoll_seconds = -1\n'
        "qos = 3\nbogus = 1\n",
        encoding="utf-8",
    )
    settings, problem = Settings.load()
    assert settings.slurm == {"partition": "gpu", "extra_args": ["--exclusive"]}
    assert problem is not None and "\n" not in problem
    assert "slurm.poll_seconds" in problem and "slurm.qos" in problem
    assert "slurm.bogus" in problem
    settings.save()  # the table survives a save of other settings
    again, problem = Settings.load()
    assert problem is None and again.slurm == settings.slurm
