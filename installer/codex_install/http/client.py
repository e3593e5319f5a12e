"""The checks every user-given URL and proxy go through before any request is made with it, and
the short forms messages show. Light on purpose (no httpx, no requests): config and the .npmrc
reader import it."""

from __future__ import annotations

from urllib.parse import urlsplit

from codex_install.errors import UsageError, shown_url

WEB_SCHEMES = ("http", "https")
SOCKS_REFUSED = "SOCKS proxies are not supported; use an http:// proxy"
_UNENCODED = "a / ? # or @ in its user:password must be percent-encoded"


def with_scheme(value: str) -> str:
    """A proxy variable as requests, httpx, curl and pip read it: ``host:port`` (no scheme) is
    an http:// proxy."""
    return value if "://" in value else f"http://{value}"


def check_proxy(url: str, what: str, *, hint: str | None = None) -> str:
    """``url`` when it is an http(s) proxy URL we can use, else a UsageError (exit 2) saying
    ``cannot use {what}: …`` — never with the proxy's credentials."""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    problem = SOCKS_REFUSED if scheme.startswith("socks") else _proxy_problem(url)
    if problem is not None:
        raise UsageError(f"cannot use {what}: {problem}", hint=hint)
    return url


def _proxy_problem(url: str) -> str | None:
    shown = shown_url(url)
    found = url_problem(url, WEB_SCHEMES)
    if found is None and "@" in url and "@" not in urlsplit(url).netloc:
        found = _UNENCODED  # "user:12/x@host": the request would go to host "user"
    if found is not None and shown != url:  # the parser's words can quote the password
        found = url_problem(shown, WEB_SCHEMES) or _UNENCODED
    return None if found is None else f"{shown!r} is not an http:// proxy URL ({found})"


def url_problem(url: str, schemes: tuple[str, ...] = (*WEB_SCHEMES, "file")) -> str | None:
    """Why ``url`` cannot be used (a bad host, a port that is no number or out of range, a
    character no request line may carry, a scheme we do not speak), or None."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # ValueError for "host:notaport" and for ports past 65535
    except ValueError as err:
        return str(err) or type(err).__name__
    if parts.scheme not in schemes:
        return f"the scheme must be {' or '.join(schemes)}"
    if parts.scheme in WEB_SCHEMES and not parts.hostname:
        return "it has no host"
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return "it holds whitespace or a control character"
    return None


def check_url(url: str, what: str, schemes: tuple[str, ...] = (*WEB_SCHEMES, "file")) -> str:
    """``url`` unchanged, or a UsageError (exit 2) naming it: every URL a user gives (flag,
    environment, .npmrc) goes through here before any request is made with it."""
    problem = url_problem(url, schemes)
    if problem is not None:
        raise UsageError(f"{what} {shown_url(url)!r} is not a valid URL: {problem}")
    return url


def first_line(err: BaseException) -> str:
    """An exception as one short line, for messages."""
    return (str(err) or type(err).__name__).splitlines()[0][:200]


def host_of(url: str) -> str:
    """``host[:port]`` of ``url`` for messages (no credentials)."""
    try:
        netloc = urlsplit(url).netloc
    except ValueError:  # a malformed URL is shown as it is, redacted
        return shown_url(url)
    return netloc.rpartition("@")[2] or shown_url(url)
