"""The watchdog (``http.watchdog``) for requests sessions: an adapter whose connections hand
their socket to the current request's alarm when they start waiting for the answer, so a server
trickling its headers is cut off at the request's deadline like any other.

Imports requests and urllib3 at module level: only the GitHub API request imports this module.
"""

from __future__ import annotations

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
    making watched connections."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager


def watch_session(session: requests.Session) -> requests.Session:
    """``session`` with the watched adapter for http:// and https://."""
    adapter = WatchedAdapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
