"""`codex-install auth status` through click."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from codex_install.cli import cli
from servers.oauth import FakeTokenEndpoint

from .conftest import auth_env, chatgpt_auth, write_auth


def run(home: Path, oauth: FakeTokenEndpoint, *args: str):
    return CliRunner().invoke(cli, ["auth", "status", *args], obj={"env": auth_env(home, oauth)})


def test_status_json_is_the_get_auth_status_object(home: Path, oauth) -> None:
    data = chatgpt_auth(exp_in=3600)
    write_auth(home, data)
    result = run(home, oauth, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "authMethod": "chatgpt",
        "authToken": None,
        "requiresOpenaiAuth": True,
    }
    result = run(home, oauth, "--json", "--include-token")
    assert json.loads(result.stdout)["authToken"] == data["tokens"]["access_token"]


def test_status_text(home: Path, oauth) -> None:
    assert run(home, oauth).stdout.startswith("Signed out.")
    write_auth(home, chatgpt_auth(exp_in=3600, email="t@example.com", plan="pro"))
    assert run(home, oauth).stdout == "Signed in with ChatGPT as t@example.com (plan: pro).\n"
    write_auth(home, {"auth_mode": "apikey", "OPENAI_API_KEY": "sk-abc"})
    result = run(home, oauth)
    assert result.stdout == "Signed in with an API key.\n"
    assert "sk-abc" not in result.output


def test_status_refresh_reports_the_poison_reason(home: Path, oauth) -> None:
    data = chatgpt_auth(oauth.issue_refresh_token(), exp_in=60)
    write_auth(home, data)
    oauth.respond(400, {"error": {"code": "refresh_token_expired"}})
    result = run(home, oauth, "--refresh", "--include-token")
    assert result.exit_code == 8  # not signed in any more, as `codex login status` says
    assert "your refresh token has expired. Sign in again with `codex login`." in result.stdout
    assert data["tokens"]["access_token"] not in result.output
    assert oauth.count == 1


def test_malformed_auth_json_is_signed_out_with_one_line(home: Path, oauth) -> None:
    # As Codex's app-server answers (measured with 0.169.0): signed out, never an error.
    raw = '{"tokens": {"refresh_token": "rt-secret"'
    write_auth(home, raw)
    result = run(home, oauth, "--json", "--include-token", "--refresh")
    assert result.exit_code == 8, result.output  # signed out
    assert json.loads(result.stdout) == {
        "authMethod": None,
        "authToken": None,
        "requiresOpenaiAuth": True,
    }
    assert len(result.stderr.splitlines()) == 1
    assert "auth.json is not valid JSON" in result.stderr
    assert "rt-secret" not in result.output
    assert (home / "auth.json").read_text() == raw
    assert run(home, oauth).stdout.startswith("Signed out.")
    assert oauth.count == 0


def test_status_text_escapes_a_hostile_email_and_plan(home: Path, oauth) -> None:
    # The id_token is remote text: a newline in it must not forge a line of output.
    email = "t@example.com\ninstalled codex 9.9.9\x1b[2J" + "x" * 500
    write_auth(home, chatgpt_auth(exp_in=3600, email=email, plan="pro\r\ninstalled codex 9.9.9"))
    result = run(home, oauth)
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    assert line.startswith("Signed in with ChatGPT as t@example.com\\ninstalled codex 9.9.9\\x1b")
    assert line.endswith("xxx (plan: unknown).")  # an unknown plan type is not shown
    assert len(line) < 250
