"""The httpx transport ``make_client`` builds: per request, the route (the environment's proxy,
or an origin's own network settings such as the npm registry's), each route's httpx transport
made on first use, and every request held to its deadline until its headers are in.

Imports httpx at module level: only ``make_client`` (and the refresh) import this module.
"""

from __future__ import annotations

import ssl
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from codex_install.http.proxies import environment_proxy
from codex_install.http.watchdog import DEADLINE, Alarm

_DEFAULT_PORTS = {"http": 80, "https": 443}
Origin = tuple[str, str, int]  # scheme, host, port


@dataclass(frozen=True)
class NetworkSettings:
    """How requests to one origin go out, instead of the environment's way: through ``proxy``
    (None: direct), trusting ``ssl_context`` (None: the default CAs; it also carries a client
    certificate, or no verification at all)."""

    proxy: str | None = None
    ssl_context: ssl.SSLContext | None = field(default=None, compare=False)


def origin_of(url: str) -> Origin:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme, 0)


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


class _Guarded(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, seconds: float) -> None:
        self.inner = inner
        self.seconds = seconds
        self.sockets: weakref.WeakSet[Any] = weakref.WeakSet()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return send_within(self.inner.handle_request, request, self.seconds, self.sockets)

    def close(self) -> None:
        self.inner.close()


_Key = tuple[str, object, object]


def _transport(scheme: str, settings: NetworkSettings) -> httpx.BaseTransport:
    # verify=False where no TLS is ever spoken: a client that only speaks http:// (a loopback
    # or LAN mirror) never loads the CA bundle into a TLS context (20-40 ms).
    verify: ssl.SSLContext | bool = settings.ssl_context or scheme != "http"
    return httpx.HTTPTransport(verify=verify, proxy=settings.proxy, trust_env=True)


class Router(httpx.BaseTransport):
    """Every request of a ``make_client`` client: an origin given its own settings
    (:func:`use_settings`) goes their way, any other the environment's (proxies as requests
    picks them: ``{scheme}_proxy``, else ``all_proxy``, unless ``no_proxy`` matches)."""

    def __init__(self, seconds: float, proxies: Mapping[str, str]) -> None:
        self.seconds = seconds
        self.proxies = dict(proxies)
        self.routes: dict[Origin, NetworkSettings] = {}
        self.made: dict[_Key, _Guarded] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        port = url.port or _DEFAULT_PORTS.get(url.scheme, 0)
        origin = (url.scheme, url.host.lower(), port)
        settings = self.routes.get(origin)
        key: _Key
        if settings is not None:
            key = ("origin", origin, None)
        else:
            proxy = environment_proxy(url.scheme, url.host, port, self.proxies)
            settings = NetworkSettings(proxy=proxy)
            key = ("environment", url.scheme, settings.proxy)
        if key not in self.made:
            self.made[key] = _Guarded(_transport(url.scheme, settings), self.seconds)
        return self.made[key].handle_request(request)

    def proxy_for(self, url: str) -> str | None:
        """The proxy URL a request to ``url`` goes through (None: direct)."""
        origin = origin_of(url)
        settings = self.routes.get(origin)
        if settings is not None:
            return settings.proxy
        scheme, host, port = origin
        return environment_proxy(scheme, host, port, self.proxies)

    def use(self, origin: Origin, settings: NetworkSettings) -> None:
        self.routes[origin] = settings
        made = self.made.pop(("origin", origin, None), None)
        if made is not None:
            made.close()

    def close(self) -> None:
        for made in self.made.values():
            made.close()


_ROUTERS: weakref.WeakKeyDictionary[httpx.Client, Router] = weakref.WeakKeyDictionary()
_FOREIGN: weakref.WeakKeyDictionary[httpx.Client, weakref.WeakSet[Any]] = (
    weakref.WeakKeyDictionary()
)


def make(seconds: float, proxies: Mapping[str, str], **options: Any) -> httpx.Client:
    router = Router(seconds, proxies)
    # trust_env: .netrc as before; the environment's proxies are the router's (httpx mounts none
    # beside a transport of ours).
    client = httpx.Client(transport=router, trust_env=True, **options)
    _ROUTERS[client] = router
    return client


def proxy_for(client: httpx.Client, url: str) -> str | None:
    """The proxy URL ``client`` sends ``url``'s requests through: the registry's own from
    .npmrc, else the environment's unless NO_PROXY sends it direct. None when direct (or for a
    client not made by make_client)."""
    router = _ROUTERS.get(client)
    return router.proxy_for(url) if router is not None else None


def is_ours(client: httpx.Client) -> bool:
    """Whether ``client`` was made by ``make_client`` (and so can take :func:`use_settings`)."""
    return client in _ROUTERS


def default_context() -> ssl.SSLContext:
    """The trust httpx starts from (SSL_CERT_FILE / SSL_CERT_DIR, else its bundled CAs), for
    a context that adds a client certificate to it."""
    return httpx.create_ssl_context(trust_env=True)


def use_settings(client: httpx.Client, url: str, settings: NetworkSettings) -> None:
    """Send every later request of ``client`` to ``url``'s origin (scheme, host, port) with
    ``settings``; other origins are untouched."""
    router = _ROUTERS.get(client)
    if router is None:
        raise TypeError("network settings need a client made by make_client")
    router.use(origin_of(url), settings)


def send_guarded(client: httpx.Client, request: httpx.Request, seconds: float) -> httpx.Response:
    """``client.send(request, stream=True)`` held to the request's deadline even when the client
    is not one of ``make_client``'s (whose transport holds it anyway)."""
    if client in _ROUTERS:
        return client.send(request, stream=True)
    sockets = _FOREIGN.setdefault(client, weakref.WeakSet())
    return send_within(lambda r: client.send(r, stream=True), request, seconds, sockets)
