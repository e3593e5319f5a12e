"""Hostile auth.json files, JWTs, token-endpoint answers and JSON-RPC lines: the auth manager
answers or refuses with our own error and a message — never an unhandled exception (SPEC §9)."""

from __future__ import annotations

import base64
import json
import math
import tempfile
from pathlib import Path

import httpx
from hypothesis import example, given
from hypothesis import strategies as st

from codex_install.auth import jwt, policy, refresh, rpc, store
from codex_install.auth.ledger import Ledger, ledger_path, read_ledger
from codex_install.auth.manager import AuthManager
from codex_install.auth.state import credential_state

from .fuzzing import FAST, SLOWER, accepts_or_refuses, dumps, hostile_text, json_values
from .test_fuzz_sources import hostile_bytes

NOW = 1_790_000_000.0
numbers = st.one_of(
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([NOW + 3600, NOW - 10, 0, 2**63, 10**400]),
)
timestamps = st.one_of(
    st.sampled_from(
        [
            "2026-11-20T10:00:00Z",
            "2026-11-20T10:00:00.123456789Z",
            "0001-01-01T00:00:00",
            "9999-12-31T23:59:59+14:00",
            "0001-01-01T00:00:00+01:00",
            "2026-13-45",
            "",
            "2026-11-20T10:00:00.1234567890123456789Z",
            "\ud800",
        ]
    ),
    hostile_text,
    json_values,
)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


claims = st.fixed_dictionaries(
    {},
    optional={
        "exp": st.one_of(numbers, json_values),
        "email": st.one_of(st.just("dev@example.com"), json_values),
        "https://api.openai.com/auth": st.one_of(
            st.fixed_dictionaries(
                {}, optional={"chatgpt_plan_type": json_values, "chatgpt_account_id": json_values}
            ),
            json_values,
        ),
    },
)
jwts = st.one_of(
    st.builds(lambda c: f"{b64(b'{}')}.{b64(dumps(c).encode())}.sig", claims),
    st.builds(lambda p: f"h.{b64(p)}.s", st.binary(max_size=40)),
    st.sampled_from(["", ".", "..", "a.b", "a.!!!.c", "a..c", "a.b.c.d", "h.\u00e9.s"]),
    hostile_text,
    json_values,
)
auth_docs = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "auth_mode": st.one_of(st.sampled_from(["chatgpt", "apikey", "ChatGPT"]), json_values),
            "OPENAI_API_KEY": st.one_of(st.just("sk-test-1234"), json_values),
            "tokens": st.one_of(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "id_token": jwts,
                        "access_token": jwts,
                        "refresh_token": st.one_of(st.just("rt-1"), json_values),
                        "account_id": json_values,
                    },
                ),
                json_values,
            ),
            "last_refresh": timestamps,
            "unknown_field": json_values,
        },
    ),
)
token_answers = st.fixed_dictionaries(
    {},
    optional={
        "access_token": st.one_of(jwts, json_values),
        "refresh_token": json_values,
        "id_token": jwts,
        "error": st.one_of(
            st.sampled_from(["invalid_grant", "refresh_token_reused"]),
            st.fixed_dictionaries({"code": json_values}),
            json_values,
        ),
        "code": json_values,
    },
)


# --- JWTs and timestamps: decoding never raises ----------------------------------------------


@FAST
@given(jwts)
@example("h." + b64(b'{"exp": 1' + b"0" * 400 + b"}") + ".s")
@example("h." + b64(b'{"exp": NaN}') + ".s")
def test_jwt_claims_decode_or_are_none(token):
    assert jwt.decode_claims(token) is None or isinstance(jwt.decode_claims(token), dict)
    exp = jwt.expiry(token)
    assert exp is None or math.isfinite(exp), exp
    jwt.id_claims(token)


@FAST
@given(
    timestamps,
    st.one_of(
        st.none(),
        hostile_text,
        st.sampled_from(
            ["120", "Wed, 21 Oct 2015 07:28:00 GMT", "Mon, 99 Foo 99999 99:99:99 GMT", "-1", "1e9"]
        ),
    ),
)
def test_timestamps_and_retry_after_parse_or_are_none(stamp, retry_after):
    value = policy.parse_timestamp(stamp)
    assert value is None or isinstance(value, float)
    delay = policy.parse_retry_after(retry_after, NOW)
    assert delay is None or delay >= 0


# --- auth.json -------------------------------------------------------------------------------


@FAST
@given(hostile_bytes(auth_docs))
@example(dumps({"auth_mode": "chatgpt", "tokens": {"refresh_token": "\ud800"}}).encode())
@example(
    b'{"tokens": {"access_token": "h.' + b64(b'{"exp": 1' + b"0" * 400 + b"}").encode() + b'.s"}}'
)
def test_auth_json_is_read_or_refused(raw):
    snapshot = accepts_or_refuses(store.parse_auth, raw, Path("/home/u/.codex/auth.json"))
    if snapshot is None:
        return
    assert len(snapshot.digest) == 64
    state = credential_state(snapshot, None, NOW)
    assert state.kind in ("signed_out", "apikey", "chatgpt")
    snapshot.claims  # noqa: B018 - labels output; must not raise
    poisoned = credential_state(snapshot, read_ledger(Path("/nonexistent")).poison_for(""), NOW)
    assert poisoned.kind == state.kind


@FAST
@given(hostile_bytes(st.one_of(json_values, st.just(Ledger().to_json()))))
def test_a_corrupt_ledger_reads_as_empty(raw):
    with tempfile.TemporaryDirectory() as tmp:
        ledger_path(Path(tmp)).write_bytes(raw)
        assert isinstance(read_ledger(Path(tmp)), Ledger)


# --- the whole manager against a hostile auth.json and token endpoint -----------------------


@SLOWER
@given(
    hostile_bytes(auth_docs),
    st.sampled_from([200, 400, 401, 429, 500, 503]),
    hostile_bytes(token_answers),
    st.one_of(st.none(), hostile_text),
    st.booleans(),
    st.booleans(),
)
def test_auth_manager_answers_status_or_refuses(
    auth_raw, status, body, retry_after, include_token, refresh_token
):
    headers = (
        # Raw bytes: httpx encodes a str header value as ASCII, and a server may send anything.
        {b"retry-after": retry_after.encode("utf-8", "surrogatepass")} if retry_after else {}
    )

    def endpoint(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers=headers)

    with (
        tempfile.TemporaryDirectory() as tmp,
        httpx.Client(transport=httpx.MockTransport(endpoint)) as client,
    ):
        home = Path(tmp)
        store.auth_path(home).write_bytes(auth_raw)
        manager = AuthManager(
            home,
            env={"CODEX_REFRESH_TOKEN_URL_OVERRIDE": "http://t.invalid/"},
            clock=lambda: NOW,
            sleep=lambda _s: None,
            client=client,
        )
        answer = accepts_or_refuses(
            manager.get_auth_status, include_token=include_token, refresh_token=refresh_token
        )
        if answer is not None:
            assert answer["authMethod"] in (None, "apikey", "chatgpt")
            assert answer["authToken"] is None or isinstance(answer["authToken"], str)
            json.dumps(answer)
        accepts_or_refuses(manager.account_read, refresh_token=refresh_token)
        # auth.json is either untouched or still a JSON object Codex can read
        after = store.auth_path(home).read_bytes()
        if after != auth_raw:
            assert isinstance(json.loads(after), dict)


@FAST
@given(
    st.sampled_from([200, 201, 400, 401, 403, 429, 500, 599]),
    token_answers,
    st.one_of(st.none(), hostile_text),
)
def test_token_endpoint_answers_are_tokens_or_refresh_errors(status, body, retry_after):
    tokens = accepts_or_refuses(refresh.interpret_response, status, body, retry_after, NOW)
    if tokens is not None:
        assert tokens and all(isinstance(v, str) and v for v in tokens.values())


# --- JSON-RPC --------------------------------------------------------------------------------


class _Source:
    def get_auth_status(self, include_token: bool = False, refresh_token: bool = False):
        return {"authMethod": None, "authToken": None, "requiresOpenaiAuth": True}

    def account_read(self, refresh_token: bool = False):
        return {"account": None, "requiresOpenaiAuth": True}


rpc_messages = st.fixed_dictionaries(
    {
        "method": st.one_of(
            st.sampled_from(
                ["initialize", "initialized", "getAuthStatus", "account/read", "shutdown"]
            ),
            json_values,
        )
    },
    optional={
        "id": json_values,
        "params": st.one_of(
            st.fixed_dictionaries(
                {}, optional={"includeToken": json_values, "refreshToken": json_values}
            ),
            json_values,
        ),
        "jsonrpc": json_values,
    },
)
rpc_lines = st.one_of(
    rpc_messages.map(dumps),
    json_values.map(dumps),
    hostile_text,
    st.integers(10, 200_000).map(lambda n: "[" * n),
    st.just('{"method": "getAuthStatus", "id": ' + "[" * 50_000 + "]" * 50_000 + "}"),
)


@FAST
@given(st.lists(rpc_lines, min_size=1, max_size=6))
def test_every_json_rpc_line_gets_an_answer_and_the_server_keeps_serving(lines):
    session = rpc.RpcSession(_Source())
    session.handle_line('{"id": 0, "method": "initialize", "params": {}}')
    for line in lines:
        answer = session.handle_line(line)  # never raises: a bad line gets an error answer
        if answer is not None:
            text = json.dumps(answer)
            assert "\n" not in text
            assert ("result" in answer) != ("error" in answer)
    status = session.handle_line('{"id": 9, "method": "getAuthStatus"}')
    assert status is not None and status["result"]["requiresOpenaiAuth"] is True


def test_auth_serve_process_answers_hostile_lines_and_keeps_serving(tmp_path):
    """The real `codex-install auth serve` on stdio: bytes that are not UTF-8, nesting deeper
    than the recursion limit, NULs, a 1 MB line — each gets -32700, the next request an answer."""
    import os
    import subprocess
    import sys

    from .helpers import INSTALLER

    hostile = [
        b"\xff\xfe\x00garbage",
        b"[" * 200_000,
        b'{"id": 1, "method": "initialize"' + b" " * 1_000_000,  # never closed
        b"\x00\x00",
        b'{"id": "\xed\xa0\x80", "method": "getAuthStatus"}',
    ]
    requests = [
        b'{"id": 10, "method": "initialize", "params": {"clientInfo": {}}}',
        b'{"method": "initialized"}',
        b'{"id": 11, "method": "getAuthStatus", "params": {"includeToken": true}}',
    ]
    stdin = b"\n".join([*hostile, *requests]) + b"\n"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "CODEX_HOME": str(tmp_path),
        "PYTHONPATH": str(INSTALLER),
        "LANG": "C.UTF-8",
    }
    done = subprocess.run(
        [sys.executable, "-m", "codex_install", "auth", "serve"],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    errors = [a for a in answers if "error" in a]
    assert len(errors) >= len(hostile) - 1 and all(
        a["error"]["code"] in (-32700, -32600) for a in errors
    ), answers
    assert answers[-2] == {"id": 10, "result": answers[-2]["result"]}
    assert answers[-1] == {
        "id": 11,
        "result": {"authMethod": None, "authToken": None, "requiresOpenaiAuth": True},
    }
