"""The watchdog (``http.watchdog``) for requests sessions: an adapter whose connections hand
their socket to the current request's alarm when they start waiting for the answer, so a server
trickling its headers is cut off at the request's deadline like any other; it also gives every
https:// connection the plan's trust (or a route's own TLS context).

Imports requests and urllib3 at module level: only a metadata request imports this module.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import requests
import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from codex_install.http.watchdog import current


def _watched(conn: HTTPConnection) -> None:
    alarm = current()
    if alarm is not None and conn.sock is not None:
        alarm.watch(conn.sock)
        alarm.reading(conn.timeout)  # the read timeout urllib3 set for this wait


class _WatchedHTTPConnection(HTTPConnection):
    def getresponse(self) -> urllib3.response.HTTPResponse:  # type: ignore[override]
        _watched(self)
        return super().getresponse()


class _WatchedHTTPSConnection(HTTPSConnection):
    def getresponse(self) -> urllib3.response.HTTPResponse:  # type: ignore[override]
        _watched(self)
        return super().getresponse()


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOLS: dict[str, type[HTTPConnectionPool]] = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class WatchedAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter, with the pools of its pool managers (direct and through proxies)
    making watched connections that trust what ``context()`` trusts."""

    def __init__(self, context: Callable[[], ssl.SSLContext]) -> None:
        self.context = context
        super().__init__()

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: bool | str, cert: Any = None
    ) -> tuple[Any, Any]:
        host, pool = super().build_connection_pool_key_attributes(request, verify, cert)
        if host.get("scheme") == "https":
            pool["ssl_context"] = self.context()
        return host, pool

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager


def watch_session(
    session: requests.Session, context: Callable[[], ssl.SSLContext], *prefixes: str
) -> requests.Session:
    """``session`` with a watched adapter trusting ``context()`` for ``prefixes`` (default:
    every http:// and https:// URL)."""
    adapter = WatchedAdapter(context)
    for prefix in prefixes or ("https://", "http://"):
        session.mount(prefix, adapter)
    return session
