"""cli: the one place failures become one stderr line and an exit code, and the help text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_helpers import run


@pytest.mark.parametrize(
    ("raised", "code", "text"),
    [
        (RuntimeError("boom"), 1, "unexpected RuntimeError: boom"),
        (PermissionError(13, "Permission denied", "/opt/x"), 7, "Permission denied (/opt/x)"),
    ],
)
def test_untranslated_errors_are_one_line_with_an_exit_code(env, monkeypatch, raised, code, text):
    import codex_install.commands.install

    def explode(*_a: object, **_k: object) -> None:
        raise raised

    monkeypatch.setattr(codex_install.commands.install, "run", explode)
    result = run(env, "install", "--json")
    assert result.exit_code == code
    assert text in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert json.loads(result.stdout)["exit_code"] == code


@pytest.mark.parametrize(
    "args",
    [
        ("install", "--json", "--bogus"),
        ("--json", "--source", "nowhere"),
        ("resolve", "--json", "--version"),
        ("manifest", "verify", "--json"),
    ],
)
def test_usage_errors_under_json_still_print_one_json_object(env, args):
    # SPEC §6: a CI job that passes --json parses stdout; a typo must not leave it empty.
    result = run(env, *args)
    assert result.exit_code == 2
    assert json.loads(result.stdout)["exit_code"] == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("codex-install: error: ")


def test_usage_errors_without_json_keep_clicks_usage_text(env):
    result = run(env, "install", "--bogus")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "No such option '--bogus'" in result.stderr and "--help' for help" in result.stderr


def test_every_install_option_and_variable_the_readme_lists_is_in_the_help(env):
    import re

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("### Install options") : readme.index("Other environment")]
    help_text = " ".join(run(env, "install", "--help").stdout.split())
    rows = [line for line in table.splitlines() if line.startswith("| `-")]
    assert len(rows) >= 15
    for row in rows:
        option_cell, env_cell = row.split(" | ")[:2]
        for option in re.findall(r"`(-[-\w]+)", option_cell):
            assert option in help_text, option
        for variable in re.findall(r"`([A-Z][A-Z_]+)", env_cell):
            assert variable in help_text, f"{option_cell}: {variable}"


def _commands(group, path=()):
    import click

    for name, cmd in group.commands.items():
        yield (*path, name), cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*path, name))


def test_every_option_of_every_command_has_a_help_line():
    import click

    from codex_install.cli import cli

    missing = [
        f"{' '.join(path)} {param.opts[0]}"
        for path, cmd in [((), cli), *_commands(cli)]
        for param in cmd.params
        if isinstance(param, click.Option) and not (param.help or "").strip()
    ]
    assert missing == []


@pytest.mark.parametrize("args", [(), ("auth",), ("manifest",), ("mirror",)])
def test_command_summaries_are_never_cut_off_at_80_columns(env, args):
    result = run({**env, "COLUMNS": "80"}, *args, "--help")
    assert result.exit_code == 0
    commands = result.stdout[result.stdout.index("Commands:" if args else "Everyday:") :]
    assert "..." not in commands
    assert all(len(line) <= 80 for line in result.stdout.splitlines())


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_short_and_long_version_flags_print_the_version(env, flag):
    from codex_install import __version__

    result = run(env, flag)
    assert (result.exit_code, result.stdout) == (0, f"codex-install {__version__}\n")


@pytest.mark.parametrize(
    ("shell", "marker"),
    [("bash", "complete -o nosort -F"), ("zsh", "compdef"), ("fish", "complete --no-files")],
)
def test_completion_prints_clicks_script_for_each_shell(env, shell, marker):
    result = run(env, "completion", shell)
    assert result.exit_code == 0
    assert "_CODEX_INSTALL_COMPLETE" in result.stdout and marker in result.stdout


def test_completion_of_an_unknown_shell_is_a_usage_error(env):
    assert run(env, "completion", "tcsh").exit_code == 2


def test_the_bash_completion_answers_through_the_console_entry_point(env):
    import os
    import subprocess
    import sys

    code = "from codex_install.cli import main; main()"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={
            **os.environ,
            "_CODEX_INSTALL_COMPLETE": "bash_complete",
            "COMP_WORDS": "codex-install pr",
            "COMP_CWORD": "1",
        },
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["plain,prune"]  # the only command starting with "pr"


@pytest.mark.parametrize(
    "mirror",
    ["http://[bad\ninstalled codex 9.9.9", "http://[bad\x1b[2J\r", "http://[" + "x" * 5000],
    ids=["newline", "escape", "huge"],
)
def test_a_hostile_string_in_an_error_is_one_escaped_line_of_at_most_300(env, mirror):
    result = run(env, "resolve", "--mirror", mirror, "--json")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and len(lines[0]) <= 300
    assert "\x1b" not in result.stderr and "\r" not in result.stderr
    assert not any(line.startswith("installed codex") for line in result.output.splitlines())
    assert len(json.loads(result.stdout)["error"]) <= 300


@pytest.mark.parametrize("name", ["GITHUB_TOKEN", "GH_TOKEN"])
@pytest.mark.parametrize(
    "token", ["ghp_abc\ndef", "ghp_abc\rdef", "ghp_\u00e9t\u00e9", "ghp_\u2603"]
)
def test_a_malformed_github_token_is_exit_2_naming_the_variable_never_echoing_it(env, name, token):
    result = run({**env, name: token}, "resolve", "--json")
    assert result.exit_code == 2
    assert f"{name} is not a valid token" in result.stderr
    assert "ghp_" not in result.output
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("api_url", ["http://ghe.example/api/v3", "http://10.1.2.3/api/v3"])
def test_a_token_is_never_sent_over_plain_http_off_this_machine(env, api_url):
    env = {**env, "GITHUB_TOKEN": "ghp_secret", "CODEX_INSTALL_SOURCE": "github"}
    result = run(env, "resolve", "--github-api-url", api_url, "--json")
    assert result.exit_code == 2
    assert "refusing to send GITHUB_TOKEN/GH_TOKEN" in result.stderr
    assert "CODEX_INSTALL_ALLOW_HTTP_TOKEN=1" in result.stderr
    assert "ghp_secret" not in result.output


def test_a_bad_token_does_not_stop_commands_that_fetch_nothing(env):
    assert run({**env, "GITHUB_TOKEN": "ghp\nbad"}, "list").exit_code == 0


# --- error lines read cleanly (issue 15): never a "(… (…))" ---------------------------------

GOLDEN_MANIFEST = Path(__file__).parent / "golden" / "codex-1.2.3.toml"


def _depth(line: str) -> int:
    depth = deepest = 0
    for c in line:
        depth += {"(": 1, ")": -1}.get(c, 0)
        deepest = max(deepest, depth)
    return deepest


def _assert_flat(text: str) -> None:
    for line in text.splitlines():
        assert _depth(line) <= 1, line


def test_a_bad_proxy_is_one_flat_line(monkeypatch):
    from codex_install.errors import UsageError
    from codex_install.http.network import Network
    from codex_install.http.plan import NetworkPlan

    monkeypatch.setenv("ALL_PROXY", "ftp://proxy.example:21")  # as the libraries read it
    with pytest.raises(UsageError) as err:
        Network(NetworkPlan())
    assert "must each be an http:// proxy URL" in err.value.line()
    _assert_flat(err.value.line())


def test_a_manifest_without_the_target_lists_what_it_covers_flat(env):
    result = run(
        env, "install", "--no-login", "--target", "aarch64-unknown-linux-gnu",
        "--manifest", str(GOLDEN_MANIFEST),
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "; it covers aarch64-apple-darwin, aarch64-unknown-linux-musl," in result.stderr
    _assert_flat(result.stderr)


def test_windows_is_refused_in_one_flat_line():
    from codex_install.errors import UnsupportedPlatformError
    from codex_install.platforms import detect_target

    with pytest.raises(UnsupportedPlatformError) as err:
        detect_target("Windows", "AMD64")
    _assert_flat(err.value.line())
    assert "winget install OpenAI.Codex" in err.value.line()


def test_the_npm_fallback_notice_does_not_wrap_the_errors_hint(env, server, tmp_path, monkeypatch):
    from sources.npm_helpers import FakeRegistry, closed_port

    monkeypatch.chdir(tmp_path)
    registry = FakeRegistry(server).publish("0.169.0")
    dead = {**env, "GITHUB_API_URL": f"http://127.0.0.1:{closed_port()}"}
    result = run(
        {**dead, "NPM_CONFIG_REGISTRY": registry.url}, "install", "--no-login",
        "--target", "x86_64-unknown-linux-musl", "--version", "0.169.0",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "GitHub is unreachable: cannot" in result.stderr
    _assert_flat(result.stderr)
