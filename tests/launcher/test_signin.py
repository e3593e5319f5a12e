"""Every branch of the first sign-in (SPEC §10), driven against the fake codex."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from codex_install.auth.manager import AuthManager
from codex_install.auth.state import read_credential_state
from codex_install.signin import SignInResult, first_sign_in
from servers.oauth import FakeTokenEndpoint

from .conftest import API_KEY, Sandbox


def sign_in(
    sandbox: Sandbox,
    *,
    interactive: bool = False,
    no_login: bool = False,
    answer: str = "",
    env: dict[str, str] | None = None,
    codex: Path | None = None,
    platform: str = "linux",
) -> tuple[SignInResult, str]:
    """Run the flow; returns the result and everything it showed the user (echo + prompt)."""
    shown = io.StringIO()
    result = first_sign_in(
        sandbox.paths,
        codex=sandbox.codex if codex is None else codex,
        env=sandbox.env if env is None else env,
        interactive=interactive,
        no_login=no_login,
        echo=lambda line: shown.write(line + "\n"),
        prompt_in=io.StringIO(answer),
        prompt_out=shown,
        platform=platform,
    )
    return result, shown.getvalue()


def assert_key_never_leaked(sandbox: Sandbox, *texts: Any) -> None:
    for text in texts:
        assert API_KEY not in json.dumps(text) if not isinstance(text, str) else API_KEY not in text
    for run in sandbox.runs():
        assert all(API_KEY not in arg for arg in run["argv"])


def poison(sandbox: Sandbox, token_server: FakeTokenEndpoint) -> None:
    """Drive a permanent refresh failure so the poison is persisted in CODEX_HOME."""
    sandbox.sign_in_chatgpt(expires_in=60)
    token_server.respond(400, {"error": {"code": "refresh_token_expired"}})
    with AuthManager(sandbox.codex_home, env=sandbox.env) as manager:
        assert manager.ensure_fresh().kind == "poisoned"
    assert len(token_server.requests) == 1


# --- already signed in ---


def test_already_signed_in_with_api_key_says_which_key(sandbox: Sandbox) -> None:
    sandbox.sign_in_api_key()
    result, shown = sign_in(sandbox, interactive=True)
    assert result.state == "signed_in"
    assert result.who == "API key ***WXYZ"
    assert shown == "Signed in to Codex as API key ***WXYZ.\n"
    assert sandbox.runs() == []
    assert_key_never_leaked(sandbox, shown, result.to_json())


def test_already_signed_in_with_chatgpt_says_email_and_plan(sandbox: Sandbox) -> None:
    sandbox.sign_in_chatgpt()
    result, shown = sign_in(sandbox, env={**sandbox.env, "OPENAI_API_KEY": API_KEY})
    assert (result.state, result.who) == ("signed_in", "ada@example.com (pro plan)")
    assert "ada@example.com (pro plan)" in shown
    assert sandbox.runs() == []


def test_already_signed_in_is_reported_even_with_no_login(sandbox: Sandbox) -> None:
    sandbox.sign_in_api_key()
    result, _ = sign_in(sandbox, no_login=True)
    assert result.state == "signed_in"


# --- API key from the environment, non-interactive ---


@pytest.mark.parametrize("variable", ["OPENAI_API_KEY", "CODEX_API_KEY"])
def test_api_key_is_piped_to_codex_login_on_stdin(sandbox: Sandbox, variable: str) -> None:
    result, shown = sign_in(sandbox, env={**sandbox.env, variable: API_KEY})
    assert result.state == "api_key_login"
    assert result.who == "API key ***WXYZ"
    [run] = sandbox.runs()
    assert run["argv"] == ["login", "--with-api-key"]
    assert run["stdin"].strip() == API_KEY
    assert run["secrets_in_env"] == []  # the key reaches codex on stdin only
    assert run["codex_home"] == str(sandbox.codex_home)
    assert json.loads(sandbox.auth_file.read_text())["OPENAI_API_KEY"] == API_KEY
    assert f"${variable}" in shown
    assert_key_never_leaked(sandbox, shown, result.to_json(), result.message)


def test_api_key_login_writes_into_the_chosen_codex_home(sandbox: Sandbox, tmp_path: Path) -> None:
    # --codex-home differs from $CODEX_HOME: codex must write where we read it back.
    other = tmp_path / "other-home"
    other.mkdir()
    paths = sandbox.paths.__class__(codex_home=other, bin_dir=sandbox.bin_dir, cache_dir=tmp_path)
    result = first_sign_in(
        paths,
        codex=sandbox.codex,
        env={**sandbox.env, "OPENAI_API_KEY": API_KEY},
        interactive=False,
        no_login=False,
        echo=lambda line: None,
    )
    assert result.state == "api_key_login"
    assert (other / "auth.json").exists()
    assert not sandbox.auth_file.exists()


def test_failed_api_key_login_is_reported_without_the_key(sandbox: Sandbox) -> None:
    env = {**sandbox.env, "OPENAI_API_KEY": API_KEY, "FAKE_CODEX_LOGIN_FAIL": "1"}
    result, shown = sign_in(sandbox, env=env)
    assert result.state == "failed"
    assert "exit 1" in result.message and "invalid API key ***" in result.message
    assert_key_never_leaked(sandbox, shown, result.to_json())


def test_api_key_login_is_verified_by_reading_auth_json(sandbox: Sandbox) -> None:
    env = {**sandbox.env, "OPENAI_API_KEY": API_KEY, "FAKE_CODEX_LOGIN_NOWRITE": "1"}
    result, _ = sign_in(sandbox, env=env)
    assert result.state == "failed"
    assert "auth.json" in result.message


def test_missing_codex_is_a_failed_result_not_an_exception(sandbox: Sandbox) -> None:
    result, shown = sign_in(
        sandbox, env={**sandbox.env, "OPENAI_API_KEY": API_KEY}, codex=sandbox.root / "nope"
    )
    assert result.state == "failed"
    assert_key_never_leaked(sandbox, shown, result.to_json())


def test_malformed_auth_json_is_a_failed_result_not_an_exception(sandbox: Sandbox) -> None:
    sandbox.auth_file.write_text("{not json")
    result, _ = sign_in(sandbox)
    assert result.state == "failed"
    assert sandbox.auth_file.read_text() == "{not json"


# --- nobody to ask, no key ---


def test_non_interactive_without_key_prints_how_to_sign_in(sandbox: Sandbox) -> None:
    result, shown = sign_in(sandbox)
    assert result.state == "instructions"
    assert not result.signed_in
    assert "codex login" in shown and "--device-auth" in shown and "OPENAI_API_KEY" in shown
    assert sandbox.runs() == []


# --- skipping ---


def test_no_login_skips_silently_even_with_a_key(sandbox: Sandbox) -> None:
    result, shown = sign_in(sandbox, no_login=True, env={**sandbox.env, "OPENAI_API_KEY": API_KEY})
    assert result.state == "skipped"
    assert shown == ""
    assert sandbox.runs() == []


def test_codex_non_interactive_skips_without_a_key(sandbox: Sandbox) -> None:
    result, shown = sign_in(
        sandbox, interactive=True, env={**sandbox.env, "CODEX_NON_INTERACTIVE": "1"}
    )
    assert result.state == "skipped"
    assert shown == ""
    assert sandbox.runs() == []


def test_codex_non_interactive_with_a_key_uses_the_key(sandbox: Sandbox) -> None:
    # SPEC §6: CODEX_NON_INTERACTIVE implies --no-login *unless an API key is in the environment*.
    env = {**sandbox.env, "CODEX_NON_INTERACTIVE": "1", "OPENAI_API_KEY": API_KEY}
    result, _ = sign_in(sandbox, interactive=True, env=env)
    assert result.state == "api_key_login"


# --- interactive ---


def test_interactive_yes_runs_codex_login_in_the_browser(sandbox: Sandbox) -> None:
    result, shown = sign_in(sandbox, interactive=True, answer="\n")
    assert "opens your browser" in shown and "Choose 1-4" in shown
    assert [r["argv"] for r in sandbox.runs()] == [["login"]]
    assert (result.state, result.who) == ("login_ran", "dev@example.com (plus plan)")


@pytest.mark.parametrize(
    ("extra", "platform"),
    [({"SSH_CONNECTION": "1.2.3.4 5 6.7.8.9 22"}, "darwin"), ({"DISPLAY": ""}, "linux")],
)
def test_interactive_without_local_browser_uses_device_auth(
    sandbox: Sandbox, extra: dict[str, str], platform: str
) -> None:
    result, shown = sign_in(
        sandbox, interactive=True, answer="y\n", env={**sandbox.env, **extra}, platform=platform
    )
    assert "code to enter" in shown
    assert [r["argv"] for r in sandbox.runs()] == [["login", "--device-auth"]]
    assert result.state == "login_ran"


@pytest.mark.parametrize("answer", ["n\n", "no\n", ""])
def test_interactive_no_or_eof_declines(sandbox: Sandbox, answer: str) -> None:
    result, _ = sign_in(sandbox, interactive=True, answer=answer)
    assert result.state == "declined"
    assert "codex login" in result.message
    assert sandbox.runs() == []


def test_interactive_with_a_key_in_the_environment_offers_it(sandbox: Sandbox) -> None:
    env = {**sandbox.env, "OPENAI_API_KEY": API_KEY}
    result, shown = sign_in(sandbox, interactive=True, answer="k\n", env=env)
    assert "3) Use the API key in $OPENAI_API_KEY" in shown
    assert result.state == "api_key_login"
    assert [r["argv"] for r in sandbox.runs()] == [["login", "--with-api-key"]]
    assert_key_never_leaked(sandbox, shown, result.to_json())


def test_interactive_login_that_fails_is_reported(sandbox: Sandbox) -> None:
    env = {**sandbox.env, "FAKE_CODEX_LOGIN_FAIL": "1"}
    result, _ = sign_in(sandbox, interactive=True, answer="y\n", env=env)
    assert result.state == "failed"
    assert "`codex login` failed (exit 1)" in result.message


# --- poisoned ---


def test_poisoned_non_interactive_explains_why_in_one_line(
    sandbox: Sandbox, token_server: FakeTokenEndpoint
) -> None:
    poison(sandbox, token_server)
    result, shown = sign_in(sandbox)
    assert result.state == "poisoned"
    assert "your refresh token has expired" in result.message
    assert "Sign in again with `codex login`." in result.message
    assert "your refresh token has expired" in shown
    assert sandbox.runs() == []
    assert len(token_server.requests) == 1  # reading the state made no request


def test_poisoned_with_no_login_still_says_why(
    sandbox: Sandbox, token_server: FakeTokenEndpoint
) -> None:
    poison(sandbox, token_server)
    result, shown = sign_in(sandbox, no_login=True)
    assert result.state == "poisoned"
    assert "your refresh token has expired" in shown


def test_poisoned_interactive_explains_then_offers_login(
    sandbox: Sandbox, token_server: FakeTokenEndpoint
) -> None:
    poison(sandbox, token_server)
    result, shown = sign_in(sandbox, interactive=True, answer="y\n")
    assert shown.index("your refresh token has expired") < shown.index("Choose 1-4")
    assert result.state == "login_ran"
    # A new login is a material change of auth.json: the poison no longer applies.
    assert read_credential_state(sandbox.codex_home).kind == "chatgpt"
    assert len(token_server.requests) == 1


def test_poisoned_interactive_declined_stays_poisoned(
    sandbox: Sandbox, token_server: FakeTokenEndpoint
) -> None:
    poison(sandbox, token_server)
    result, _ = sign_in(sandbox, interactive=True, answer="n\n")
    assert result.state == "poisoned"


@pytest.mark.parametrize("logged_in", [True, False])
def test_in_keyring_mode_the_sign_in_is_verified_by_asking_codex(
    sandbox: Sandbox, logged_in: bool
) -> None:
    (sandbox.codex_home / "config.toml").write_text('cli_auth_credentials_store = "keyring"\n')
    env = {**sandbox.env, "OPENAI_API_KEY": API_KEY, "FAKE_CODEX_LOGIN_NOWRITE": "1"}
    if logged_in:
        env["FAKE_CODEX_LOGGED_IN"] = "1"
    result, _ = sign_in(sandbox, env=env)
    assert [r["argv"] for r in sandbox.runs()] == [["login", "--with-api-key"], ["login", "status"]]
    assert result.signed_in is logged_in
    assert not sandbox.auth_file.exists()  # nothing written behind Codex's back
