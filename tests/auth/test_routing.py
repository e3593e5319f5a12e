"""Workspace routing discovery (issue 22 item 5): Codex 0.171.0's account/read answers, measured
over stdio against a loopback ChatGPT backend, one case per rule — first the pure rules, then
through `codex-install auth serve` as a process with the notification."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from codex_install.auth import routing
from codex_install.errors import AccountReadError
from servers import chatgpt
from servers.oauth import FakeTokenEndpoint

from .appserver import INITIALIZE, INITIALIZED, talk
from .conftest import ROUTED, auth_env, chatgpt_auth, write_auth

ORIGIN = "https://w.example"
SERVE = [sys.executable, "-m", "codex_install", "auth", "serve"]


def one(**entry: Any) -> dict[str, Any]:
    return {"accounts": [{"id": "acct-1", **entry}]}


# (answer of the accounts check, Codex 0.171.0's account/read: routing or error message)
MEASURED: list[tuple[str, object, object]] = [
    ("routed", one(workspace_backend_origin=ORIGIN, account_routing_override="us"), (ORIGIN, "us")),
    (
        "slash",
        one(workspace_backend_origin=ORIGIN + "/", account_routing_override="us_cr"),
        (ORIGIN, "us_cr"),
    ),
    (
        "port",
        one(workspace_backend_origin="https://W.Example:443", account_routing_override="us"),
        (ORIGIN, "us"),
    ),
    (
        "two",
        {
            "accounts": [
                {"id": "acct-0"},
                one(workspace_backend_origin=ORIGIN, account_routing_override="us")["accounts"][0],
            ]
        },
        (ORIGIN, "us"),
    ),
    (
        "path",
        one(workspace_backend_origin=ORIGIN + "/x", account_routing_override="us"),
        routing.NOT_AN_ORIGIN,
    ),
    (
        "query",
        one(workspace_backend_origin=ORIGIN + "/?a=1", account_routing_override="us"),
        routing.NOT_AN_ORIGIN,
    ),
    (
        "http",
        one(workspace_backend_origin="http://w.example", account_routing_override="us"),
        routing.NOT_HTTPS_ORIGIN,
    ),
    (
        "userinfo",
        one(workspace_backend_origin="https://u:p@w.example", account_routing_override="us"),
        routing.NOT_HTTPS_ORIGIN,
    ),
    (
        "space",
        one(workspace_backend_origin=" " + ORIGIN, account_routing_override="us"),
        routing.NOT_HTTPS_ORIGIN,
    ),
    (
        "empty origin",
        one(workspace_backend_origin="", account_routing_override="us"),
        routing.INVALID_URL,
    ),
    (
        "no origin",
        one(workspace_backend_origin=None, account_routing_override="us"),
        routing.MISSING_ORIGIN,
    ),
    (
        "override",
        one(workspace_backend_origin=ORIGIN, account_routing_override="eu"),
        routing.INVALID_OVERRIDE,
    ),
    (
        "other workspace",
        {
            "accounts": [
                {
                    "id": "acct-2",
                    "workspace_backend_origin": ORIGIN,
                    "account_routing_override": "us",
                }
            ]
        },
        routing.MISSING_WORKSPACE,
    ),
    (
        "duplicate",
        {
            "accounts": 2
            * one(workspace_backend_origin=ORIGIN, account_routing_override="us")["accounts"]
        },
        routing.DUPLICATE_WORKSPACE,
    ),
    ("account_id in a list", {"accounts": [{"account_id": "acct-1"}]}, routing.FAILED),
    ("null id", {"accounts": [{"id": None}]}, routing.FAILED),
    (
        "plan not a string",
        one(workspace_backend_origin=ORIGIN, account_routing_override="us", plan_type=5),
        routing.FAILED,
    ),
    ("accounts null", {"accounts": None}, routing.FAILED),
    (
        "map ordered",
        {
            "accounts": {
                "k": {
                    "account": {
                        "account_id": "acct-1",
                        "workspace_backend_origin": ORIGIN,
                        "account_routing_override": "us",
                    }
                }
            },
            "account_ordering": ["k"],
        },
        routing.MISSING_ORIGIN,
    ),
    (
        "map unordered",
        {"accounts": {"acct-1": {"account": {"account_id": "acct-1"}}}},
        routing.MISSING_WORKSPACE,
    ),
    (
        "map without account_id",
        {"accounts": {"acct-1": {"account": {}}}, "account_ordering": ["acct-1"]},
        routing.MISSING_WORKSPACE,
    ),
]


@pytest.mark.parametrize(("name", "answer", "expected"), MEASURED, ids=[m[0] for m in MEASURED])
def test_resolve_answers_as_codex_0_171_0(name: str, answer: object, expected: object) -> None:
    base = "http://127.0.0.1:1/backend-api"
    if isinstance(expected, tuple):
        assert routing.resolve(routing.parse_accounts(answer), "acct-1", base) == {
            "chatgptAccountId": "acct-1",
            "backendOrigin": expected[0],
            "accountRoutingOverride": expected[1],
        }
    else:
        with pytest.raises(AccountReadError) as info:
            routing.resolve(routing.parse_accounts(answer), "acct-1", base)
        assert str(info.value) == expected and not info.value.invalid_request


def test_no_constraint_takes_the_configured_backend_which_must_be_https() -> None:
    entries = routing.parse_accounts(
        one(workspace_backend_origin="NO_CONSTRAINT", account_routing_override="NO_CONSTRAINT")
    )
    assert (
        routing.resolve(entries, "acct-1", "https://chatgpt.com/backend-api/")["backendOrigin"]
        == "https://chatgpt.com"
    )
    with pytest.raises(AccountReadError, match=routing.NOT_HTTPS_ORIGIN):
        routing.resolve(entries, "acct-1", "http://127.0.0.1:9/backend-api")


@pytest.mark.parametrize(
    ("base", "url"),
    [
        ("https://chatgpt.com/backend-api/", "https://chatgpt.com/backend-api/wham/accounts/check"),
        ("https://chatgpt.com", "https://chatgpt.com/backend-api/wham/accounts/check"),
        ("http://127.0.0.1:5/backend-api", "http://127.0.0.1:5/backend-api/wham/accounts/check"),
        ("http://127.0.0.1:5", "http://127.0.0.1:5/api/codex/accounts/check"),
    ],
)
def test_the_accounts_check_url_follows_codexs_path_style(base: str, url: str) -> None:
    assert routing.check_url(base) == url


def serve(home: Path, oauth: FakeTokenEndpoint, requests: list[dict[str, Any]], **kw: Any):
    return talk(
        [*SERVE[1:]] if False else [__import__("sys").executable, *SERVE[1:]],
        auth_env(home, oauth),
        requests,
        **kw,
    )


def test_auth_serve_routes_notifies_once_and_asks_once_per_snapshot(
    home: Path, oauth: FakeTokenEndpoint, backend: chatgpt.FakeChatGPT
) -> None:
    data = chatgpt_auth(oauth.issue_refresh_token())
    write_auth(home, data)
    session = serve(home, oauth, [{"id": i, "method": "account/read"} for i in (1, 2, 3)])
    assert session.notified("account/updated") == [
        {"authMode": "chatgpt", "planType": "plus", "reason": "workspaceRoutingReady"}
    ]
    (note,) = session.notifications
    assert isinstance(note["emittedAtMs"], int)
    for i in (1, 2, 3):
        assert session.result(i)["workspaceRouting"] == ROUTED
    (check,) = backend.checks  # one discovery for the snapshot, however often it is read
    assert check.path == "/backend-api/wham/accounts/check"
    assert check.headers["Authorization"] == f"Bearer {data['tokens']['access_token']}"
    assert check.headers["ChatGPT-Account-Id"] == "acct-1"
    assert oauth.count == 0


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (500, {"detail": "x"}, routing.FAILED),
        (200, "not json", routing.FAILED),
        (200, b"[" * 100_000, routing.FAILED),  # nested past any parser's depth
        (
            200,
            one(workspace_backend_origin=ORIGIN, account_routing_override="eu"),
            routing.INVALID_OVERRIDE,
        ),
    ],
)
def test_a_failed_discovery_is_the_internal_error_codex_answers_and_no_notification(
    home: Path,
    oauth: FakeTokenEndpoint,
    backend: chatgpt.FakeChatGPT,
    status: int,
    body: object,
    message: str,
) -> None:
    backend.status, backend.body = status, body
    write_auth(home, chatgpt_auth(oauth.issue_refresh_token()))
    session = serve(
        home, oauth, [{"id": 1, "method": "account/read"}, {"id": 2, "method": "getAuthStatus"}]
    )
    assert session.error(1) == {"code": -32603, "message": message}
    assert session.result(2)["authMethod"] == "chatgpt"  # the status itself is unaffected
    assert session.notifications == []
    assert oauth.count == 0


def test_a_401_refreshes_once_and_asks_again(
    home: Path, oauth: FakeTokenEndpoint, backend: chatgpt.FakeChatGPT
) -> None:
    backend.status, backend.body = 401, {"detail": "expired"}
    write_auth(home, chatgpt_auth(oauth.issue_refresh_token()))
    session = serve(home, oauth, [{"id": i, "method": "account/read"} for i in (1, 2)])
    assert session.error(1) == {"code": -32603, "message": routing.UNAUTHORIZED}
    assert session.error(2) == {"code": -32603, "message": routing.UNAUTHORIZED}
    # Codex 0.171.0 spends a refresh token per attempt (4 here); the coalesced forced refresh
    # spends one for the whole session.
    assert oauth.count == 1
    # The notifier's try and each read's, each asked again at most once after the refresh; the
    # notifier runs beside the reads, so which of them sees the refreshed token varies.
    assert 3 <= len(backend.checks) <= 6


@pytest.mark.slow
def test_a_slow_backend_is_cut_at_the_deadline(
    home: Path, oauth: FakeTokenEndpoint, backend: chatgpt.FakeChatGPT
) -> None:
    backend.delay = 3.0
    write_auth(home, chatgpt_auth(oauth.issue_refresh_token()))
    env = {**auth_env(home, oauth), "CODEX_INSTALL_TIMEOUT": "0.5"}
    session = talk(
        [__import__("sys").executable, "-m", "codex_install", "auth", "serve"],
        env,
        [{"id": 1, "method": "account/read"}],
    )
    assert session.error(1)["message"] in (routing.TIMED_OUT, routing.FAILED)


def test_api_key_and_no_workspace_id_make_no_request(
    home: Path, oauth: FakeTokenEndpoint, backend: chatgpt.FakeChatGPT
) -> None:
    data = chatgpt_auth(oauth.issue_refresh_token())
    del data["tokens"]["account_id"]  # measured: no routing, no request, account answered
    write_auth(home, data)
    session = serve(home, oauth, [{"id": 1, "method": "account/read"}])
    assert session.result(1)["workspaceRouting"] is None
    assert session.result(1)["account"]["type"] == "chatgpt"
    write_auth(home, {"auth_mode": "apikey", "OPENAI_API_KEY": "sk-1"})
    session = serve(home, oauth, [{"id": 1, "method": "account/read"}])
    assert session.result(1)["workspaceRouting"] is None
    assert backend.checks == [] and session.notifications == []
    assert json.dumps(session.answers)  # strict JSON throughout


@pytest.mark.slow
def test_a_slow_discovery_never_holds_an_answer_that_does_not_need_it(
    home: Path, oauth: FakeTokenEndpoint, backend: chatgpt.FakeChatGPT
) -> None:
    backend.delay = 2.0
    write_auth(home, chatgpt_auth(oauth.issue_refresh_token()))
    proc = subprocess.Popen(
        SERVE, env=auth_env(home, oauth), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(INITIALIZE) + "\n" + json.dumps(INITIALIZED) + "\n")
    proc.stdin.write(json.dumps({"id": 1, "method": "getAuthStatus"}) + "\n")
    proc.stdin.flush()
    start = time.monotonic()
    assert json.loads(proc.stdout.readline())["id"] == 0
    assert json.loads(proc.stdout.readline())["result"]["authMethod"] == "chatgpt"
    assert time.monotonic() - start < 1.5  # answered while the discovery is under way
    proc.stdin.write(json.dumps({"id": 2, "method": "account/read"}) + "\n")
    proc.stdin.close()  # EOF: what the discovery finds is still said
    rest = [json.loads(line) for line in proc.stdout]
    assert proc.wait(timeout=30) == 0
    assert {m.get("id", m.get("method")) for m in rest} == {2, "account/updated"}
    assert next(m for m in rest if m.get("id") == 2)["result"]["workspaceRouting"] == ROUTED
    assert len(backend.checks) == 1  # the read waited for the discovery under way
