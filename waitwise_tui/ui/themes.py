"""Theme files (TOML) loaded into Textual ``Theme`` objects.

Built-in themes ship inside the wheel (``waitwise_tui/themes``, copied from the
repository's top-level ``themes/``); users add their own in the config dir's
``themes/``. A broken file is reported and skipped, never fatal.
"""

from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

from waitwise_tui.config import user_themes_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_THEME = "waitwise-dark"
_COLOR_FIELDS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)


class ThemeError(ValueError):
    """A theme file that cannot be used; the message names the file and the field."""


def builtin_themes_dir() -> Path:
    packaged = Path(__file__).resolve().parent.parent / "themes"
    if packaged.is_dir():
        return packaged
    # Running from a source checkout: themes/ sits beside the package.
    return Path(__file__).resolve().parents[2] / "themes"


def load_theme_file(path: Path) -> Theme:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ThemeError(f"theme {path.name}: cannot read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ThemeError(f"theme {path.name}: invalid TOML ({exc})") from None
    return theme_from_dict(raw, source=path.name)


def theme_from_dict(raw: dict, *, source: str) -> Theme:
    known = {f.name for f in fields(Theme)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ThemeError(f"theme {source}: unknown field {unknown[0]!r}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ThemeError(f"theme {source}: 'name' must be a non-empty string")
    if not isinstance(raw.get("primary"), str):
        raise ThemeError(f"theme {source}: 'primary' colour is required")
    for key in _COLOR_FIELDS:
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ThemeError(f"theme {source}: {key!r} must be a colour string")
        try:
            Color.parse(value)
        except ColorParseError:
            raise ThemeError(f"theme {source}: {key!r} is not a colour: {value!r}") from None
    variables = raw.get("variables", {})
    if not isinstance(variables, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in variables.items()
    ):
        raise ThemeError(f"theme {source}: [variables] must map names to strings")
    for key in ("dark", "ansi"):
        if key in raw and not isinstance(raw[key], bool):
            raise ThemeError(f"theme {source}: {key!r} must be true or false")
    for key in ("luminosity_spread", "text_alpha"):
        if key in raw and not isinstance(raw[key], (int, float)):
            raise ThemeError(f"theme {source}: {key!r} must be a number")
    return Theme(**raw)


def load_themes(
    dirs: list[Path] | None = None,
) -> tuple[dict[str, Theme], list[str]]:
    """Load every ``*.toml`` theme from ``dirs`` (later dirs override earlier names).

    Returns (themes by name, one-line problems).
    """
    if dirs is None:
        dirs = [builtin_themes_dir(), user_themes_dir()]
    themes: dict[str, Theme] = {}
    problems: list[str] = []
    for directory in dirs:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ThemeError as exc:
                problems.append(str(exc))
                continue
            themes[theme.name] = theme
    return themes, problems
