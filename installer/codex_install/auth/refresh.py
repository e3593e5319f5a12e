"""The token-endpoint request of SPEC §9 and the translation of its answer into RefreshError."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from codex_install.auth.policy import (
    error_code,
    is_permanent,
    parse_retry_after,
    permanent_message,
    transient_message,
)
from codex_install.auth.store import TOKEN_FIELDS
from codex_install.errors import RefreshError, scrub
from codex_install.http.limits import (
    DEFAULT_DEADLINE_S,
    REFRESH_CONNECT_S,
    TIMEOUT_ENV,
    TOKEN_ANSWER_CAP,
    describe_cap,
    read_capped,
    timeout_from_env,
)
from codex_install.http.retry import NO_RETRY, Retryable, retrying
from codex_install.http.watchdog import DEADLINE, DeadlinePassed

if TYPE_CHECKING:
    import httpx

DEFAULT_TOKEN_URL = "https://auth.openai.com/oauth/token"
TOKEN_URL_ENV = "CODEX_REFRESH_TOKEN_URL_OVERRIDE"
CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"
REQUEST_TIMEOUT_S = DEFAULT_DEADLINE_S


def token_url(env: Mapping[str, str]) -> str:
    return env.get(TOKEN_URL_ENV) or DEFAULT_TOKEN_URL


def deadline_s(env: Mapping[str, str]) -> float:
    """The whole refresh request's seconds: CODEX_INSTALL_TIMEOUT, else 30. An unreadable value
    is ignored here: the launcher must still start codex (the installer refuses it, exit 2)."""
    try:
        return timeout_from_env(env.get(TIMEOUT_ENV)) or REQUEST_TIMEOUT_S
    except ValueError:
        return REQUEST_TIMEOUT_S


# Why the refresh is made, sent as `refresh_reason` the way Codex 0.169.0 does (measured: its
# app-server posts "proactive_expiry" for a token near expiry and "forced" for
# `getAuthStatus {refreshToken: true}` on a valid one).
PROACTIVE_EXPIRY = "proactive_expiry"
FORCED = "forced"


def request_body(refresh_token: str, reason: str = PROACTIVE_EXPIRY) -> dict[str, str]:
    """The JSON body Codex sends: client_id, grant_type, refresh_token and refresh_reason."""
    return {
        "client_id": CLIENT_ID,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "refresh_reason": reason,
    }


def new_client(env: Mapping[str, str] | None = None) -> httpx.Client:
    """The token endpoint's client, made as every httpx client is (``http.network``), with the
    trust the environment's CA variables set. Redirects are not followed: a token endpoint that
    redirects a POST is misconfigured, and following it could send the refresh token to another
    host."""
    import os  # the launcher reads its few variables where it runs (it has no Settings)

    from codex_install.http.network import make_client
    from codex_install.http.plan import NetworkPlan, trust_from

    plan = NetworkPlan(
        connect_s=REFRESH_CONNECT_S, trust=trust_from(os.environ if env is None else env)
    )
    return make_client(plan, follow_redirects=False, read_s=REQUEST_TIMEOUT_S)


def post_refresh(
    client: httpx.Client,
    url: str,
    refresh_token: str,
    *,
    now: float,
    reason: str = PROACTIVE_EXPIRY,
    seconds: float = REQUEST_TIMEOUT_S,
) -> dict[str, str]:
    """POST the refresh request; the new tokens, or RefreshError (permanent or transient).

    One attempt only: whether and when to try again is the AuthManager's cross-process backoff.
    The whole request (connect and every byte of the answer) gets ``seconds``; the answer is
    read into memory only up to TOKEN_ANSWER_CAP.
    """
    import httpx  # heavy: only a refresh pays for it, never the launcher's hot path

    from codex_install.http.deadline import send

    def attempt(_number: int) -> dict[str, str]:
        deadline = time.monotonic() + seconds
        timeout = _tighter(client.timeout, seconds)
        body = request_body(refresh_token, reason)
        try:
            # The deadline covers the wait for the answer's headers too, whatever the client
            # (the launcher's or the AuthManager's own, or one given to it).
            request = client.build_request(
                "POST", url, json=body, timeout=timeout, extensions={DEADLINE: deadline}
            )
            response = send(client, request, seconds)
            with contextlib.closing(response):
                answer = _read_answer(response, deadline, seconds)
        except DeadlinePassed as err:
            raise Retryable(f"no full answer within {seconds:g} s") from err
        except (httpx.HTTPError, httpx.InvalidURL) as err:
            # The exception text can carry the URL but never the body, so no token leaks here.
            # InvalidURL (a mistyped CODEX_REFRESH_TOKEN_URL_OVERRIDE) is no HTTPError, and
            # would otherwise escape as a crash from the launcher and from `auth serve`.
            raise Retryable(type(err).__name__) from err
        return interpret_response(
            response.status_code, _json_or_none(answer), response.headers.get("retry-after"), now
        )

    return retrying(attempt, policy=NO_RETRY, sleep=time.sleep, exhausted=_transient)


def _transient(_attempts: int, last: Retryable) -> RefreshError:
    return RefreshError(transient_message(last.reason), permanent=False)


def interpret_response(
    status: int, body: object, retry_after: str | None, now: float
) -> dict[str, str]:
    """Pure: the tokens of a successful answer, else the RefreshError the answer means. A code
    that carries a secret this process holds (an endpoint echoing the refresh token) is no code:
    it would reach a message and the ledger."""
    code = _safe_code(body)
    if is_permanent(status, code):
        raise RefreshError(permanent_message(code), permanent=True, code=code)
    if 200 <= status < 300:
        return _tokens_of(status, body)
    what = f"HTTP {status}" + (f" {code}" if code else "")
    raise RefreshError(
        transient_message(what),
        permanent=False,
        code=code,
        retry_after=parse_retry_after(retry_after, now),
    )


def _safe_code(body: object) -> str | None:
    """The answer's error code, unless scrubbing would change it (it carries a secret)."""
    code = error_code(body)
    if code is not None and scrub(code) != code:
        return None
    return code


def _tokens_of(status: int, body: object) -> dict[str, str]:
    """The non-empty string token fields of a 2xx answer; none at all is a transient error."""
    tokens: dict[str, str] = {}
    if isinstance(body, Mapping):
        tokens = {
            name: body[name]
            for name in TOKEN_FIELDS
            if isinstance(body.get(name), str) and body[name]
        }
    if not tokens:
        raise RefreshError(transient_message(f"HTTP {status} without tokens"), permanent=False)
    return tokens


def _tighter(given: httpx.Timeout, seconds: float) -> httpx.Timeout:
    """The client's timeouts, none longer than the request's deadline."""
    import httpx  # heavy: only a refresh pays for it, never the launcher's hot path

    def bound(value: float | None) -> float:
        return seconds if value is None else min(value, seconds)

    return httpx.Timeout(
        bound(given.read),
        connect=bound(given.connect),
        write=bound(given.write),
        pool=bound(given.pool),
    )


def _read_answer(response: httpx.Response, deadline: float, seconds: float) -> bytes:
    # Retryable, so the message is the transient one and no part of the answer is shown.
    return read_capped(
        response.iter_bytes(),
        TOKEN_ANSWER_CAP,
        over_cap=lambda: Retryable(f"an answer larger than {describe_cap(TOKEN_ANSWER_CAP)}"),
        deadline=deadline,
        past_deadline=lambda: Retryable(f"no full answer within {seconds:g} s"),
    )


def _json_or_none(answer: bytes) -> object:
    import json  # only a refresh that got an answer needs it

    try:
        return json.loads(answer)
    except (ValueError, RecursionError):  # RecursionError: nested too deep
        return None
