"""Help that helps (issue 23): -h everywhere, a help verb, pages within 80 columns, commands
grouped by purpose, an example for every verb, and --release beside the two --version."""

from __future__ import annotations

import click
import pytest

from cli_helpers import run
from codex_install.cli import cli


def _paths(group: click.Group = cli, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            found += _paths(cmd, (*path, name))
        else:
            found.append((*path, name))
    return found


PAGES = _paths()


@pytest.mark.parametrize("path", PAGES, ids=lambda p: " ".join(p) or "top")
@pytest.mark.parametrize("columns", ["40", "80", "200"])
def test_every_page_answers_h_within_80_columns(env, path, columns):
    result = run({**env, "COLUMNS": columns}, *path, "-h")
    assert result.exit_code == 0, result.output
    assert result.stdout == run({**env, "COLUMNS": columns}, *path, "--help").stdout
    too_wide = [line for line in result.stdout.splitlines() if len(line) > 80]
    assert too_wide == []


@pytest.mark.parametrize("path", [p for p in PAGES if p], ids=" ".join)
def test_every_verb_shows_an_example_and_the_help_verb_shows_the_same_page(env, path):
    page = run(env, *path, "-h").stdout
    assert "\n    codex-install " in page or "\n    " in page.split("Options:")[0], page
    assert run(env, "help", *path).stdout == page


@pytest.mark.parametrize("path", [p for p in PAGES if p and p[0] != "help"], ids=" ".join)
def test_every_command_takes_q_and_v(path):
    cmd: click.Command = cli
    for name in path:
        assert isinstance(cmd, click.Group)
        cmd = cmd.commands[name]
    if isinstance(cmd, click.Group):
        return
    names = {p.name for p in cmd.params}
    assert {"quiet", "verbose", "color"} <= names, path


def test_the_top_page_groups_commands_by_purpose_and_names_codex_launch(env):
    page = run(env, "-h").stdout
    sections = [line for line in page.splitlines() if line.endswith(":") and not line[0].isspace()]
    assert sections == ["Options:", "Everyday:", "Releases:", "Sign-in:", "Packaging:", "Shell:"]
    assert page.index("  install") < page.index("  ls-remote") < page.index("  homebrew")
    assert "codex-launch" in page
    assert len(page.splitlines()) <= 60  # install's options are on `help install`
    assert "--release VERSION" in page and "-V, --version" in page


def test_help_of_an_unknown_command_is_one_line_with_the_nearest(env):
    result = run(env, "help", "instal")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "codex-install: error: no command 'instal'; did you mean install? "
        "(see `codex-install help`)"
    ]


@pytest.mark.parametrize("where", [(), ("install",), ("ls-remote",)])
def test_a_typod_source_is_one_line_in_our_style_with_did_you_mean(env, where):
    result = run(env, *where, "--source", "githb")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "codex-install: error: unknown source 'githb'; did you mean github? "
        "(choose auto, github, mirror, npm)"
    ]


def test_a_typod_source_under_json_is_still_one_json_object(env):
    import json

    result = run(env, "--json", "--source", "githb")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["exit_code"] == 2


def test_version_alone_is_ours_and_release_or_version_with_a_value_is_codexs(env, server):
    from builders import package_release
    from cli_helpers import codex_version
    from codex_install import __version__

    assert run(env, "--version").stdout == f"codex-install {__version__}\n"
    package_release("0.168.0").publish_github(server, latest=False)
    package_release("0.169.0").publish_github(server)
    assert run(env, "--release", "0.168.0", "--no-login").exit_code == 0
    assert codex_version(env) == "codex-cli 0.168.0"
    assert run(env, "install", "--version", "0.169.0", "--no-login").exit_code == 0
    assert codex_version(env) == "codex-cli 0.169.0"
