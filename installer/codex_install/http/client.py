"""The one place HTTP clients are made (proxies and SSL_CERT_FILE come from the environment),
and the checks every user-given URL and every TLS failure go through."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from codex_install import __version__
from codex_install.errors import UsageError
from codex_install.http.limits import CONNECT_TIMEOUT_S, metadata_deadline
from codex_install.http.proxies import environment_proxies, environment_proxy

if TYPE_CHECKING:
    import httpx

USER_AGENT = f"codex-install/{__version__}"

# A certificate no trust store accepts is most often a TLS-inspecting corporate proxy. Retrying
# cannot fix it, so it fails at once, saying what to set.
TLS_HINT = "behind a TLS-inspecting proxy, point SSL_CERT_FILE at its CA bundle"


def make_client(
    timeout: float | None = None,
    *,
    connect: float = CONNECT_TIMEOUT_S,
    follow_redirects: bool = True,
    env: Mapping[str, str] | None = None,
) -> httpx.Client:
    """A client with our User-Agent; ``follow_redirects=False`` for endpoints that must not send
    a request body on to another host (the OAuth token endpoint). ``timeout`` is per read
    (default ``metadata_deadline()``, so CODEX_INSTALL_TIMEOUT), and bounds each request until
    its headers are in (unless the request carries its own ``watchdog.DEADLINE``); the loops
    that read bodies hold them to the same deadline. Proxies come from ``env`` (default: the
    process environment); an origin can be given its own (``transport.use_settings``)."""
    from codex_install.http import transport  # heavy (httpx): only network commands pay

    timeout = metadata_deadline() if timeout is None else timeout
    connect = min(connect, timeout)
    proxies = environment_proxies(os.environ if env is None else env)
    check_environment_proxies(proxies)
    import httpx

    return transport.make(
        timeout,
        proxies,
        follow_redirects=follow_redirects,
        timeout=httpx.Timeout(timeout, connect=connect),
        headers={"User-Agent": USER_AGENT},
    )


_ENV_PROXY_HINT = "HTTPS_PROXY, HTTP_PROXY and ALL_PROXY must each be an http:// proxy URL"
SOCKS_REFUSED = "SOCKS proxies are not supported; use an http:// proxy"
_PROXY_VARS = ("https_proxy", "http_proxy", "all_proxy")


def check_environment_proxies(proxies: Mapping[str, str], *, httpx_parse: bool = True) -> None:
    """Refuse (exit 2) a proxy variable no request could go through: requests and httpx would
    each say it their own way, mid-request (a SOCKS proxy: advice to install an extra)."""
    for scheme in ("https", "http", "all"):
        if scheme in proxies:
            check_proxy(
                proxies[scheme],
                "the proxy set in the environment",
                hint=_ENV_PROXY_HINT,
                httpx_parse=httpx_parse,
            )


def check_proxy(url: str, what: str, *, hint: str | None = None, httpx_parse: bool = True) -> str:
    """``url`` when it is an http(s) proxy URL we can use, else a UsageError (exit 2) saying
    ``cannot use {what}: …`` — never with the proxy's credentials."""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    problem = SOCKS_REFUSED if scheme.startswith("socks") else _proxy_problem(url, httpx_parse)
    if problem is not None:
        raise UsageError(f"cannot use {what}: {problem}", hint=hint)
    return url


def _proxy_problem(url: str, httpx_parse: bool) -> str | None:
    shown = proxy_shown(url)
    found = url_problem(url, WEB_SCHEMES, httpx_parse=httpx_parse)
    if found is None and "@" in url and "@" not in urlsplit(url).netloc:
        found = _UNENCODED  # "user:12/x@host": the request would go to host "user"
    if found is not None and shown != url:  # the parser's words can quote the password
        found = url_problem(shown, WEB_SCHEMES, httpx_parse=httpx_parse) or _UNENCODED
    return None if found is None else f"{shown!r} is not an http:// proxy URL ({found})"


_UNENCODED = "a / ? # or @ in its user:password must be percent-encoded"


def proxy_shown(url: str) -> str:
    """A proxy URL for messages: everything before its last ``@`` is credentials, even where a
    ``/``, ``?`` or ``#`` in the password makes a URL parser read it as the path."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    return f"{scheme}{sep}{rest}"


def proxy_in_environment() -> bool:
    """Whether a proxy variable is set (either case), as httpx and requests would read it."""
    return any(os.environ.get(v) or os.environ.get(v.upper()) for v in _PROXY_VARS)


WEB_SCHEMES = ("http", "https")


def url_problem(
    url: str, schemes: tuple[str, ...] = (*WEB_SCHEMES, "file"), *, httpx_parse: bool = True
) -> str | None:
    """Why ``url`` cannot be used (a bad host, a port that is no number or out of range, a
    scheme we do not speak), or None. ``httpx_parse=False`` for URLs only requests will use:
    it refuses the rest itself, and the no-op install of latest never imports httpx."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # ValueError for "host:notaport" and for ports past 65535
    except ValueError as err:
        return str(err) or type(err).__name__
    if parts.scheme not in schemes:
        return f"the scheme must be {' or '.join(schemes)}"
    if parts.scheme in WEB_SCHEMES and not parts.hostname:
        return "it has no host"
    if not httpx_parse:
        return None
    import httpx  # heavy: only commands that go on the network pay for it

    try:
        httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as err:
        return first_line(err)
    return None


def check_url(
    url: str,
    what: str,
    schemes: tuple[str, ...] = (*WEB_SCHEMES, "file"),
    *,
    httpx_parse: bool = True,
) -> str:
    """``url`` unchanged, or a UsageError (exit 2) naming it: every URL a user gives (flag,
    environment, .npmrc) goes through here before any request is made with it."""
    problem = url_problem(url, schemes, httpx_parse=httpx_parse)
    if problem is not None:
        raise UsageError(f"{what} {url!r} is not a valid URL: {problem}")
    return url


def tls_verification_failed(err: BaseException) -> bool:
    """Whether ``err`` (or what it wraps) is a refused server certificate."""
    import ssl  # only a failed request asks; an http:// client never loads it

    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def first_line(err: BaseException) -> str:
    """An exception as one short line, for messages."""
    return (str(err) or type(err).__name__).splitlines()[0][:200]


def host_of(url: str) -> str:
    try:
        return urlsplit(url).netloc or url
    except ValueError:  # a malformed URL is shown as it is
        return url


def redact(url: str) -> str:
    """Drop query strings (signed CDN URLs carry credentials in them) and ``user:password@``."""
    url = url.split("?", 1)[0]
    scheme, sep, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    if sep and "@" in netloc:
        return f"{scheme}://***@{netloc.rsplit('@', 1)[1]}{slash}{path}"
    return url


def proxy_used(client: httpx.Client, url: str) -> str | None:
    """The proxy a request of ``client`` to ``url`` goes through, as ``host:port`` with no
    credentials, for messages (None: it goes direct)."""
    from codex_install.http import transport  # httpx is loaded already: a request failed

    if transport.is_ours(client):
        proxy = transport.proxy_for(client, url)
    else:  # another client with trust_env: the environment's way, as near as we can tell
        scheme, host, port = transport.origin_of(url)
        proxy = environment_proxy(scheme, host, port, environment_proxies(os.environ))
    return host_of(proxy_shown(proxy)).removeprefix("***@") if proxy else None
