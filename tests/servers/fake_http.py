"""A real HTTP server on 127.0.0.1 serving in-memory routes, with scriptable faults.

Used as the fake GitHub API, the static mirror and the CDN that assets redirect to. Each route
has a body and headers; ``faults[path]`` is a queue of actions consumed one per request:
  "500" / "503" / "502"    answer that status
  "429:<secs>"             answer 429 with Retry-After
  "drop:<n>"               send headers with the full length, then n body bytes, then close
  "hold:<n>:<secs>"        the same, but hold the connection open for secs before closing
  "html"                   answer 200 with an HTML error page
  "flip:<n>"               serve the body with byte n flipped
  "stall:<secs>"           sleep before answering
  "norange"                ignore Range and send the whole body
  "trickle:<secs>"         send the body in 20 pieces spread over secs seconds
Every request is logged (method, path, headers) for assertions.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import socketserver
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Route:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    redirect: str | None = None


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    headers: dict[str, str]


class FakeHTTPServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.faults: dict[str, deque[str]] = {}
        self.log: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self.httpd, self._thread = loopback(_make_handler(self))
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeHTTPServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        stop_server(self.httpd)

    def add(self, path: str, body: bytes | str, status: int = 200, **headers: str) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.routes[same_path(path)] = Route(
            data, status, {k.replace("_", "-"): v for k, v in headers.items()}
        )

    def redirect(self, path: str, location: str) -> None:
        self.routes[same_path(path)] = Route(b"", 302, {}, redirect=location)

    def fault(self, path: str, *actions: str) -> None:
        self.faults.setdefault(same_path(path), deque()).extend(actions)

    def requests_to(self, path: str) -> list[LoggedRequest]:
        with self._lock:
            return [r for r in self.log if same_path(r.path) == same_path(path)]

    def count(self, prefix: str = "") -> int:
        with self._lock:
            return sum(1 for r in self.log if r.path.startswith(prefix))

    def _next_fault(self, path: str) -> str | None:
        with self._lock:
            queue = self.faults.get(same_path(path))
            return queue.popleft() if queue else None

    def _record(self, method: str, path: str, headers: Any) -> None:
        with self._lock:
            self.log.append(LoggedRequest(method, path, {k.lower(): v for k, v in headers.items()}))


def same_path(path: str) -> str:
    """``path`` with its percent-escapes in one case: ``%2f`` and ``%2F`` are the same byte
    (RFC 3986 §2.1), and requests spells them upper-case where httpx and npm keep them."""
    return re.sub(r"%[0-9a-fA-F]{2}", lambda m: m.group().upper(), path)


def stop_server(httpd: socketserver.TCPServer) -> None:
    """Stop a ``serve_forever`` loop at once and close its socket.

    ``shutdown()`` alone returns only when the loop next wakes up (its poll interval, up to
    0.5 s a server): a throwaway connection wakes it now.
    """
    stopper = threading.Thread(target=httpd.shutdown, daemon=True)
    stopper.start()
    with contextlib.suppress(OSError):
        socket.create_connection(httpd.server_address[:2], timeout=1).close()
    stopper.join()
    httpd.server_close()


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-body (a capped, stalled or timed-out read) is what these tests
        # do on purpose; a traceback on stderr would land in whatever test runs next.
        pass


def loopback(
    handler: type[BaseHTTPRequestHandler],
) -> tuple[QuietServer, threading.Thread]:
    """A server for ``handler`` on a free 127.0.0.1 port and the (unstarted) thread serving
    it; ``stop_server`` ends both at once."""
    httpd = QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    return httpd, thread


def send_json(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: Any,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Answer ``body`` (JSON-encoded unless it is already str or bytes) with its length."""
    data = (
        body
        if isinstance(body, bytes)
        else body.encode()
        if isinstance(body, str)
        else json.dumps(body).encode()
    )
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


def _make_handler(server: FakeHTTPServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: with Nagle on, the body waits for the
        # client's delayed ACK (~40 ms a response on loopback).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_HEAD(self) -> None:
            self._serve(head=True)

        def do_GET(self) -> None:
            self._serve(head=False)

        def _serve(self, head: bool) -> None:
            path = self.path.split("?", 1)[0]
            server._record(self.command, path, self.headers)
            fault = server._next_fault(path)
            if fault and fault.startswith("stall:"):
                time.sleep(float(fault.split(":", 1)[1]))
                fault = server._next_fault(path)
            route = server.routes.get(same_path(path))
            if fault and fault.isdigit():
                return self._simple(int(fault), b"server error\n")
            if fault and fault.startswith("429"):
                secs = fault.split(":", 1)[1] if ":" in fault else "0"
                return self._simple(429, b"slow down\n", {"Retry-After": secs})
            if fault == "html":
                page = b"<!DOCTYPE html><html><body>Service unavailable</body></html>"
                return self._simple(200, page, {"Content-Type": "text/html"})
            if route is None:
                return self._simple(404, b'{"message": "Not Found"}')
            if route.redirect:
                return self._simple(route.status, b"", {"Location": route.redirect})
            body = route.body
            if fault and fault.startswith("flip:"):
                n = int(fault.split(":", 1)[1])
                body = body[:n] + bytes([body[n] ^ 0xFF]) + body[n + 1 :]
            status = route.status
            headers = dict(route.headers)
            headers.setdefault("Accept-Ranges", "bytes")
            etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
            if status == 200:
                headers.setdefault("ETag", etag)
                if self.headers.get("If-None-Match") == etag:
                    return self._simple(304, b"", {"ETag": etag})
            start = 0
            rng = self.headers.get("Range")
            if rng and status == 200 and fault != "norange" and rng.startswith("bytes="):
                start = int(rng[6:].split("-", 1)[0])
                if start >= len(body):
                    return self._simple(416, b"", {"Content-Range": f"bytes */{len(body)}"})
                status = 206
                headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
            payload = body[start:]
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if head:
                return
            if fault and fault.startswith(("drop:", "hold:")):
                n, _, secs = fault.split(":", 1)[1].partition(":")
                self._write(payload[: int(n)])
                self.wfile.flush()
                time.sleep(float(secs or 0))
                self.close_connection = True
                return
            if fault and fault.startswith("trickle:"):
                pause = float(fault.split(":", 1)[1]) / 20
                step = max(1, -(-len(payload) // 20))
                for i in range(0, len(payload), step):
                    self._write(payload[i : i + step])
                    if self.close_connection:  # the client went away
                        return
                    with contextlib.suppress(OSError):
                        self.wfile.flush()
                    time.sleep(pause)
                return
            self._write(payload)

        def _write(self, data: bytes) -> None:
            try:
                view = memoryview(data)
                for i in range(0, len(view), 1 << 20):
                    self.wfile.write(view[i : i + (1 << 20)])
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _simple(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self._write(body)

    return Handler
