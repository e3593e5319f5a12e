"""A fake OAuth token endpoint on 127.0.0.1 for the auth tests (SPEC §9).

Thread-safe, counts every request, and answers either like the real endpoint with refresh-token
rotation (a used refresh token becomes invalid; spending it again returns 401
``refresh_token_reused``) or with one fixed reply (any status, body, headers), optionally slowly.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from servers.fake_http import loopback, send_json, stop_server

CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"
AUTH_CLAIM = "https://api.openai.com/auth"


def make_jwt(claims: Mapping[str, Any]) -> str:
    def part(obj: Mapping[str, Any]) -> str:
        raw = json.dumps(obj, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def id_token(email: str = "dev@example.com", plan: str = "plus", account: str = "acct-1") -> str:
    return make_jwt(
        {
            "email": email,
            AUTH_CLAIM: {
                "chatgpt_plan_type": plan,
                "chatgpt_account_id": account,
                "chatgpt_user_id": "user-1",
            },
        }
    )


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None  # JSON-encoded unless it is a str or bytes
    headers: Mapping[str, str] = field(default_factory=dict)


class FakeTokenEndpoint:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._serial = itertools.count(1)
        self._valid: set[str] = set()
        self._spent: set[str] = set()
        self.requests: list[dict[str, Any]] = []
        self.reused = 0  # answers of refresh_token_reused
        self.reply: Reply | None = None  # None: rotate like the real endpoint
        self.delay = 0.0
        self.access_ttl = 3600.0
        self._server, self._thread = loopback(self._handler())

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/oauth/token"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def issue_refresh_token(self) -> str:
        with self._lock:
            token = f"rt-{next(self._serial)}-{time.monotonic_ns()}"
            self._valid.add(token)
            return token

    def respond(
        self,
        status: int,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.reply = Reply(status, body, dict(headers or {}))

    def rotate(self) -> None:
        self.reply = None

    def start(self) -> FakeTokenEndpoint:
        self._thread.start()
        return self

    def stop(self) -> None:
        stop_server(self._server)

    def _answer(self, body: Any) -> Reply:
        with self._lock:
            self.requests.append(body if isinstance(body, dict) else {"raw": body})
            if self.reply is not None:
                return self.reply
            if (
                not isinstance(body, dict)
                or body.get("client_id") != CLIENT_ID
                or body.get("grant_type") != "refresh_token"
            ):
                return Reply(400, {"error": "invalid_request"})
            token = body.get("refresh_token")
            if token in self._spent:
                self.reused += 1
                return Reply(
                    401,
                    {
                        "error": {
                            "code": "refresh_token_reused",
                            "message": "refresh token already used",
                        }
                    },
                )
            if token not in self._valid:
                return Reply(400, {"error": "invalid_grant"})
            self._valid.discard(token)
            self._spent.add(token)
            serial = next(self._serial)
            new_refresh = f"rt-{serial}-{time.monotonic_ns()}"
            self._valid.add(new_refresh)
            access = make_jwt({"exp": int(time.time() + self.access_ttl), "n": serial})
            return Reply(
                200, {"id_token": id_token(), "access_token": access, "refresh_token": new_refresh}
            )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate small writes

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw.decode(errors="replace")
                reply = endpoint._answer(body)
                if endpoint.delay:
                    time.sleep(endpoint.delay)
                send_json(self, reply.status, reply.body, reply.headers)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@contextmanager
def running() -> Iterator[FakeTokenEndpoint]:
    endpoint = FakeTokenEndpoint().start()
    try:
        yield endpoint
    finally:
        endpoint.stop()
