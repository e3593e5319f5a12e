"""The status protocol answers what Codex's app-server answers (issue 12, SPEC §9): one test per
rule, against the fake token endpoint that counts every request. Codex's own answers were
measured with the real 0.169.0 binary over stdio on the same files and endpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from codex_install.auth import policy
from codex_install.auth.account import plan_type
from codex_install.auth.ledger import LEDGER_FILE, read_ledger
from codex_install.auth.manager import AuthManager
from codex_install.auth.policy import format_timestamp
from servers.oauth import AUTH_CLAIM, FakeTokenEndpoint, make_jwt

from .conftest import ROUTED, auth_env, chatgpt_auth, read_auth, write_auth
from .test_manager import FakeClock


def make_manager(home: Path, oauth: FakeTokenEndpoint, **kwargs: Any) -> AuthManager:
    return AuthManager(home, env=auth_env(home, oauth), jitter=lambda: 0.0, **kwargs)


def login(home: Path, oauth: FakeTokenEndpoint, *, exp_in: float, **extra: Any) -> dict[str, Any]:
    data = chatgpt_auth(oauth.issue_refresh_token(), exp_in=exp_in, **extra)
    write_auth(home, data)
    return data


# --- account/read ---


def test_account_read_has_codexs_keys_in_codexs_order(home: Path, oauth) -> None:
    login(home, oauth, exp_in=3600, plan="pro")
    with make_manager(home, oauth) as manager:
        answer = manager.account_read()
    assert list(answer) == ["account", "userId", "requiresOpenaiAuth", "workspaceRouting"]
    assert answer == {
        "account": {
            "type": "chatgpt",
            "email": "dev@example.com",
            "planType": "pro",
            "workspaceName": None,
        },
        "userId": "user-1",
        "requiresOpenaiAuth": True,
        "workspaceRouting": ROUTED,
    }
    assert oauth.count == 0


def test_account_read_takes_user_id_and_email_from_the_fallback_claims(home, oauth) -> None:
    # codex-rs/login/src/token_data.rs: chatgpt_user_id else user_id; email else profile email.
    data = login(home, oauth, exp_in=3600)
    data["tokens"]["id_token"] = make_jwt(
        {
            "https://api.openai.com/profile": {"email": "profile@example.com"},
            AUTH_CLAIM: {"user_id": "user-legacy", "chatgpt_plan_type": "HC"},
        }
    )
    write_auth(home, data)
    with make_manager(home, oauth) as manager:
        answer = manager.account_read()
    assert answer["userId"] == "user-legacy"
    assert answer["account"] == {
        "type": "chatgpt",
        "email": "profile@example.com",
        "planType": "enterprise",
        "workspaceName": None,
    }


@pytest.mark.parametrize(
    ("raw", "plan"),
    [
        ("plus", "plus"),
        ("Team", "team"),
        ("education", "edu"),
        ("hc", "enterprise"),
        ("go", "go"),
        ("something-new", "unknown"),
        (None, "unknown"),
    ],
)
def test_plan_type_uses_codexs_names(raw: str | None, plan: str) -> None:
    assert plan_type(raw) == plan


# --- getAuthStatus includeToken on an expired token ---


def test_include_token_on_an_expired_token_refreshes_first(home: Path, oauth) -> None:
    login(home, oauth, exp_in=-60)
    with make_manager(home, oauth) as manager:
        status = manager.get_auth_status(include_token=True)
        again = manager.get_auth_status(include_token=True)
    assert status["authToken"] == read_auth(home)["tokens"]["access_token"]
    assert again == status
    assert oauth.count == 1
    assert oauth.requests[0]["refresh_reason"] == "proactive_expiry"


def test_include_token_false_never_refreshes(home: Path, oauth) -> None:
    login(home, oauth, exp_in=-60)
    with make_manager(home, oauth) as manager:
        assert manager.get_auth_status()["authMethod"] == "chatgpt"
    assert oauth.count == 0


def test_include_token_on_a_poisoned_snapshot_makes_no_request_and_hands_out_nothing(
    home, oauth
) -> None:
    login(home, oauth, exp_in=-60)
    oauth.respond(401, {"error": {"code": "refresh_token_expired"}})
    with make_manager(home, oauth) as manager:
        answers = [manager.get_auth_status(include_token=True) for _ in range(5)]
    assert {a["authToken"] for a in answers} == {None}
    assert oauth.count == 1


def test_outage_hands_out_the_cached_token_and_backs_off(home: Path, oauth) -> None:
    data = login(home, oauth, exp_in=-60)
    oauth.respond(500, {"error": "server_error"})
    clock = FakeClock()
    with make_manager(home, oauth, clock=clock) as manager:
        answers = []
        for _ in range(5):  # within the first backoff step (0.5 s at zero jitter)
            answers.append(manager.get_auth_status(include_token=True))
            clock.now += 0.1
    assert {a["authToken"] for a in answers} == {data["tokens"]["access_token"]}
    assert oauth.count == 1  # Codex: 6 requests on the first call alone
    assert read_ledger(home).backoff is not None


# --- getAuthStatus refreshToken on a valid token: forced, coalesced ---


def test_forced_refresh_of_a_valid_token_makes_one_request_saying_forced(home, oauth) -> None:
    old = login(home, oauth, exp_in=3600)
    with make_manager(home, oauth) as manager:
        status = manager.get_auth_status(include_token=True, refresh_token=True)
    new = read_auth(home)
    assert new["tokens"]["access_token"] != old["tokens"]["access_token"]
    assert status["authToken"] == new["tokens"]["access_token"]
    assert oauth.count == 1
    assert oauth.requests[0]["refresh_reason"] == "forced"


def test_forced_refresh_polled_every_second_makes_one_request_per_30_s(home, oauth) -> None:
    login(home, oauth, exp_in=3600)
    clock = FakeClock()
    with make_manager(home, oauth, clock=clock) as manager:
        for _ in range(90):
            assert manager.get_auth_status(include_token=True, refresh_token=True)["authToken"]
            clock.now += 1.0
    assert oauth.count == 3  # at 0 s, 30 s and 60 s (Codex: one per call, 90)


def test_forced_refresh_adopts_a_refresh_another_process_made_within_30_s(home, oauth) -> None:
    clock = FakeClock()
    data = login(home, oauth, exp_in=3600)
    data["last_refresh"] = format_timestamp(clock.now - 10)  # Codex itself, or another poller
    write_auth(home, data)
    with make_manager(home, oauth, clock=clock) as manager:
        status = manager.get_auth_status(include_token=True, refresh_token=True)
        assert oauth.count == 0
        assert status["authToken"] == data["tokens"]["access_token"]
        clock.now += 21  # 31 s after that refresh: a forced refresh is due again
        manager.get_auth_status(include_token=True, refresh_token=True)
    assert oauth.count == 1


def test_forced_refresh_during_an_outage_still_one_request_per_30_s(home, oauth) -> None:
    data = login(home, oauth, exp_in=3600)
    oauth.respond(503, None)
    clock = FakeClock()
    with make_manager(home, oauth, clock=clock) as manager:
        for _ in range(60):
            status = manager.get_auth_status(include_token=True, refresh_token=True)
            assert status["authToken"] == data["tokens"]["access_token"]
            clock.now += 1.0
    assert oauth.count == 2


def test_forced_refresh_after_a_permanent_failure_never_asks_again(home, oauth) -> None:
    data = login(home, oauth, exp_in=3600)
    oauth.respond(401, {"error": {"code": "refresh_token_reused"}})
    clock = FakeClock()
    with make_manager(home, oauth, clock=clock) as manager:
        for _ in range(120):
            status = manager.get_auth_status(include_token=True, refresh_token=True)
            clock.now += 1.0
    assert oauth.count == 1
    assert status["authToken"] is None
    assert read_auth(home) == data
    with make_manager(home, oauth, clock=clock) as other:  # another process, same answer
        assert other.get_auth_status(include_token=True, refresh_token=True) == status
    assert oauth.count == 1


# --- error codes from the token endpoint ---


@pytest.mark.parametrize(
    "body",
    [
        {"error": "eyJhbGciOiJIUzI1NiJ9 Bearer sk-proj-secret"},
        {"error": {"code": "x" * 65}},
        {"error": {"code": "urn:ietf:bad"}},
        {"code": "refresh token expired"},
        {"error": {"code": "rt-1234\nforged"}},
    ],
)
def test_only_code_shaped_error_codes_are_kept(body: dict[str, Any]) -> None:
    assert policy.error_code(body) is None


def test_a_token_echoed_in_an_error_body_never_reaches_state_or_output(home, oauth) -> None:
    data = login(home, oauth, exp_in=-60)
    secret = data["tokens"]["refresh_token"]
    oauth.respond(400, {"error": f"bad refresh token {secret}"})
    warnings: list[str] = []
    with make_manager(home, oauth, warn=warnings.append) as manager:
        status = manager.get_auth_status(include_token=True)
        account = manager.account_read()
    ledger_text = (home / LEDGER_FILE).read_text()
    assert secret not in ledger_text
    assert secret not in json.dumps([status, account, warnings])
    assert read_ledger(home).backoff is not None  # an unknown 400 is transient


def test_a_code_shaped_permanent_code_is_kept(home, oauth) -> None:
    login(home, oauth, exp_in=-60)
    oauth.respond(400, {"error": {"code": "Refresh_Token_Invalidated"}})
    with make_manager(home, oauth) as manager:
        state = manager.ensure_fresh()
    assert state.kind == "poisoned"
    ledger = read_ledger(home)
    assert ledger.poison is not None and ledger.poison.code == "refresh_token_invalidated"


# --- credential stores ---


def test_keyring_store_is_not_answered_from_a_leftover_auth_json(home: Path, oauth) -> None:
    # Codex 0.169.0, keyring store, no keyring to read: signed out, whatever auth.json says.
    login(home, oauth, exp_in=-60)
    (home / "config.toml").write_text('cli_auth_credentials_store = "keyring"\n')
    warnings: list[str] = []
    with make_manager(home, oauth, warn=warnings.append) as manager:
        status = manager.get_auth_status(include_token=True, refresh_token=True)
        account = manager.account_read()
    assert status == {"authMethod": None, "authToken": None, "requiresOpenaiAuth": True}
    assert account["account"] is None
    assert len(warnings) == 1 and "keyring" in warnings[0]
    assert oauth.count == 0
