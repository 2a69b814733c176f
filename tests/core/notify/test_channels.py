"""Channel settings: parsing with one-line problems, redaction, the settings warning."""

from __future__ import annotations

import os

from hypothesis import given
from hypothesis import strategies as st

from waitwise_tui.config import Settings
from waitwise_tui.core.notify.channels import Channel, parse, redact_url

SECRET = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=12, max_size=40)


@given(scheme=st.sampled_from(["slack", "discord", "tgram", "ntfy", "mailto"]), token=SECRET)
def test_tokens_never_show_in_a_redacted_url(scheme, token):
    shown = redact_url(f"{scheme}://{token}/{token[::-1]}?key={token}")
    assert token not in shown and token[::-1] not in shown
    assert shown.startswith(f"{scheme}://")


@given(token=SECRET, port=st.integers(1, 65535))
def test_web_hooks_show_host_and_port_only(token, port):
    shown = redact_url(f"json://user:{token}@hooks.example:{port}/{token}?t={token}")
    assert shown.startswith(f"json://hooks.example:{port}/")
    assert token not in shown


@given(st.text(max_size=80))
def test_redaction_takes_anything(text):
    assert isinstance(redact_url(text), str)


def test_two_channels_of_one_service_are_told_apart():
    assert redact_url("ntfy://topic-a") != redact_url("ntfy://topic-b")


def test_parse_keeps_good_channels_and_names_bad_ones():
    config, problems = parse(
        [
            "ntfy://secret-topic",
            {"url": "json://h:1/x", "level": "info", "kinds": {"trial_finished": False}},
            {"url": "slack://tok", "level": "loud"},
            42,
            "not a url secret-ish",
        ],
        {"level": "critical", "digest_after": 5, "retries": -1, "colour": "red"},
    )
    assert [c.level for c in config.channels] == ["critical", "info", "critical"]
    assert config.channels[1].kinds == {"trial_finished": False}
    assert config.digest_after == 5 and config.retries == 3
    assert len(problems) == 5
    assert all("secret" not in p for p in problems)


def test_channel_wants_its_level_and_kinds():
    channel = Channel("ntfy://t", "warning", {"stall": False})
    assert channel.wants("critical", "nan", {})
    assert not channel.wants("info", "finished", {})
    assert not channel.wants("warning", "stall", {})
    assert not channel.wants("warning", "divergence", {"divergence": False})


def test_settings_round_trip_and_warn_when_others_can_read_the_urls(_sandbox_config):
    settings = Settings(
        notify_urls=["ntfy://t", {"url": "json://h/x", "level": "info"}],
        notify={"digest_after": 4},
    )
    settings.save()
    loaded, problem = Settings.load()
    assert problem is None and loaded == settings
    assert [c.url for c in loaded.notify_config().channels] == ["ntfy://t", "json://h/x"]
    assert loaded.notify_config().digest_after == 4
    os.chmod(Settings.path(), 0o644)
    _loaded, problem = Settings.load()
    assert problem is not None and "chmod 600" in problem and "ntfy" not in problem


def test_bad_notify_settings_are_one_line_each(_sandbox_config):
    Settings.path().write_text('notify_urls = "ntfy://t"\n[notify]\nlevel = 3\n')
    settings, problem = Settings.load()
    assert settings.notify_urls == [] and settings.notify_config().channels == ()
    assert problem is not None and "notify_urls" in problem and "notify.level" in problem
