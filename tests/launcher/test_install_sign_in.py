"""`codex-install install`'s last step, the first sign-in (SPEC §6, §10), through the CLI:
a synthetic release on the loopback GitHub server whose codex is the fake one, so that what
`codex login --with-api-key` is given can be checked."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from builders import TARGET, package_release
from codex_install.cli import cli
from servers.fake_http import FakeHTTPServer

from .conftest import API_KEY, FAKE_CODEX

SCRIPT = (f"#!{sys.executable}\n" + FAKE_CODEX.read_text()).encode()


@pytest.fixture
def ci_env(env: dict[str, str], server: FakeHTTPServer, tmp_path: Path) -> dict[str, str]:
    """The shared install environment (CODEX_NON_INTERACTIVE=1, as CI images set it), a
    published 0.169.0 whose codex logs its runs, and nobody signed in."""
    assert env["CODEX_NON_INTERACTIVE"] == "1"
    package_release("0.169.0", script=SCRIPT).publish_github(server)
    return {**env, "FAKE_CODEX_LOG": str(tmp_path / "codex-runs.jsonl")}


def install(env: dict[str, str], *args: str) -> Result:
    argv = ["install", "--target", TARGET, "--version", "0.169.0", "--json", *args]
    return CliRunner().invoke(cli, argv, obj={"env": env}, input="")


def logins(env: dict[str, str]) -> list[dict[str, object]]:
    log = Path(env["FAKE_CODEX_LOG"])
    runs = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return [r for r in runs if r["argv"][:1] == ["login"]]


@pytest.mark.parametrize("variable", ["OPENAI_API_KEY", "CODEX_API_KEY"])
def test_non_interactive_install_pipes_the_key_in_the_environment_to_codex_login(
    ci_env: dict[str, str], variable: str
) -> None:
    result = install({**ci_env, variable: API_KEY})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sign_in"]["state"] == "api_key_login"
    assert "Signed in to Codex as API key ***WXYZ." in result.stderr.splitlines()
    assert [(r["argv"], r["stdin"]) for r in logins(ci_env)] == [
        (["login", "--with-api-key"], API_KEY + "\n")
    ]
    assert API_KEY not in result.output
    assert (Path(ci_env["CODEX_HOME"]) / "auth.json").exists()


def test_no_login_still_skips_the_sign_in_with_a_key_in_the_environment(
    ci_env: dict[str, str],
) -> None:
    result = install({**ci_env, "OPENAI_API_KEY": API_KEY}, "--no-login")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sign_in"]["state"] == "skipped"
    assert logins(ci_env) == []


def test_non_interactive_install_without_a_key_skips_the_sign_in(ci_env: dict[str, str]) -> None:
    result = install(ci_env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sign_in"]["state"] == "skipped"
    assert logins(ci_env) == []
