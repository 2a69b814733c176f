"""The shared one-line prompt: answers, cancel, empty lines, validation, outside text."""

from __future__ import annotations

from typing import Any

import pytest
from rich.text import Text
from textual.app import App
from textual.events import Paste
from textual.widgets import Input, Label

from waitwise_tui.ui.prompts import TextPrompt


class PromptHarness(App):
    """Pushes one prompt and keeps every answer it gives."""

    def __init__(self, prompt: TextPrompt) -> None:
        super().__init__()
        self.prompt = prompt
        self.answers: list[Any] = []

    def on_mount(self) -> None:
        self.push_screen(self.prompt, self.answers.append)


async def wait_for(pilot, condition, timeout: float = 10.0) -> None:
    waited = 0.0
    while not condition():
        await pilot.pause(0.02)
        waited += 0.02
        assert waited < timeout, "condition not reached"


async def answer(prompt: TextPrompt, *keys: str) -> list[Any]:
    app = PromptHarness(prompt)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TextPrompt))
        await pilot.press(*keys)
        await pilot.pause()
        still_open = isinstance(app.screen, TextPrompt)
    return ["<open>"] if still_open else app.answers


async def test_enter_answers_the_stripped_line_and_the_initial_value_is_editable():
    # Focus selects the initial value (Textual's Input): typing replaces it, end keeps it.
    assert await answer(TextPrompt("Name?", "abc"), *" xy ", "enter") == ["xy"]
    assert await answer(TextPrompt("Name?", "abc"), "end", "backspace", *" xy ", "enter") == [
        "ab xy"
    ]


async def test_escape_cancels_with_none():
    assert await answer(TextPrompt("Name?", "abc"), "escape") == [None]


@pytest.mark.parametrize(
    ("empty", "expected"), [("cancel", [None]), ("answer", [""]), ("refuse", ["<open>"])]
)
@pytest.mark.slow
async def test_what_an_empty_line_means_is_the_callers_choice(empty, expected):
    assert await answer(TextPrompt("Name?", empty=empty), " ", "enter") == expected


async def test_a_refused_answer_shows_the_validators_line_and_keeps_the_prompt_open():
    def positive(text: str) -> str | None:
        return None if text.isdigit() and int(text) > 0 else f"not a positive number: {text}"

    app = PromptHarness(TextPrompt("How many?", validate=positive))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TextPrompt))
        await pilot.press(*"-3", "enter")
        await pilot.pause()
        error = app.screen.query_one("#prompt-error", Label)
        assert isinstance(app.screen, TextPrompt)
        assert error.display
        assert str(error.render()) == "not a positive number: -3"
        await pilot.press("ctrl+u", *"12", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, TextPrompt))
    assert app.answers == ["12"]


async def test_outside_text_is_shown_literally_never_as_markup_or_control():
    title = "Rename [bold]x[/] \x1b[2J?"
    app = PromptHarness(TextPrompt(title, hint="[@click=app.quit]hint[/]"))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TextPrompt))
        shown = str(app.screen.query_one("#prompt-title", Label).render())
        hint = str(app.screen.query_one("#prompt-hint", Label).render())
    assert shown == "Rename [bold]x[/] \\x1b[2J?"
    assert hint == "[@click=app.quit]hint[/]"


async def test_a_styled_title_is_kept_as_given():
    title = Text("Total steps", style="bold")
    app = PromptHarness(TextPrompt(title))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TextPrompt))
        assert app.screen.query_one("#prompt-title", Label).render() is not None
        assert app.screen.prompt_title is title


async def test_join_paste_keeps_a_multi_line_paste_as_one_line():
    for join, expected in ((True, "@misc{k, title = {x} }"), (False, "@misc{k,")):
        app = PromptHarness(TextPrompt("Quick add", join_paste=join))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda app=app: isinstance(app.screen, TextPrompt))
            field = app.screen.query_one("#prompt-input", Input)
            field.post_message(Paste("@misc{k,\n  title = {x}\n}"))
            await wait_for(pilot, lambda field=field: bool(field.value))
            assert field.value == expected


@pytest.mark.slow
async def test_the_run_total_prompt_refuses_non_positive_numbers_and_escape_keeps_the_total():
    from waitwise_tui.ui.monitor.runs import TotalScreen, parse_total

    assert await answer(TotalScreen("run-a"), *"1_000", "enter") == ["1_000"]
    assert parse_total("1_000") == 1000.0 and parse_total("1e5") == 100000.0
    assert parse_total("-3") is None and parse_total("nan") is None
    assert await answer(TotalScreen("run-a"), "enter") == [""]  # empty: clear the total
    assert await answer(TotalScreen("run-a"), "escape") == [None]  # cancel: keep it
    assert await answer(TotalScreen("run-a"), *"-3", "enter") == ["<open>"]
