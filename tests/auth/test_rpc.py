"""The status protocol: the session state machine in process, then `codex-install auth serve`
as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codex_install.auth.rpc import RpcSession
from codex_install.errors import AuthFileError
from servers.oauth import FakeTokenEndpoint

from .conftest import auth_env, chatgpt_auth, write_auth


class FakeSource:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, bool]]] = []
        self.fail = False

    def get_auth_status(self, include_token: bool = False, refresh_token: bool = False):
        self.calls.append(("getAuthStatus", {"include": include_token, "refresh": refresh_token}))
        if self.fail:
            raise AuthFileError("auth.json is not valid JSON")
        return {"authMethod": "apikey", "authToken": None, "requiresOpenaiAuth": True}

    def account_read(self, refresh_token: bool = False):
        self.calls.append(("account/read", {"refresh": refresh_token}))
        return {"account": {"type": "apiKey"}, "requiresOpenaiAuth": True}


def session() -> tuple[RpcSession, FakeSource]:
    source = FakeSource()
    return RpcSession(source), source


def send(rpc: RpcSession, message: Any) -> Any:
    return rpc.handle_line(message if isinstance(message, str) else json.dumps(message))


INIT = {"id": 0, "method": "initialize", "params": {"clientInfo": {"name": "t", "version": "1"}}}


def test_methods_before_initialize_are_refused() -> None:
    rpc, source = session()
    answer = send(rpc, {"id": 1, "method": "getAuthStatus", "params": {}})
    assert answer == {"id": 1, "error": {"code": -32600, "message": "Not initialized"}}
    assert source.calls == []


def test_handshake_then_methods() -> None:
    rpc, source = session()
    assert send(rpc, INIT)["id"] == 0
    assert send(rpc, {"method": "initialized"}) is None
    answer = send(
        rpc,
        {
            "id": "a",
            "method": "getAuthStatus",
            "params": {"includeToken": True, "refreshToken": True},
        },
    )
    assert answer == {
        "id": "a",
        "result": {"authMethod": "apikey", "authToken": None, "requiresOpenaiAuth": True},
    }
    assert send(rpc, {"id": 2, "method": "account/read"}) == {
        "id": 2,
        "result": {"account": {"type": "apiKey"}, "requiresOpenaiAuth": True},
    }
    assert source.calls == [
        ("getAuthStatus", {"include": True, "refresh": True}),
        ("account/read", {"refresh": False}),
    ]


def test_initialize_result_and_second_initialize() -> None:
    rpc, _ = session()
    first = send(rpc, INIT)
    assert first["result"]["userAgent"].startswith("codex-install/")
    assert send(rpc, {**INIT, "id": 9}) == {
        "id": 9,
        "error": {"code": -32600, "message": "Already initialized"},
    }


def test_jsonrpc_field_is_echoed_when_sent() -> None:
    rpc, _ = session()
    assert send(rpc, {**INIT, "jsonrpc": "2.0"})["jsonrpc"] == "2.0"
    assert "jsonrpc" not in send(rpc, {"id": 3, "method": "account/read"})


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("{garbage", -32700),
        ("[1, 2]", -32600),
        ('{"id": 4}', -32600),
        ('{"id": 4, "method": "thread/start"}', -32601),
        ('{"id": 4, "method": "getAuthStatus", "params": [true]}', -32602),
        ('{"id": 4, "method": "getAuthStatus", "params": {"includeToken": "yes"}}', -32602),
    ],
)
def test_bad_lines_get_errors_and_the_session_goes_on(line: str, code: int) -> None:
    rpc, _ = session()
    send(rpc, INIT)
    answer = send(rpc, line)
    assert answer["error"]["code"] == code
    assert send(rpc, {"id": 5, "method": "account/read"})["result"]["account"] == {"type": "apiKey"}


def test_notifications_get_no_answer_even_when_unknown() -> None:
    rpc, _ = session()
    send(rpc, INIT)
    assert send(rpc, {"method": "something/else"}) is None


def test_auth_file_errors_become_internal_errors() -> None:
    rpc, source = session()
    send(rpc, INIT)
    source.fail = True
    answer = send(rpc, {"id": 6, "method": "getAuthStatus"})
    assert answer["error"]["code"] == -32603
    assert "not valid JSON" in answer["error"]["message"]


# --- the real server ---


def serve(home: Path, oauth: FakeTokenEndpoint, lines: list[str]) -> tuple[list[Any], str, int]:
    run = subprocess.run(
        [sys.executable, "-m", "codex_install", "auth", "serve"],
        input="".join(line + "\n" for line in lines),
        env=auth_env(home, oauth),
        capture_output=True,
        text=True,
        timeout=30,
    )
    return [json.loads(line) for line in run.stdout.splitlines()], run.stderr, run.returncode


def test_serve_over_stdio_until_eof(home: Path, oauth: FakeTokenEndpoint) -> None:
    data = chatgpt_auth(oauth.issue_refresh_token(), exp_in=60)
    write_auth(home, data)
    oauth.respond(401, {"error": {"code": "refresh_token_reused"}})
    status = {"method": "getAuthStatus", "params": {"includeToken": True, "refreshToken": True}}
    lines = [
        json.dumps({"id": 1, **status}),
        json.dumps(INIT),
        json.dumps(INIT | {"id": 2}),
        json.dumps({"method": "initialized"}),
        "this is not json",
        "",
        json.dumps({"id": 3, "method": "no/such"}),
        *[json.dumps({"id": 10 + i, **status}) for i in range(20)],
        json.dumps({"id": 40, "method": "account/read", "params": {"refreshToken": True}}),
    ]
    answers, stderr, code = serve(home, oauth, lines)
    # After `initialized`, from the background: routing discovery done, as Codex 0.171.0 says.
    notes = [a for a in answers if "id" not in a]
    answers = [a for a in answers if "id" in a]
    assert [n["method"] for n in notes] == ["account/updated"]

    assert code == 0
    assert answers[0] == {"id": 1, "error": {"code": -32600, "message": "Not initialized"}}
    assert answers[1]["id"] == 0 and "userAgent" in answers[1]["result"]
    assert answers[2] == {"id": 2, "error": {"code": -32600, "message": "Already initialized"}}
    assert answers[3] == {"id": None, "error": {"code": -32700, "message": "Parse error"}}
    assert answers[4]["error"]["code"] == -32601
    assert [a["result"] for a in answers[5:25]] == [
        {"authMethod": "chatgpt", "authToken": None, "requiresOpenaiAuth": True}
    ] * 20
    assert answers[25] == {
        "id": 40,
        "result": {
            "account": None,
            "userId": None,
            "requiresOpenaiAuth": True,
            "workspaceRouting": None,
        },
    }
    assert len(answers) == 26
    assert oauth.count == 1
    for secret in (data["tokens"]["access_token"], data["tokens"]["refresh_token"]):
        assert secret not in stderr + json.dumps(answers)


def test_serve_exits_cleanly_on_immediate_eof(home: Path, oauth: FakeTokenEndpoint) -> None:
    assert serve(home, oauth, []) == ([], "", 0)


def test_serve_answers_each_line_as_it_arrives(home: Path, oauth: FakeTokenEndpoint) -> None:
    write_auth(home, {"auth_mode": "apikey", "OPENAI_API_KEY": "sk-live-key"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "codex_install", "auth", "serve"],
        env=auth_env(home, oauth),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        for request in (INIT, {"id": 1, "method": "getAuthStatus"}):
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
            answer = json.loads(proc.stdout.readline())  # would hang if the server buffered
            assert answer["id"] == request["id"]
        assert answer["result"]["authMethod"] == "apikey"
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("locale_encoding", ["utf-8:strict", "latin-1"])
def test_serve_reads_utf8_whatever_the_locale_and_survives_bytes_that_are_not(
    home: Path, oauth: FakeTokenEndpoint, locale_encoding: str
) -> None:
    # A strict UTF-8 locale (en_US.UTF-8, the usual desktop) made one stray byte end the session
    # with "unexpected UnicodeDecodeError"; a latin-1 locale garbled every non-ASCII id.
    write_auth(home, {"auth_mode": "apikey", "OPENAI_API_KEY": "sk-live-key"})
    lines = [
        json.dumps(INIT).encode(),
        b"\xff\xfe not utf-8",
        '{"id": "\u00e9", "method": "account/read"}'.encode(),
    ]
    run = subprocess.run(
        [sys.executable, "-m", "codex_install", "auth", "serve"],
        input=b"".join(line + b"\n" for line in lines),
        env={**auth_env(home, oauth), "PYTHONIOENCODING": locale_encoding},
        capture_output=True,
        timeout=30,
    )
    answers = [json.loads(line) for line in run.stdout.splitlines()]
    assert run.returncode == 0, run.stderr
    assert answers[1] == {"id": None, "error": {"code": -32700, "message": "Parse error"}}
    account = {
        "account": {"type": "apiKey"},
        "userId": None,
        "requiresOpenaiAuth": True,
        "workspaceRouting": None,
    }
    assert answers[2] == {"id": "\u00e9", "result": account}
    assert len(answers) == 3
