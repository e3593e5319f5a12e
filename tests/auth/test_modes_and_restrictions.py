"""auth_mode exactly as Codex 0.171.0's AuthMode enum, and config.toml's forced_login_method /
forced_chatgpt_workspace_id (issue 22 items 2 and 4): the status answers Codex's app-server gave
on the same files (measured over stdio), through `codex-install auth serve` as a process. The
file itself is never touched."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from codex_install.auth.codexconfig import config_from, restriction
from servers.oauth import FakeTokenEndpoint, id_token

from .appserver import Session, talk
from .conftest import ROUTED, auth_env, chatgpt_auth, write_auth

SERVE = [sys.executable, "-m", "codex_install", "auth", "serve"]
KEY = "sk-test-1234"
REQUESTS = [
    {"id": 1, "method": "getAuthStatus", "params": {"includeToken": True}},
    {"id": 2, "method": "account/read"},
]
SIGNED_OUT = {"authMethod": None, "authToken": None, "requiresOpenaiAuth": True}
NO_ACCOUNT = {"account": None, "userId": None, "requiresOpenaiAuth": True, "workspaceRouting": None}
API_ACCOUNT = {**NO_ACCOUNT, "account": {"type": "apiKey"}}


def serve(home: Path, oauth: FakeTokenEndpoint, auth: Any, config: str = "") -> Session:
    write_auth(home, auth)
    config_file = home / "config.toml"
    config_file.write_text(config_file.read_text() + config)
    return talk(SERVE, auth_env(home, oauth), REQUESTS)


def key_file(mode: object = "apikey", key: object = KEY) -> dict[str, Any]:
    data: dict[str, Any] = {"OPENAI_API_KEY": key}
    if mode is not ...:
        data["auth_mode"] = mode
    return data


def api_status() -> dict[str, Any]:
    return {"authMethod": "apikey", "authToken": KEY, "requiresOpenaiAuth": True}


# --- auth_mode ---


@pytest.mark.parametrize(
    ("auth", "status", "account"),
    [
        (key_file(), "apikey", API_ACCOUNT),
        (key_file(...), "apikey", API_ACCOUNT),  # absent: a key string decides
        (key_file(None), "apikey", API_ACCOUNT),
        (key_file("apikey", ""), None, API_ACCOUNT),  # measured: no status, yet an apiKey account
        ({"auth_mode": "apikey"}, None, NO_ACCOUNT),
        *[(key_file(m), None, NO_ACCOUNT) for m in ("APIKEY", "ApiKey", "bogus", "CHATGPT", 5)],
        *[
            (key_file(m), None, NO_ACCOUNT)
            for m in (
                "headers",
                "agentIdentity",
                "personalAccessToken",
                "bedrockApiKey",
                "bedrockAccessKeys",
            )
        ],
        ({"auth_mode": "personalAccessToken", "personal_access_token": "pat-1"}, None, NO_ACCOUNT),
    ],
)
def test_auth_modes_answer_as_codex_0_171_0(
    home: Path,
    oauth: FakeTokenEndpoint,
    auth: dict[str, Any],
    status: str | None,
    account: dict[str, Any],
) -> None:
    session = serve(home, oauth, auth)
    assert session.result(1) == (api_status() if status == "apikey" else SIGNED_OUT)
    assert session.result(2) == account
    assert oauth.count == 0
    assert len(session.stderr.splitlines()) <= 1  # one line says why, when there is a why


@pytest.mark.parametrize("tokens", [None, "missing"])
def test_chatgpt_without_tokens_is_no_status_and_the_invalid_request_codex_answers(
    home: Path, oauth: FakeTokenEndpoint, tokens: object
) -> None:
    auth: dict[str, Any] = {"auth_mode": "chatgpt", "OPENAI_API_KEY": KEY}
    if tokens is None:
        auth["tokens"] = None
    session = serve(home, oauth, auth)
    assert session.result(1) == SIGNED_OUT
    assert session.error(2) == {
        "code": -32600,
        "message": "plan type is required for chatgpt authentication",
    }


def test_chatgpt_auth_tokens_are_reported_as_such_and_never_refreshed(
    home: Path, oauth: FakeTokenEndpoint
) -> None:
    data = chatgpt_auth(oauth.issue_refresh_token(), exp_in=-100, auth_mode="chatgptAuthTokens")
    session = serve(home, oauth, data)
    assert session.result(1) == {
        "authMethod": "chatgptAuthTokens",
        "authToken": data["tokens"]["access_token"],  # expired, handed out as Codex does
        "requiresOpenaiAuth": True,
    }
    assert session.result(2)["account"]["type"] == "chatgpt"
    assert oauth.count == 0


def test_chatgpt_without_last_refresh_has_no_status_but_an_account(
    home: Path, oauth: FakeTokenEndpoint
) -> None:
    data = chatgpt_auth(oauth.issue_refresh_token())
    del data["last_refresh"]
    session = serve(home, oauth, data)
    assert session.result(1) == SIGNED_OUT
    assert session.result(2)["workspaceRouting"] == ROUTED


# --- forced_login_method / forced_chatgpt_workspace_id ---


def chat(tokens_account: str = "acct-1", claim_account: str = "acct-1") -> dict[str, Any]:
    data = chatgpt_auth("rt-x")
    data["tokens"]["account_id"] = tokens_account
    data["tokens"]["id_token"] = id_token(account=claim_account)
    return data


@pytest.mark.parametrize(
    ("auth", "config", "signed_in"),
    [
        (key_file(), 'forced_login_method = "chatgpt"\n', False),
        (chat(), 'forced_login_method = "api"\n', False),
        (key_file(), 'forced_login_method = "api"\n', True),
        (chat(), 'forced_login_method = "chatgpt"\n', True),
        (key_file(), 'forced_login_method = "CHATGPT"\n', True),  # refused by Codex: unset
        (chat(), 'forced_chatgpt_workspace_id = "other"\n', False),
        (chat(), 'forced_chatgpt_workspace_id = ["other", "x"]\n', False),
        (chat(), 'forced_chatgpt_workspace_id = ["other", "acct-1"]\n', True),
        (chat(), 'forced_chatgpt_workspace_id = "acct-1"\n', True),
        (chat(), "forced_chatgpt_workspace_id = []\n", True),
        (chat(), 'forced_chatgpt_workspace_id = ""\n', True),
        (
            chat("acct-X", "acct-1"),
            'forced_chatgpt_workspace_id = "acct-1"\n',
            False,
        ),  # tokens.account_id decides
        (chat("acct-1", "acct-X"), 'forced_chatgpt_workspace_id = "acct-1"\n', True),
        (key_file(), 'forced_chatgpt_workspace_id = "other"\n', True),  # keys have no workspace
        (chat(), '[profiles.x]\nforced_chatgpt_workspace_id = "other"\n', True),  # not top level
    ],
)
def test_forced_login_settings_answer_as_codex_0_171_0(
    home: Path, oauth: FakeTokenEndpoint, auth: dict[str, Any], config: str, signed_in: bool
) -> None:
    raw = json.dumps(auth)
    session = serve(home, oauth, raw, config)
    if signed_in:
        assert session.result(1)["authMethod"] in ("apikey", "chatgpt")
        assert session.result(2)["account"] is not None
    else:
        assert session.result(1) == SIGNED_OUT
        assert session.result(2) == NO_ACCOUNT
        (line,) = session.stderr.splitlines()
        assert "config.toml" in line and line.endswith("answering as signed out")
        assert session.notifications == []
    assert (home / "auth.json").read_text() == raw  # never deleted, never rewritten
    assert oauth.count == 0


def test_a_refused_stale_token_is_never_refreshed(home: Path, oauth: FakeTokenEndpoint) -> None:
    data = chatgpt_auth(oauth.issue_refresh_token(), exp_in=-100)
    write_auth(home, data)
    (home / "config.toml").write_text('forced_login_method = "api"\n')
    session = talk(
        SERVE,
        auth_env(home, oauth),
        [
            {
                "id": 1,
                "method": "getAuthStatus",
                "params": {"includeToken": True, "refreshToken": True},
            }
        ],
    )
    assert session.result(1) == SIGNED_OUT
    assert oauth.count == 0  # a credential Codex refuses is not worth a refresh token


def test_restriction_messages_are_one_line_each() -> None:
    config = config_from({"forced_chatgpt_workspace_id": ["a", "b"]})
    message = restriction(config, "chatgpt", "acct-1\nforged")
    assert message is not None and "a, b" in message
    assert restriction(config_from({"forced_login_method": "chatgpt"}), "apikey", None)
    assert restriction(config_from({"forced_login_method": "api"}), "chatgptAuthTokens", "x")
    assert restriction(config_from({}), "chatgpt", None) is None
