"""A loopback HTTP server that misbehaves on purpose, reproducibly.

Every request draws one action from a seeded RNG (``FaultPlan``): answer normally, drop the
connection at a random byte offset, stall before the headers or in the middle of the body,
answer 500/503/429, or flip one byte of the body. Range requests are honoured, so a client that
resumes makes progress. ``rate`` throttles the body (bytes per second) so a client can be killed
in the middle of a download. Every request is logged with the action it got.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from servers.fake_http import loopback, stop_server

ACTIONS = ("ok", "drop", "stall", "stall_body", "500", "503", "429", "flip")


@dataclass
class FaultPlan:
    """Weights per action; ``stall`` durations are drawn from ``stall_seconds``."""

    weights: dict[str, float] = field(default_factory=lambda: {"ok": 1.0})
    stall_seconds: tuple[float, float] = (0.05, 1.0)
    max_consecutive: int | None = None  # faults in a row per path before one "ok" is forced


FLAKY = FaultPlan(
    weights={
        "ok": 0.45,
        "drop": 0.17,
        "stall": 0.06,
        "stall_body": 0.06,
        "500": 0.06,
        "503": 0.06,
        "429": 0.06,
        "flip": 0.08,
    }
)


# Only faults a client is expected to ride out (no corrupted bytes), never more in a row per
# path than a retrying client tolerates: every install against it must succeed.
TRANSIENT = FaultPlan(
    weights={
        "ok": 0.4,
        "drop": 0.2,
        "stall": 0.08,
        "stall_body": 0.08,
        "500": 0.08,
        "503": 0.08,
        "429": 0.08,
    },
    max_consecutive=2,
)


@dataclass(frozen=True)
class Served:
    path: str
    action: str
    detail: str
    range_start: int


class FlakyServer:
    def __init__(self, seed: int = 0, plan: FaultPlan | None = None, rate: float | None = None):
        self.routes: dict[str, bytes] = {}
        self.plan = plan or FaultPlan()
        self.rate = rate
        self.log: list[Served] = []
        self._rng = random.Random(seed)
        self._streak: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.httpd, self._thread = loopback(_handler(self))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> FlakyServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        stop_server(self.httpd)

    def __enter__(self) -> FlakyServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def add(self, path: str, body: bytes) -> None:
        self.routes[path] = body

    def reseed(self, seed: int, plan: FaultPlan | None = None) -> None:
        with self._lock:
            self._rng = random.Random(seed)
            self._streak.clear()
            if plan is not None:
                self.plan = plan
            self.log.clear()

    def actions(self) -> Counter[str]:
        with self._lock:
            return Counter(s.action for s in self.log)

    def _draw(self, path: str, size: int, start: int) -> tuple[str, float, int]:
        """(action, stall seconds, byte offset) for one request, from the seeded RNG."""
        with self._lock:
            names = list(self.plan.weights)
            action = self._rng.choices(names, [self.plan.weights[n] for n in names])[0]
            lo, hi = self.plan.stall_seconds
            stall = self._rng.uniform(lo, hi)
            offset = self._rng.randrange(size) if size > 0 else 0
            if action in ("flip", "drop", "stall_body") and size == 0:
                action = "ok"
            limit = self.plan.max_consecutive
            if limit is not None and self._streak[path] >= limit:
                action = "ok"
            self._streak[path] = 0 if action == "ok" else self._streak[path] + 1
            self.log.append(Served(path, action, f"{stall:.2f}s@{offset}", start))
            return action, stall, offset


def _handler(server: FlakyServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as separate small writes

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            body = server.routes.get(path)
            if body is None:
                self._simple(404, b'{"message": "Not Found"}')
                return
            start = 0
            rng = self.headers.get("Range", "")
            if rng.startswith("bytes="):
                start = int(rng[6:].split("-", 1)[0])
                if start >= len(body):
                    self._simple(416, b"", {"Content-Range": f"bytes */{len(body)}"})
                    return
            payload = body[start:]
            action, stall, offset = server._draw(path, len(payload), start)
            if action == "stall":
                time.sleep(stall)
            elif action in ("500", "503"):
                self._simple(int(action), b"server error\n")
                return
            elif action == "429":
                self._simple(429, b"slow down\n", {"Retry-After": "1"})
                return
            elif action == "flip":
                payload = payload[:offset] + bytes([payload[offset] ^ 0xFF]) + payload[offset + 1 :]
            self.send_response(206 if start else 200)
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            try:
                if action == "drop":
                    self._write(payload[:offset])
                    self.close_connection = True
                    return
                if action == "stall_body":
                    self._write(payload[:offset])
                    time.sleep(stall)
                    self._write(payload[offset:])
                    return
                self._write(payload)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _write(self, data: bytes) -> None:
            view = memoryview(data)
            step = 64 << 10
            for i in range(0, len(view), step):
                piece = view[i : i + step]
                self.wfile.write(piece)
                if server.rate:
                    self.wfile.flush()
                    time.sleep(len(piece) / server.rate)

        def _simple(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    return Handler
