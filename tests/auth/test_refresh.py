from __future__ import annotations

import json

import httpx
import pytest

from codex_install.auth import refresh
from codex_install.errors import RefreshError


def test_token_url_override() -> None:
    assert refresh.token_url({}) == refresh.DEFAULT_TOKEN_URL
    assert refresh.token_url({refresh.TOKEN_URL_ENV: "http://127.0.0.1:1/t"}) == (
        "http://127.0.0.1:1/t"
    )


def test_request_is_the_codex_refresh_request() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json={"access_token": "a2", "refresh_token": "r2", "token_type": "Bearer"}
        )

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        tokens = refresh.post_refresh(client, "http://127.0.0.1/oauth/token", "r1", now=0)
    assert tokens == {"access_token": "a2", "refresh_token": "r2"}
    assert seen[0].method == "POST"
    assert seen[0].headers["content-type"] == "application/json"
    assert json.loads(seen[0].content) == {
        "client_id": "app_EMoamEEZ73f0CkXaXp7hrann",
        "grant_type": "refresh_token",
        "refresh_token": "r1",
        "refresh_reason": "proactive_expiry",
    }


def test_forced_refresh_says_so_in_the_body() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"access_token": "a2"})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        refresh.post_refresh(client, "http://127.0.0.1/t", "r1", now=0, reason=refresh.FORCED)
    assert json.loads(seen[0].content)["refresh_reason"] == "forced"


@pytest.mark.parametrize(
    ("status", "body", "headers", "permanent", "code", "retry_after"),
    [
        (401, None, {}, True, None, None),
        (400, {"error": "invalid_grant"}, {}, True, "invalid_grant", None),
        (200, {"error": {"code": "refresh_token_reused"}}, {}, True, "refresh_token_reused", None),
        (429, {"error": "slow_down"}, {"retry-after": "12"}, False, "slow_down", 12.0),
        (503, None, {"retry-after": "soon"}, False, None, None),
        (404, {"code": "not_found"}, {}, False, "not_found", None),
        (200, {"access_token": 5}, {}, False, None, None),
        (200, None, {}, False, None, None),
    ],
)
def test_interpret_failures(status, body, headers, permanent, code, retry_after) -> None:
    with pytest.raises(RefreshError) as err:
        refresh.interpret_response(status, body, headers.get("retry-after"), now=0)
    assert (err.value.permanent, err.value.code, err.value.retry_after) == (
        permanent,
        code,
        retry_after,
    )


def test_redirects_are_not_followed() -> None:
    with refresh.new_client() as client:
        assert client.follow_redirects is False
