"""The watchdog (``http.watchdog``) for httpx: every request, on any transport httpx mounts
(the environment's proxies, the npm registry's own), held to its deadline until its headers are
in, through httpcore's ``trace`` extension, which names each socket the request connects.

Imports httpx at module level: only a request that moves bytes imports this module.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from codex_install.http.watchdog import DEADLINE, Alarm


class _Tracer:
    """httpcore's ``trace`` extension: learns each socket the request connects (TLS or not) so
    the alarm can shut it down, then passes the event on to the caller's own tracer."""

    def __init__(
        self, alarm: Alarm, sockets: weakref.WeakSet[Any], inner: Callable[..., Any] | None
    ) -> None:
        self.alarm, self.sockets, self.inner = alarm, sockets, inner

    def __call__(self, event: str, info: Mapping[str, Any]) -> Any:
        if event.endswith(".receive_response_headers.started"):
            request = info.get("request")
            timeouts = request.extensions.get("timeout", {}) if request is not None else {}
            self.alarm.reading(timeouts.get("read"))
        elif event.endswith((".connect_tcp.complete", ".start_tls.complete")):
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if sock is not None:
                self.sockets.add(sock)
                self.alarm.watch(sock)
        return self.inner(event, info) if self.inner is not None else None


def send_within(
    send: Callable[[httpx.Request], httpx.Response],
    request: httpx.Request,
    seconds: float,
    sockets: weakref.WeakSet[Any],
) -> httpx.Response:
    """``send(request)`` (which returns once the headers are in), given up at the request's
    ``DEADLINE`` extension (default: now + ``seconds``): its sockets are shut down then and
    :class:`~codex_install.http.watchdog.DeadlinePassed` is raised. ``sockets`` are those the
    same client opened before: a kept-alive connection may carry this request."""
    now = time.monotonic()
    deadline = float(request.extensions.get(DEADLINE, now + seconds))
    with Alarm(deadline, round(max(deadline - now, 0.0), 1)) as alarm:
        request.extensions = {
            **request.extensions,
            "trace": _Tracer(alarm, sockets, request.extensions.get("trace")),
        }
        for sock in list(sockets):
            if sock.fileno() != -1:
                alarm.watch(sock)
        try:
            response = send(request)
        except httpx.TransportError as err:
            if alarm.fired:
                raise alarm.passed() from err
            raise
        if alarm.settle():
            response.close()
            raise alarm.passed()
        return response


_SOCKETS: weakref.WeakKeyDictionary[httpx.Client, weakref.WeakSet[Any]] = (
    weakref.WeakKeyDictionary()
)


def send(
    client: httpx.Client, request: httpx.Request, seconds: float, *, client_auth: bool = True
) -> httpx.Response:
    """``client.send(request, stream=True)`` held to the request's deadline (its DEADLINE
    extension, else now + ``seconds``), whatever transport httpx picks for it.
    ``client_auth=False``: without the client's auth flow (a registry's token request, made
    from inside that flow)."""
    sockets = _SOCKETS.setdefault(client, weakref.WeakSet())
    if client_auth:
        return send_within(lambda r: client.send(r, stream=True), request, seconds, sockets)
    return send_within(lambda r: client.send(r, stream=True, auth=None), request, seconds, sockets)
