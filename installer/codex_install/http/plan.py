"""The network plan: everything both HTTP libraries are built from, made once per command from
``config.Settings`` (pure values, no I/O): timeouts, the floor speed, the one trust rule, the
metadata cache, the User-Agent, and the origins with settings of their own (the GitHub API's
token, the npm registry's credentials, proxy and TLS from .npmrc).

Proxies are each library's own reading of the environment (requests' and httpx's
``trust_env``); only an origin's own ``proxy`` here replaces it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from codex_install import __version__
from codex_install.errors import UsageError
from codex_install.http.client import first_line
from codex_install.http.limits import (
    CONNECT_TIMEOUT_S,
    DEFAULT_DEADLINE_S,
    DOWNLOAD_DEADLINE_S,
    FLOOR_BYTES_PER_S,
    FLOOR_WINDOW_S,
)

if TYPE_CHECKING:
    import ssl

USER_AGENT = f"codex-install/{__version__}"
# The variables that replace the operating system's trust store, for every request (pip,
# requests and curl users set the last two; OpenSSL and httpx read the first two).
TRUST_ENV = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
_PORTS = {"http": 80, "https": 443}


def trust_from(env: Mapping[str, str]) -> tuple[str, ...]:
    """The CA files and dirs the four trust variables name (empty: the OS trust store)."""
    return tuple(dict.fromkeys(v for name in TRUST_ENV if (v := env.get(name, "").strip())))


def origin(url: str) -> str:
    """``scheme://host:port`` (port always spelled): what a route is keyed by."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}:{parts.port or _PORTS.get(scheme, 0)}"


@dataclass(frozen=True)
class Route:
    """Requests to one origin: the header that authorizes them (sent there and nowhere else,
    redirects included), and — ``own_network`` — the proxy (None: direct) and TLS context that
    replace the environment's and the plan's (.npmrc's for the npm registry)."""

    origin: str
    authorization: str | None = field(default=None, repr=False)
    own_network: bool = False
    proxy: str | None = field(default=None, repr=False)
    context: ssl.SSLContext | None = field(default=None, compare=False, repr=False)
    verify: bool = True  # False: .npmrc's strict-ssl=false


@dataclass(frozen=True)
class Floor:
    """A transfer averaging under ``bytes_per_s`` over ``seconds`` is stalled (curl's
    ``--speed-limit``/``--speed-time``)."""

    bytes_per_s: int = FLOOR_BYTES_PER_S
    seconds: float = FLOOR_WINDOW_S


@dataclass(frozen=True)
class NetworkPlan:
    metadata_s: float = DEFAULT_DEADLINE_S
    download_s: float = DOWNLOAD_DEADLINE_S
    connect_s: float = CONNECT_TIMEOUT_S
    floor: Floor = Floor()
    trust: tuple[str, ...] = ()
    cache_dir: Path | None = None
    user_agent: str = USER_AGENT
    routes: tuple[Route, ...] = ()
    offline: bool = False  # --offline: no request at all (Network refuses to open a client)

    def route_for(self, url: str) -> Route | None:
        wanted = origin(url)
        return next((r for r in self.routes if r.origin == wanted), None)

    def with_route(self, route: Route) -> NetworkPlan:
        """This plan with ``route`` for its origin (replacing one it had)."""
        kept = tuple(r for r in self.routes if r.origin != route.origin)
        return replace(self, routes=(*kept, route))

    def context(self) -> ssl.SSLContext:
        """The one trust rule for every request: the CAs the trust variables name, else the
        operating system's store (truststore, as pip does)."""
        return trust_context(self.trust)


def trust_context(trust: tuple[str, ...]) -> ssl.SSLContext:
    """One context per trust setting and the files' state: a process (or a test run) making
    many clients parses a CA bundle once."""
    return _context(trust, tuple(_stat(p) for p in trust))


def _stat(path: str) -> tuple[int, int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (0, 0, 0)
    return (st.st_ino, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _context(trust: tuple[str, ...], _state: tuple[tuple[int, int, int], ...]) -> ssl.SSLContext:
    return fresh_context(trust)


def fresh_context(trust: tuple[str, ...]) -> ssl.SSLContext:
    """A new context with the trust rule, for one that adds to it (a client certificate)."""
    import ssl  # only a TLS request builds it: a loopback http:// install never does

    if not trust:
        return system_context()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, checks host names
    for path in trust:
        try:
            if os.path.isdir(path):
                context.load_verify_locations(capath=path)
            else:
                context.load_verify_locations(cafile=path)
        except (OSError, ssl.SSLError, ValueError) as err:
            raise UsageError(
                f"cannot use the CA bundle {path!r} ({first_line(err)})",
                hint=f"point {' / '.join(TRUST_ENV)} at a PEM file or a c_rehash'd dir",
            ) from err
    return context


def system_context() -> ssl.SSLContext:
    """The operating system's trust store. Where that store is OpenSSL's own default bundle
    (Linux and the BSDs, when this Python's OpenSSL finds one), the context loads it once:
    truststore's context does the same on these systems but reloads the bundle on every new
    connection (~15 ms each, four or five connections an install). Elsewhere (macOS, Windows,
    a Python whose OpenSSL looks in the wrong place) truststore asks the system."""
    import ssl
    import sys

    found = ssl.get_default_verify_paths().cafile
    if sys.platform not in ("darwin", "win32") and found:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, checks host names
        context.set_default_verify_paths()
        return context
    import truststore

    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
