"""A fake ChatGPT backend on 127.0.0.1: the accounts check of workspace routing discovery.

Answers ``GET …/wham/accounts/check`` (a base URL under ``/backend-api``) and
``GET …/api/codex/accounts/check`` (any other base URL) the way Codex's backend client asks,
with one scriptable reply, optionally slowly; every request is logged (path and headers).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from servers.fake_http import loopback, send_json, stop_server

CHECK_PATHS = ("/backend-api/wham/accounts/check", "/api/codex/accounts/check")


def accounts(
    account_id: str = "acct-1",
    origin: str | None = "NO_CONSTRAINT",
    override: str | None = "NO_CONSTRAINT",
) -> dict[str, Any]:
    """An accounts-check answer listing one workspace."""
    return {
        "accounts": [
            {
                "id": account_id,
                "workspace_backend_origin": origin,
                "account_routing_override": override,
            }
        ]
    }


@dataclass(frozen=True)
class Logged:
    path: str
    headers: Mapping[str, str]


@dataclass
class FakeChatGPT:
    status: int = 200
    body: Any = field(default_factory=accounts)  # JSON-encoded unless it is a str or bytes
    delay: float = 0.0
    log: list[Logged] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server, self._thread = loopback(self._handler())

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        """A ``chatgpt_base_url`` whose accounts check is ``/wham/accounts/check``."""
        return f"{self.origin}/backend-api"

    @property
    def checks(self) -> list[Logged]:
        with self._lock:
            return [entry for entry in self.log if entry.path in CHECK_PATHS]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with backend._lock:
                    backend.log.append(Logged(self.path, dict(self.headers.items())))
                if backend.delay:
                    time.sleep(backend.delay)
                if self.path in CHECK_PATHS:
                    send_json(self, backend.status, backend.body)
                else:
                    send_json(self, 404, {"detail": "not found"})

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@contextmanager
def running(**kwargs: Any) -> Iterator[FakeChatGPT]:
    backend = FakeChatGPT(**kwargs)
    backend._thread.start()
    try:
        yield backend
    finally:
        stop_server(backend._server)
