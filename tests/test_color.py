"""Colour (issue 23): --color beside NO_COLOR, FORCE_COLOR and CLICOLOR_FORCE, in one place."""

from __future__ import annotations

import io

import pytest

from builders import package_release
from cli_helpers import install, run
from codex_install.config import color_choice
from codex_install.errors import UsageError
from codex_install.ui import Reporter


@pytest.mark.parametrize(
    ("flag", "env", "want"),
    [
        (None, {}, "auto"),
        (None, {"NO_COLOR": "1"}, "never"),
        (None, {"NO_COLOR": ""}, "auto"),  # no-color.org: set and not empty
        (None, {"FORCE_COLOR": "1"}, "always"),
        (None, {"FORCE_COLOR": "0"}, "auto"),
        (None, {"CLICOLOR_FORCE": "1"}, "always"),
        (None, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, "never"),
        ("always", {"NO_COLOR": "1"}, "always"),  # the flag wins
        ("never", {"FORCE_COLOR": "1"}, "never"),
    ],
)
def test_the_flag_then_no_color_then_force_color(flag, env, want):
    assert color_choice(flag, env) == want


def test_an_unknown_colour_is_a_usage_error():
    with pytest.raises(UsageError):
        color_choice("sometimes", {})


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("env", "coloured"),
    [
        ({"TERM": "xterm"}, True),
        ({"TERM": "xterm", "NO_COLOR": "1"}, False),
        ({"TERM": "dumb"}, False),
        ({"TERM": "dumb", "FORCE_COLOR": "1"}, True),
    ],
)
def test_the_progress_bar_follows_the_choice(env, coloured):
    from codex_install.config import Settings

    tty = _Tty()
    no_color = Settings.from_env(env).no_color
    update = Reporter(stream=tty, no_color=no_color).progress("a.tar.zst", 100)
    assert update is not None
    update(100, 100)
    assert ("\x1b[32m" in tty.getvalue()) is coloured


def test_force_color_colours_the_list_even_through_a_pipe(env, server):
    package_release("0.169.0").publish_github(server)
    assert install(env, "--version", "0.169.0").exit_code == 0
    plain = run(env, "list").stdout
    forced = run({**env, "FORCE_COLOR": "1"}, "list").stdout
    assert "\x1b" not in plain and "\x1b[32m" in forced  # the current row
    assert "\x1b" not in run({**env, "FORCE_COLOR": "1"}, "list", "--color", "never").stdout
