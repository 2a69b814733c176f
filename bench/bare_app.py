"""The baseline for the app benchmarks: a bare Textual app showing one Static."""

from textual.app import App, ComposeResult
from textual.widgets import Static


class Bare(App):
    def compose(self) -> ComposeResult:
        yield Static("bare-app-ready")


if __name__ == "__main__":
    Bare().run()
