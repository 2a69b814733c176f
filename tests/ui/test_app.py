"""The app shell driven with Pilot: layout per size, every app binding, themes,
events, quitting. Sources are fake (NVML) or frozen (host, runs)."""

from __future__ import annotations

import sqlite3

import pytest
from fakes import make_app as build_app
from fakes import make_context, tabs_ready
from textual.color import Color
from textual.css.stylesheet import Stylesheet
from textual.widgets import TabbedContent
from waits import palette_finds, settle, wait_for

from waitwise_tui.config import Settings, config_dir
from waitwise_tui.core.events import Event
from waitwise_tui.ui.app import WaitwiseApp
from waitwise_tui.ui.messages import RecordEvent
from waitwise_tui.ui.monitor.runs import RunsPanel
from waitwise_tui.ui.monitor.system import SystemMonitor
from waitwise_tui.ui.screens import ConfirmScreen, HelpScreen
from waitwise_tui.ui.tabs import TABS, TabWidget

ONE_TAB = ("alternatives",)  # the quickest to build, where a test needs the tab pane there


def make_app(tmp_path, tabs=(), interval=10.0, **kwargs) -> WaitwiseApp:
    """The app with only ``tabs`` (the monitor alone by default: most tests here are
    about the app's own keys, themes and events); ``None`` builds every tab. The
    monitor polls once at start, then rarely: frames are drawn for what is tested."""
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    tab = kwargs.pop("initial_tab", None)
    theme = kwargs.pop("theme_override", None)
    ctx = make_context(ws, interval=interval, **kwargs)
    return build_app(ctx, tabs=tabs, initial_tab=tab, theme_override=theme)


@pytest.mark.parametrize(
    ("size", "wide"), [((80, 24), False), ((120, 40), False), ((200, 60), True)]
)
@pytest.mark.slow
async def test_layout_per_size(tmp_path, size, wide):
    app = make_app(tmp_path, tabs=ONE_TAB)
    async with app.run_test(size=size) as pilot:
        await tabs_ready(pilot)
        await pilot.pause()
        main = app.query_one("#main")
        assert main.has_class("wide") is wide
        assert not app.screen.has_class("too-small")
        monitor = app.query_one("#monitor-pane")
        assert monitor.region.width > 0 and monitor.region.height > 0
        if wide and TABS:
            todo = app.query_one("#todo")
            # Side by side: the tabs start right of the monitor pane.
            assert todo.region.x >= monitor.region.right
        elif TABS:
            assert app.query_one("#todo").region.y >= monitor.region.bottom


async def test_monitor_fills_the_screen_without_tabs(tmp_path, monkeypatch):
    monkeypatch.setattr("waitwise_tui.ui.app.TABS", [])
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await tabs_ready(pilot)
        await pilot.pause()
        assert not app.query("#todo")
        assert app.query_one("#monitor-pane").region.height >= 20


async def test_too_small_terminal_shows_one_line(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(50, 12)) as pilot:
        await tabs_ready(pilot)
        await pilot.pause()
        assert app.screen.has_class("too-small")
        notice = app.query_one("#too-small")
        assert notice.display and "need 60x16" in str(notice.render())
        assert app.query_one("#main").region.height == 0
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert not app.screen.has_class("too-small")


async def test_q_quits_when_nothing_is_busy(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await tabs_ready(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_quit_asks_when_a_tab_is_busy(tmp_path, monkeypatch):
    monkeypatch.setattr(TabWidget, "busy_reason", lambda self: "a test run")
    monkeypatch.setattr(WaitwiseApp, "tab_widgets", lambda self: [TabWidget(self.ctx)])
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await tabs_ready(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "a test run" in app.screen.question
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert app.is_running
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
    assert app.return_code == 0


async def test_help_lists_every_app_binding(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await tabs_ready(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        body = str(app.screen.query_one("#help-body").render())
        for binding_id in ("app.quit", "app.help", "app.demo", "runs.metric", "runs.log_y"):
            assert binding_id in body
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_keymap_from_settings_remaps_by_id(tmp_path):
    app = make_app(tmp_path)
    app.ctx.settings.keymap = {"app.help": "f1"}
    async with app.run_test(size=(100, 30)) as pilot:
        await tabs_ready(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


@pytest.mark.slow
@pytest.mark.skipif(not TABS, reason="no tab has landed yet")
async def test_number_keys_switch_tabs(tmp_path):
    app = make_app(tmp_path, tabs=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await tabs_ready(pilot)
        app.screen.set_focus(None)
        tabbed = app.query_one(TabbedContent)
        for number, spec in enumerate(TABS, 1):
            await pilot.press(str(number))
            await pilot.pause()
            assert tabbed.active == f"tab-{spec.name}"
            app.screen.set_focus(None)


@pytest.mark.skipif(not TABS, reason="no tab has landed yet")
async def test_tab_option_opens_that_tab(tmp_path):
    last = TABS[-1].name
    app = make_app(tmp_path, tabs=(TABS[0].name, last), initial_tab=last)
    async with app.run_test(size=(120, 40)) as pilot:
        await tabs_ready(pilot)
        await pilot.pause()
        assert app.query_one(TabbedContent).active == f"tab-{last}"


async def test_theme_switch_persists(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await tabs_ready(pilot)
        assert app.theme == "waitwise-dark"
        app.theme = "waitwise-light"
        await pilot.pause()
    assert Settings.load()[0].theme == "waitwise-light"


@pytest.mark.slow
async def test_theme_from_the_command_palette(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await tabs_ready(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"theme: waitwise-contrast")
        await palette_finds(pilot, "waitwise-contrast")
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == "waitwise-contrast"
    assert Settings.load()[0].theme == "waitwise-contrast"


async def test_theme_option_overrides_and_persists(tmp_path):
    app = make_app(tmp_path, theme_override="waitwise-contrast")
    async with app.run_test(size=(100, 30)):
        assert app.theme == "waitwise-contrast"
    assert Settings.load()[0].theme == "waitwise-contrast"


async def test_start_theme_is_styled_from_the_first_parse(tmp_path, monkeypatch):
    # The start theme is set before any CSS is parsed: one parse, no re-parse, and the
    # light theme's classes and colours are there from the first frame.
    reparses = []
    original = Stylesheet.reparse
    monkeypatch.setattr(Stylesheet, "reparse", lambda self: (reparses.append(1), original(self))[1])
    app = make_app(tmp_path, theme_override="waitwise-light")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert reparses == []
        assert app.has_class("-theme-waitwise-light", "-light-mode")
        assert not app.has_class("-dark-mode")
        theme = app.get_theme("waitwise-light")
        assert app.screen.styles.background == Color.parse(theme.background)
        app.theme = "waitwise-dark"  # a later switch still restyles everything
        await pilot.pause()
        assert reparses
        assert app.has_class("-theme-waitwise-dark", "-dark-mode")
        assert app.screen.styles.background == Color.parse(
            app.get_theme("waitwise-dark").background
        )


async def test_broken_user_theme_falls_back_with_a_notification(tmp_path):
    themes = config_dir() / "themes"
    themes.mkdir(parents=True)
    (themes / "broken.toml").write_text('name = "mine"\nprimary = "nope"\n')
    app = make_app(tmp_path, theme_override="mine")
    async with app.run_test(size=(100, 30)) as pilot:
        await tabs_ready(pilot)
        await pilot.pause()
        assert app.theme == "waitwise-dark"
        messages = [n.message for n in app._notifications]
        assert any("broken.toml" in m for m in messages)
        assert any("'mine' not found" in m for m in messages)


async def test_recorded_event_is_stored_notified_and_broadcast(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(TabWidget, "on_event_broadcast", lambda self, m: seen.append(m.event))
    app = make_app(tmp_path, tabs=ONE_TAB)
    db = tmp_path / "ws" / ".waitwise" / "waitwise.db"

    def stored() -> list[tuple]:
        if not db.exists():
            return []
        conn = sqlite3.connect(db)
        try:
            return conn.execute("SELECT kind, source, message FROM events").fetchall()
        except sqlite3.OperationalError:  # the table is being created
            return []
        finally:
            conn.close()

    async with app.run_test(size=(100, 30)) as pilot:
        await tabs_ready(pilot)
        event = Event("alert", "demo-run", "demo-run: loss is NaN at step 40", time=123.0)
        app.query_one(RunsPanel).post_message(RecordEvent(event))
        # The toast is raised by the handler; the row is written by a thread worker.
        # Collect what was shown while waiting, so a toast that times out on a slow
        # machine still counts, and a storage error shows up in the assertion.
        shown: set[str] = set()

        def stored_and_shown() -> bool:
            shown.update(n.message for n in app._notifications)
            return bool(stored()) and any("loss is NaN" in m for m in shown)

        await wait_for(pilot, stored_and_shown, "the event stored and its toast")
        assert any("loss is NaN" in m for m in shown), shown
        assert stored() == [("alert", "demo-run", "demo-run: loss is NaN at step 40")], shown
    if TABS:
        assert event in seen


@pytest.mark.slow
async def test_workspace_not_created_by_just_looking(tmp_path):
    app = make_app(tmp_path, tabs=None)  # every tab, each loading what it shows
    async with app.run_test(size=(100, 30)) as pilot:
        await tabs_ready(pilot)
        monitor, runs = app.query_one(SystemMonitor), app.query_one(RunsPanel)
        await wait_for(pilot, lambda: monitor.latest_snapshot and runs.snapshot, "first polls")
        await app.workers.wait_for_complete()
        await pilot.press("question_mark", "escape", "tab")
        await app.workers.wait_for_complete()
        await settle(pilot)
    assert not (tmp_path / "ws" / ".waitwise").exists()


async def test_demo_key_starts_a_demo_run(tmp_path, monkeypatch):
    started = []

    def fake_start(workspace, *args, **kwargs):
        started.append(workspace.root)
        return 4242, str(workspace.root / "demo.jsonl")

    monkeypatch.setattr("waitwise_tui.core.runs.demo.start_demo", fake_start)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await tabs_ready(pilot)
        app.screen.set_focus(None)
        await pilot.press("D")
        await wait_for(
            pilot,
            lambda: any("demo run started" in n.message for n in app._notifications),
            "the demo's toast",
        )
        assert started == [tmp_path / "ws"]


async def test_monitor_shows_fake_gpus(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await tabs_ready(pilot)
        monitor = app.query_one(SystemMonitor)
        await wait_for(pilot, lambda: monitor.latest_snapshot, "a GPU reading")
        assert len(monitor.latest_snapshot.gpus) == 2


@pytest.mark.slow
async def test_layout_key_cycles_panes(tmp_path):
    app = make_app(tmp_path, tabs=ONE_TAB)
    async with app.run_test(size=(100, 30)) as pilot:
        await tabs_ready(pilot)
        app.screen.set_focus(None)
        await pilot.press("M")
        await pilot.pause()
        assert app.query_one("#todo").region.height == 0
        assert app.query_one("#monitor-pane").region.height >= 25
        await pilot.press("M")
        await pilot.pause()
        assert app.query_one("#monitor-pane").region.height == 0
        await pilot.press("M")
        await pilot.pause()
        assert app.query_one("#monitor-pane").region.height > 0
        assert app.query_one("#todo").region.height > 0


@pytest.mark.parametrize(
    ("width", "compact", "tight"), [(80, True, True), (120, True, False), (200, False, False)]
)
@pytest.mark.slow
async def test_monitor_rendering_follows_the_layout(tmp_path, width, compact, tight):
    app = make_app(tmp_path, tabs=ONE_TAB)
    async with app.run_test(size=(width, 40)) as pilot:
        await tabs_ready(pilot)
        await pilot.pause()
        monitor = app.query_one(SystemMonitor)
        assert (monitor.force_compact, monitor.tight) == (compact, tight)
        if width == 120:
            # Split: GPU/host and the run panel side by side.
            runs = app.query_one(RunsPanel)
            assert runs.region.x >= monitor.region.right


@pytest.mark.slow
async def test_alerts_from_history_are_badges_but_new_ones_are_announced(tmp_path):
    import json

    ws = tmp_path / "ws"
    ws.mkdir()
    log = ws / "old.jsonl"
    log.write_text(
        "".join(json.dumps({"step": s, "loss": 1.0 / (s + 1)}) + "\n" for s in range(20))
        + '{"step": 20, "loss": NaN}\n'
    )
    app = build_app(make_context(ws, run_paths=[str(log)], frozen_runs=False), tabs=())
    async with app.run_test(size=(120, 40)) as pilot:
        await tabs_ready(pilot)
        panel = app.query_one(RunsPanel)
        first = await wait_for(
            pilot, lambda: panel.snapshot and panel.snapshot.runs and panel.snapshot
        )
        run = first.runs[0]
        assert any(alert.kind == "nan" for alert in run.alerts)  # the badge is there
        # Two more polls handled (and what they posted): still nothing announced.
        second = await wait_for(pilot, lambda: panel.snapshot is not first and panel.snapshot)
        await wait_for(pilot, lambda: panel.snapshot is not second)
        await settle(pilot)
        assert not any("NaN" in n.message or "nan" in n.message for n in app._notifications)
        # A run that is already being watched and goes wrong is announced.
        with log.open("a") as handle:
            for step in range(21, 40):
                handle.write(json.dumps({"step": step, "val_loss": 1e6 * step}) + "\n")
            handle.write('{"step": 40, "val_loss": Infinity}\n')
        await wait_for(
            pilot,
            lambda: any("val_loss" in n.message for n in app._notifications),
            "the new alert's toast",
        )
