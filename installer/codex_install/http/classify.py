"""The one failure classifier: an answer's status or a library's exception (httpx or requests)
→ what went wrong, whether another try can help, and whether the server ever answered. The
retry loop (``http.retry``) and every message about a failed request start from it."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from codex_install.errors import (
    CodexInstallError,
    NetworkError,
    NotFoundError,
    RateLimitError,
    UsageError,
    printable,
    shown_url,
)
from codex_install.http.client import first_line, host_of
from codex_install.http.retry import RETRYABLE_HTTP_STATUS, parse_retry_after, reset_note
from codex_install.http.watchdog import DeadlinePassed

Kind = Literal[
    "refused",  # no connection: DNS, refused, unreachable (the host never answered)
    "silent",  # connected (or not) but no answer within the first-answer timeout
    "broken",  # the connection broke mid-answer
    "tls",  # the server's certificate is not trusted
    "proxy_auth",  # the proxy wants credentials (407)
    "redirect",  # a redirect loop, or to a scheme we do not speak
    "bad_url",  # a URL no request can be made with
    "deadline",  # the whole request took longer than its deadline
    "not_found",  # 404/410
    "rate_limited",  # GitHub's primary rate limit (remaining 0)
    "secondary",  # GitHub's secondary rate limit (403 with Retry-After)
    "status",  # any other HTTP status that is no answer
]
_SHORT_RETRY_AFTER_S = 20.0
_FINAL: frozenset[Kind] = frozenset(
    {"tls", "proxy_auth", "redirect", "bad_url", "deadline", "not_found", "rate_limited"}
)
_NO_ANSWER: frozenset[Kind] = frozenset({"refused", "silent", "tls"})
TLS_HINT = (
    "behind a TLS-inspecting proxy, point SSL_CERT_FILE (or REQUESTS_CA_BUNDLE) at its CA bundle"
)


@dataclass(frozen=True)
class Failure:
    kind: Kind
    detail: str  # what the library or the server said, one short line
    status: int | None = None
    retry_after: float | None = None
    reset: str = ""  # "; resets at … (in ~N min)" for a rate limit

    @property
    def retryable(self) -> bool:
        if self.kind == "secondary":
            return self.retry_after is not None and self.retry_after <= _SHORT_RETRY_AFTER_S
        if self.kind == "status":
            return self.status in RETRYABLE_HTTP_STATUS
        return self.kind not in _FINAL

    @property
    def answered(self) -> bool:
        """Whether the server (not a proxy or the network) said anything."""
        return self.kind not in _NO_ANSWER

    @property
    def hint(self) -> str | None:
        if self.kind == "tls":
            return TLS_HINT
        if self.kind == "proxy_auth":
            return "put them in the proxy URL (http://user:password@host:port)"
        return None


_PLAIN: dict[int, Kind] = {404: "not_found", 410: "not_found", 407: "proxy_auth"}


def classify_status(
    status: int, headers: Mapping[str, str], *, clock: float | None = None, body: bytes = b""
) -> Failure | None:
    """None for an answer (2xx, 304); else what the status means. ``body``: the start of the
    error answer, when the caller read it (a registry says why in it)."""
    if 200 <= status < 300 or status == 304:
        return None
    retry_after = parse_retry_after(headers.get("retry-after"))
    detail = f"HTTP {status}{error_code(body)}"
    if _rate_limited(status, headers, retry_after):
        now = time.time() if clock is None else clock
        reset = reset_note(headers.get("x-ratelimit-reset"), now)
        return Failure("rate_limited", detail, status, reset=reset)
    if status == 403 and retry_after is not None:
        return Failure("secondary", detail, status, retry_after)
    return Failure(_PLAIN.get(status, "status"), detail, status, retry_after)


def error_code(body: bytes) -> str:
    """`` (MANIFEST_UNKNOWN: …)`` from an error body in the registry API's shape
    (``{"errors": [{"code": …, "message": …}]}``, OCI distribution spec), else ""."""
    if not body.lstrip().startswith(b"{"):
        return ""
    import json

    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # only decoration for a message
        return ""
    errors = data.get("errors") if isinstance(data, dict) else None
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    code, message = first.get("code"), first.get("message")
    if not isinstance(code, str):
        return ""
    text = f"{code}: {message}" if isinstance(message, str) else code
    return f" ({printable(text, 120)})"


def _rate_limited(status: int, headers: Mapping[str, str], retry_after: float | None) -> bool:
    """GitHub's primary limit: no requests left, or a 429 that says no time to wait."""
    if status not in (403, 429):
        return False
    return headers.get("x-ratelimit-remaining") == "0" or (status == 429 and retry_after is None)


def classify_error(err: BaseException) -> Failure:
    """What a failed request's exception means, for httpx's and requests' alike."""
    if isinstance(err, DeadlinePassed):
        return Failure("deadline", str(err))
    if tls_refused(err):
        found = re.search(r"\[SSL: [A-Z_]+\][^()'\"]*", str(err))
        return Failure("tls", found.group().strip() if found else first_line(err))
    text = _DETAILS.get(type(err).__name__) or first_line(err)
    kind = _library_kind(err)
    if kind == "proxy_auth" and "407" not in str(err):
        kind = "refused"
    return Failure(kind, _root_cause(str(err)) if kind == "refused" else text)


_DETAILS = {
    # httpx's own words are a paragraph about generators: a login (or a redirect) asked for a
    # streamed upload's body again, which no stream can give twice
    "StreamConsumed": "the server asked for the upload again mid-way (a new login); run it again"
}


def _library_kind(err: BaseException) -> Kind:
    name = type(err).__name__
    module = type(err).__module__.split(".", 1)[0]
    if module == "requests":
        return _requests_kind(err)
    if module == "httpx":
        return _httpx_kind(name)
    return "silent" if "Timeout" in name else "broken"  # urllib3's, read from a body


def _httpx_kind(name: str) -> Kind:
    kinds: dict[str, Kind] = {
        "ConnectError": "refused",
        "ConnectTimeout": "silent",
        "ReadTimeout": "silent",
        "WriteTimeout": "silent",
        "PoolTimeout": "silent",
        "ProxyError": "proxy_auth",
        "UnsupportedProtocol": "redirect",
        "TooManyRedirects": "redirect",
        "InvalidURL": "bad_url",
        "LocalProtocolError": "bad_url",
    }
    return kinds.get(name, "broken")


def _requests_kind(err: BaseException) -> Kind:
    import requests  # loaded already: one of its requests failed

    exc = requests.exceptions
    table: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], Kind], ...] = (
        (exc.ProxyError, "proxy_auth"),
        ((exc.ConnectTimeout, exc.ReadTimeout), "silent"),
        (exc.ConnectionError, "refused"),
        (exc.ChunkedEncodingError, "broken"),
        (exc.TooManyRedirects, "redirect"),
        ((exc.InvalidURL, exc.MissingSchema, exc.InvalidSchema, exc.InvalidHeader), "bad_url"),
    )
    return next((kind for types, kind in table if isinstance(err, types)), "broken")


def tls_refused(err: BaseException) -> bool:
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


def _root_cause(text: str) -> str:
    """requests nests urllib3 errors several deep; the innermost says what actually failed
    ("Connection refused", "Name or service not known")."""
    cause = text.rsplit("Caused by ", 1)[-1]
    for marker in ("] ", "Errno"):
        if marker in cause:
            tail = cause.rsplit(marker, 1)[-1]
            return tail.split("'", 1)[0].strip(" ')\"")[:80] or text[:80]
    return cause.rsplit(": ", 1)[-1].strip(" ')\"")[:80] or text[:80]


SLOW_HINT = "a slow network: raise CODEX_INSTALL_TIMEOUT (seconds)"


Verb = Literal["fetch", "push"]  # what the request did: a read, or a registry push


def final_error(
    f: Failure,
    what: str,
    url: str,
    *,
    seconds: float,
    proxy: str | None = None,
    verb: Verb = "fetch",
    source: str | None = None,
) -> CodexInstallError | None:
    """The words for a failure no retry was for, whichever library met it (None: the story
    of the host or of the tries, the caller's)."""
    if f.kind == "deadline":
        return NetworkError(
            f"{source or host_of(url)} took longer than {seconds:g} s to send {what}",
            hint=SLOW_HINT,
        )
    if f.kind in ("rate_limited", "secondary"):
        wait = f" (retry after {f.retry_after:.0f} s)" if f.retry_after else ""
        return RateLimitError(
            f"rate limited while fetching {what} ({f.detail}){wait}{f.reset}",
            hint="wait, or use --mirror / --source npm",
        )
    if f.kind == "not_found":
        return NotFoundError(f"{what} not found at {shown_url(url)} ({f.detail})")
    if f.kind == "bad_url":
        return UsageError(f"cannot {verb} {what}: {shown_url(url)} is not a valid URL ({f.detail})")
    return _refused(f, f"{verb} {what}", url, proxy)


def _refused(f: Failure, what: str, url: str, proxy: str | None) -> CodexInstallError | None:
    """``what``: "fetch …" or "push …" (from or to the host)."""
    towards = "to" if what.startswith("push ") else "from"
    if f.kind == "proxy_auth":
        named = f" {proxy}" if proxy else ""
        return NetworkError(
            f"cannot {what}: the proxy{named} wants credentials (HTTP 407)", hint=f.hint
        )
    if f.kind == "redirect":
        return NetworkError(f"cannot {what}: {f.detail} ({shown_url(url)})")
    if f.kind == "tls":
        return NetworkError(
            f"cannot {what} {towards} {host_of(url)}: {f.detail}",
            hint=f.hint,
            connection_level=True,
        )
    return None
