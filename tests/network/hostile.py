"""Loopback servers that misbehave on the wire: accept and never answer, trickle a body one
byte at a time, trickle the status line and headers themselves one byte at a time (never
finishing them), send an endless chunked body as fast as the client reads, or send a body
under a Content-Length other than its own and hang up (cut-off)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"


def _serve(
    conn: socket.socket,
    mode: str,
    interval: float,
    stop: threading.Event,
    cut: tuple[bytes, int],
    heard: list[bytes] | None,
) -> None:
    with contextlib.suppress(OSError), conn:
        conn.settimeout(1.0)
        with contextlib.suppress(OSError):
            request = conn.recv(65536)
            if heard is not None:
                heard.append(request)
        if mode == "cut-off":
            body, claimed = cut
            length = f"Content-Length: {claimed}\r\nConnection: close\r\n\r\n".encode()
            conn.sendall(HEADERS + b'ETag: "e1"\r\n' + length + body)
            return
        if mode == "blackhole":
            stop.wait()
            return
        if mode == "trickle-headers":
            # A status line, then one header that never ends: no read ever times out, and the
            # answer never starts.
            for byte in HEADERS + b"X-Trickle: ":
                if stop.wait(interval):
                    return
                conn.sendall(bytes([byte]))
            while not stop.wait(interval):
                conn.sendall(b"a")
            return
        if mode == "trickle":
            conn.sendall(HEADERS + b"Content-Length: 1000000\r\n\r\n")
            while not stop.is_set():
                conn.sendall(b" ")
                stop.wait(interval)
            return
        # endless: a chunked body with no end, 1 MiB per chunk
        conn.sendall(HEADERS + b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"100000\r\n" + b" " * (1 << 20) + b"\r\n"
        while not stop.is_set():
            conn.sendall(chunk)


@contextlib.contextmanager
def hostile_server(
    mode: str,
    interval: float = 2.0,
    *,
    accepted: list[float] | None = None,
    body: bytes = b"",
    claimed: int = 0,
    heard: list[bytes] | None = None,
) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a server in ``mode`` (blackhole, trickle, trickle-headers,
    endless, cut-off: ``body`` under ``Content-Length: claimed``); ``accepted`` gets the
    ``time.monotonic()`` of each connection it accepts, ``heard`` each request's head."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if accepted is not None:
                accepted.append(time.monotonic())
            t = threading.Thread(
                target=_serve,
                args=(conn, mode, interval, stop, (body, claimed), heard),
                daemon=True,
            )
            t.start()
            threads.append(t)

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        acceptor.join(2)
        listener.close()
        for t in threads:
            t.join(2)


def elapsed(start: float) -> float:
    return time.monotonic() - start
