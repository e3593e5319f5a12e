"""`codex-install login`: the first sign-in on its own, its exit codes and its JSON."""

from __future__ import annotations

import json
import sys

from click.testing import CliRunner, Result

from codex_install.cli import cli
from terminal_screen import Terminal

from .conftest import API_KEY, Sandbox


def invoke(sandbox: Sandbox, *args: str, env: dict[str, str] | None = None) -> Result:
    runner = CliRunner()
    return runner.invoke(cli, ["login", *args], obj={"env": env or sandbox.env}, input="")


def test_login_with_key_in_env_reports_json_and_exits_0(sandbox: Sandbox) -> None:
    result = invoke(sandbox, "--json", env={**sandbox.env, "OPENAI_API_KEY": API_KEY})
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == {
        "ok": True,
        "sign_in": {
            "state": "api_key_login",
            "signed_in": True,
            "who": "API key ***WXYZ",
            "message": "Signed in to Codex as API key ***WXYZ.",
        },
    }
    assert API_KEY not in result.output
    assert [r["argv"] for r in sandbox.runs()] == [["login", "--with-api-key"]]


def test_login_without_key_or_terminal_prints_instructions_and_exits_8(sandbox: Sandbox) -> None:
    result = invoke(sandbox, "--json")
    assert result.exit_code == 8
    assert json.loads(result.stdout)["sign_in"]["state"] == "instructions"
    assert "codex login" in result.stderr
    assert sandbox.runs() == []


def test_login_under_codex_non_interactive_says_how_to_sign_in(sandbox: Sandbox) -> None:
    result = invoke(sandbox, env={**sandbox.env, "CODEX_NON_INTERACTIVE": "1"})
    assert result.exit_code == 8
    assert "codex login" in result.stderr and "OPENAI_API_KEY" in result.stderr
    assert sandbox.runs() == []


def test_login_when_already_signed_in_says_who(sandbox: Sandbox) -> None:
    sandbox.sign_in_chatgpt()
    result = invoke(sandbox)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "Signed in to Codex as ada@example.com (pro plan)." in result.stderr


def test_login_honours_codex_home_option(sandbox: Sandbox) -> None:
    other = sandbox.root / "other"
    other.mkdir()
    env = {**sandbox.env, "OPENAI_API_KEY": API_KEY}
    result = invoke(sandbox, "--codex-home", str(other), env=env)
    assert result.exit_code == 0, result.output
    assert (other / "auth.json").exists()
    assert sandbox.runs()[0]["codex_home"] == str(other)


def test_login_failure_exits_1_without_the_key(sandbox: Sandbox) -> None:
    env = {**sandbox.env, "OPENAI_API_KEY": API_KEY, "FAKE_CODEX_LOGIN_FAIL": "1"}
    result = invoke(sandbox, env=env)
    assert result.exit_code == 1
    assert API_KEY not in result.output


def test_login_without_codex_installed_exits_3(sandbox: Sandbox) -> None:
    (sandbox.bin_dir / "codex").unlink()
    (sandbox.codex_home / "packages" / "standalone" / "current").unlink()
    result = invoke(sandbox)
    assert result.exit_code == 3
    assert "codex-install" in result.stderr


def test_login_on_a_terminal_prompts_and_runs_codex_login(sandbox: Sandbox) -> None:
    p = Terminal([sys.executable, "-m", "codex_install", "login"], sandbox.env)
    p.expect("Choose 1-4")
    p.send("y\n")
    assert p.finish() == 0, p.raw
    assert "Signed in to Codex as dev@example.com (plus plan)." in p.raw
    assert [r["argv"] for r in sandbox.runs()] == [["login"]]


def test_login_under_codex_non_interactive_with_a_key_uses_the_key(sandbox: Sandbox) -> None:
    env = {**sandbox.env, "CODEX_NON_INTERACTIVE": "1", "CODEX_API_KEY": API_KEY}
    result = invoke(sandbox, env=env)
    assert result.exit_code == 0, result.output
    assert "Signed in to Codex as API key ***WXYZ." in result.stderr
    assert [(r["argv"], r["stdin"]) for r in sandbox.runs()] == [
        (["login", "--with-api-key"], API_KEY + "\n")
    ]
