"""Theme files: the shipped ones load, broken ones are reported, user themes override."""

from __future__ import annotations

from waitwise_tui.ui.themes import builtin_themes_dir, load_theme_file, load_themes


def test_builtin_themes_load():
    themes, problems = load_themes([builtin_themes_dir()])
    assert problems == []
    assert {"waitwise-dark", "waitwise-light", "waitwise-contrast"} <= set(themes)
    assert themes["waitwise-light"].dark is False


def test_contrast_theme_uses_only_xterm256_exact_colours():
    # Every colour must be an exact entry of the xterm 256 palette (cube or grey ramp).
    cube = {0, 95, 135, 175, 215, 255}
    greys = {8 + 10 * i for i in range(24)}
    theme = load_theme_file(builtin_themes_dir() / "waitwise-contrast.toml")
    for name in (
        "primary",
        "secondary",
        "accent",
        "foreground",
        "background",
        "surface",
        "panel",
        "success",
        "warning",
        "error",
    ):
        value = getattr(theme, name)
        r, g, b = (int(value[i : i + 2], 16) for i in (1, 3, 5))
        assert {r, g, b} <= cube or (r == g == b and r in greys), (name, value)


def test_broken_theme_files_are_reported_not_raised(tmp_path):
    (tmp_path / "bad-toml.toml").write_text("name = ", encoding="utf-8")
    (tmp_path / "bad-colour.toml").write_text('name = "x"\nprimary = "notacolour"\n')
    (tmp_path / "no-primary.toml").write_text('name = "y"\n')
    (tmp_path / "unknown.toml").write_text('name = "z"\nprimary = "#fff"\nsparkle = 1\n')
    (tmp_path / "good.toml").write_text('name = "mine"\nprimary = "#ff8800"\n')
    themes, problems = load_themes([tmp_path])
    assert list(themes) == ["mine"]
    assert len(problems) == 4
    assert all("\n" not in p for p in problems)
    assert any("notacolour" in p for p in problems)


def test_user_theme_overrides_builtin_by_name(tmp_path):
    (tmp_path / "dark.toml").write_text('name = "waitwise-dark"\nprimary = "#123456"\n')
    themes, _ = load_themes([builtin_themes_dir(), tmp_path])
    assert themes["waitwise-dark"].primary == "#123456"
