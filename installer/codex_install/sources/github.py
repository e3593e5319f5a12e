"""The github source: one metadata request per install, through a requests-cache SQLite cache
revalidated with ETags, with the token sent only to the API host."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from codex_install import quick
from codex_install.errors import (
    CodexInstallError,
    NetworkError,
    NotFoundError,
    RateLimitError,
    UsageError,
)
from codex_install.http.client import (
    TLS_HINT,
    WEB_SCHEMES,
    check_environment_proxies,
    check_url,
    first_line,
    host_of,
    proxy_in_environment,
)
from codex_install.http.limits import (
    CONNECT_TIMEOUT_S,
    DEFAULT_DEADLINE_S,
    RELEASE_JSON_CAP,
    read_capped,
    too_large,
)
from codex_install.http.proxies import environment_proxies
from codex_install.http.retry import (
    RETRYABLE_HTTP_STATUS,
    Retryable,
    RetryPolicy,
    parse_retry_after,
    reset_note,
    retrying,
)
from codex_install.http.watchdog import Alarm
from codex_install.models import Release
from codex_install.sources.release import parse_release
from codex_install.versions import VersionSpec

if TYPE_CHECKING:
    import http.client

    import requests

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_REPO = "openai/codex"
USER_AGENT = "codex-install"
_CONNECT_ATTEMPTS = 2
_SHORT_RETRY_AFTER_S = 20.0
_FIRST_ANSWER_S = 5.0  # GitHub answers in well under a second; silence this long is a black hole
CACHE_NAME = "github-api"  # requests-cache adds ".sqlite"


@dataclass(frozen=True)
class GitHubConfig:
    api_url: str = DEFAULT_API_URL
    repo: str = DEFAULT_REPO
    token: str | None = None
    cache_dir: Path | None = None
    # The whole request (connect + body); CODEX_INSTALL_TIMEOUT sets it.
    timeout: float = DEFAULT_DEADLINE_S
    # SSL_CERT_FILE / SSL_CERT_DIR: httpx honours them by itself, requests only its own
    # REQUESTS_CA_BUNDLE, so behind a TLS-inspecting proxy the API call needs them passed.
    ca_bundle: str | None = None

    def release_url(self, spec: VersionSpec) -> str:
        base = f"{self.api_url.rstrip('/')}/repos/{self.repo}/releases"
        return f"{base}/latest" if spec.tag is None else f"{base}/tags/{spec.tag}"


def make_session(cache_dir: Path | None) -> requests.Session:
    """A requests session with an SQLite HTTP cache; cached responses are revalidated with
    ``If-None-Match`` on every use, so "latest" is never stale and a 304 costs no rate limit.
    Its connections are watched (``http.requests_guard``): each request keeps its deadline
    while it waits for the answer's headers."""
    import requests  # heavy: only a GitHub request pays for it

    from codex_install.http.requests_guard import watch_session

    if cache_dir is not None:
        for _ in range(2):
            try:
                import requests_cache  # heavy: only a GitHub request pays for it

                cache_dir.mkdir(parents=True, exist_ok=True)
                return watch_session(
                    requests_cache.CachedSession(
                        str(cache_dir / CACHE_NAME),
                        backend="sqlite",
                        expire_after=0,
                        allowable_codes=(200,),
                        stale_if_error=False,
                    )
                )
            except OSError:
                break  # an unwritable cache dir must not stop an install
            except sqlite3.Error as err:  # nor a corrupt cache file: drop it, start afresh
                if isinstance(err, sqlite3.OperationalError):
                    break
                _drop_cache(cache_dir, err)
    return watch_session(requests.Session())


def fetch_release(
    config: GitHubConfig,
    spec: VersionSpec,
    *,
    session: requests.Session | None = None,
    policy: RetryPolicy = RetryPolicy(attempts=4),
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    notice: Callable[[str], None] = lambda _msg: None,
    refused_before: int = 0,
) -> Release:
    """The release through requests (retries, rate limits, proxies, messages).
    ``refused_before``: connection attempts that already failed outright (the light request's
    DNS failure or refused connection); they count towards giving up on an unreachable host."""
    _check_api_url(config)
    own = session is None
    call = _ApiCall(
        config,
        spec,
        clock,
        session or make_session(config.cache_dir),
        own,
        notice,
        refused_before=refused_before,
    )
    try:
        return retrying(call.attempt, policy=policy, sleep=sleep, exhausted=call.exhausted)
    finally:
        if call.own_session:
            call.session.close()


def _check_api_url(config: GitHubConfig) -> None:
    # requests refuses what httpx's parser would (exit 2 in attempt()); not importing httpx
    # keeps the no-op install of latest light.
    check_url(config.api_url, "the GitHub API URL", WEB_SCHEMES, httpx_parse=False)
    if proxy_in_environment():  # requests reads them itself: refuse what it cannot use
        check_environment_proxies(environment_proxies(os.environ), httpx_parse=False)


@dataclass
class _ApiCall:
    """One release request across its attempts (the session may be swapped for one without the
    cache when the cache breaks)."""

    config: GitHubConfig
    spec: VersionSpec
    clock: Callable[[], float]
    session: requests.Session
    own_session: bool
    notice: Callable[[str], None]
    connected: bool = False
    tls_hint: str | None = None
    refused_before: int = 0

    @property
    def url(self) -> str:
        return self.config.release_url(self.spec)

    @property
    def what(self) -> str:
        return _what(self.spec)

    def attempt(self, number: int) -> Release:
        import requests  # heavy: only a GitHub request pays for it

        host = host_of(self.url)
        try:
            response = self._get()
        except requests.exceptions.ConnectionError as err:
            raise self._connection_failed(err, number) from err
        except requests.exceptions.Timeout as err:
            raise self._timed_out(err, number) from err
        except requests.exceptions.ChunkedEncodingError as err:
            # The connection broke mid-body (IncompleteRead): as transient as a 5xx.
            self.connected = True
            raise Retryable(f"connection to {host} broke mid-response ({first_line(err)})") from err
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
        ) as err:
            raise UsageError(
                f"the GitHub API URL {self.config.api_url!r} is not a valid URL: {first_line(err)}"
            ) from err
        except requests.exceptions.RequestException as err:
            raise NetworkError(f"GitHub API request failed: {first_line(err)}") from err
        self.connected = True
        return self._answer(response)

    def _connection_failed(
        self, err: requests.exceptions.ConnectionError, number: int
    ) -> Exception:
        import requests  # heavy: only a GitHub request pays for it

        last = f"cannot connect to {host_of(self.url)} ({_root_cause(err)})"
        if isinstance(err, requests.exceptions.SSLError):
            self.tls_hint = TLS_HINT
        if not self.connected and number + self.refused_before >= _CONNECT_ATTEMPTS:
            # A host that never answered (DNS, firewall) rarely comes back within seconds;
            # give up early so --source auto can fall back to npm.
            return NetworkError(
                f"cannot fetch {self.what} from GitHub: {last}",
                connection_level=True,
                hint=self.tls_hint,
            )
        return Retryable(last)

    def _timed_out(self, err: requests.exceptions.Timeout, number: int) -> Exception:
        # No answer at all is a black hole (a firewall dropping packets), as good as
        # unreachable: two short tries decide, so --source auto reaches npm within seconds.
        waited = _first_answer_timeout(self.config)
        last = f"{host_of(self.url)} did not answer within {waited:g} s"
        if self.connected:
            return Retryable(f"timed out talking to {host_of(self.url)}")
        if number >= _CONNECT_ATTEMPTS:
            return NetworkError(
                f"cannot fetch {self.what} from GitHub: {last}", connection_level=True
            )
        self.notice(f"{last}; trying once more")
        return Retryable(last)

    def _get(self) -> requests.Response:
        import requests  # heavy: only a GitHub request pays for it

        try:
            return self._send()
        except sqlite3.Error as err:
            # The metadata cache only saves requests: a corrupt (or locked) one must not stop
            # an install. Go on without it; a corrupt file goes away.
            _drop_cache(self.config.cache_dir, err)
            if self.own_session:
                self.session.close()
            from codex_install.http.requests_guard import watch_session

            self.session, self.own_session = watch_session(requests.Session()), True
            return self._send()

    def _send(self) -> requests.Response:
        import requests  # heavy: only a GitHub request pays for it

        verify: str | bool = self.config.ca_bundle or True
        headers = _headers(self.config, self.url)
        config = self.config
        timeout = (min(CONNECT_TIMEOUT_S, config.timeout), _first_answer_timeout(config))
        deadline = time.monotonic() + config.timeout
        hook = _body_hook(self.url, deadline, config.timeout)
        # The alarm holds the wait for the headers to the same deadline as the body (a server
        # trickling its status line never trips the per-read timeout).
        with Alarm(deadline, config.timeout) as alarm:
            try:
                # stream=True and the hook: the body is read (capped, within the deadline)
                # before requests-cache would read all of it into memory to store it.
                response = self.session.get(
                    self.url,
                    headers=headers,
                    timeout=timeout,
                    verify=verify,
                    stream=True,
                    hooks={"response": hook},
                )
            except requests.exceptions.RequestException as err:
                if alarm.fired:
                    raise _too_slow(self.url, config.timeout) from err
                raise
            if alarm.settle():  # cut off mid-headers, what was read can look like an answer
                raise _too_slow(self.url, config.timeout)
            return response

    def _answer(self, response: requests.Response) -> Release:
        status = response.status_code
        host = host_of(self.url)
        if status in (403, 429) and _rate_limited(response):
            raise _rate_limit_error(response, self.config.token is not None, self.clock)
        if status == 404:
            raise _not_found(self.config, self.spec, host)
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if status == 403 and retry_after is not None:
            raise _secondary_limit(host, retry_after)
        if status in RETRYABLE_HTTP_STATUS:
            raise Retryable(f"HTTP {status} from {host}", retry_after)
        if status != 200:
            hint = "check GITHUB_TOKEN" if status in (401, 403) else None
            raise NetworkError(f"GitHub API answered HTTP {status} for {self.what}", hint=hint)
        return self._release(response, host)

    def _release(self, response: requests.Response, host: str) -> Release:
        release = parse_release(
            _json(response, self.url),
            base_url=self.url,
            source="github",
            origin=f"GitHub API ({host})",
        )
        if self.spec.tag is not None and release.tag != self.spec.tag:
            raise NetworkError(
                f"GitHub API ({host}) answered release {release.tag[:80]!r} when asked for "
                f"{self.spec.tag}; refusing it"
            )
        return release

    def exhausted(self, attempts: int, last: Retryable) -> Exception:
        return NetworkError(
            f"cannot fetch {self.what} from GitHub after {attempts} attempts: {last.reason}",
            connection_level=not self.connected,
            hint=self.tls_hint,
        )


def _what(spec: VersionSpec) -> str:
    return f"release {spec.tag}" if spec.tag else "the latest release"


def _not_found(config: GitHubConfig, spec: VersionSpec, host: str) -> NotFoundError:
    return NotFoundError(f"{_what(spec)} not found in {config.repo} ({host} answered 404)")


def _first_answer_timeout(config: GitHubConfig) -> float:
    return min(_FIRST_ANSWER_S, config.timeout)


def _body_hook(url: str, deadline: float, seconds: float) -> Callable[..., requests.Response]:
    def read_body(response: requests.Response, **_kwargs: object) -> requests.Response:
        if getattr(response, "_content", False) is not False:
            return response  # read already: requests-cache calls the hook again on its copy
        body = read_capped(
            _arriving(response),
            RELEASE_JSON_CAP,
            over_cap=lambda: NetworkError(too_large("the release JSON", url, RELEASE_JSON_CAP)),
            deadline=deadline,
            past_deadline=lambda: _too_slow(url, seconds),
        )
        response._content = body  # what .content and requests-cache read
        response._content_consumed = True  # type: ignore[attr-defined]
        return response

    return read_body


def _too_slow(url: str, seconds: float) -> NetworkError:
    return NetworkError(
        f"{host_of(url)} took longer than {seconds:g} s to send the release JSON",
        hint="a slow network: raise CODEX_INSTALL_TIMEOUT (seconds)",
    )


def _arriving(response: requests.Response) -> Iterator[bytes]:
    """The body as it arrives: ``iter_content`` waits for whole 64 KiB chunks, so a trickle
    would never reach the deadline check. urllib3's errors become requests' own, as
    ``iter_content`` would raise them."""
    import requests  # heavy: only a GitHub request pays for it
    import urllib3

    try:
        while chunk := response.raw.read1(64 << 10, decode_content=True):
            yield chunk
    except urllib3.exceptions.ReadTimeoutError as err:
        raise requests.exceptions.ReadTimeout(err) from err
    except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError) as err:
        raise requests.exceptions.ChunkedEncodingError(err) from err


def _headers(config: GitHubConfig, url: str) -> dict[str, str]:
    headers = {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": USER_AGENT,
    }
    # Only the API host ever sees the token; requests drops it on cross-host redirects too.
    if config.token and urlsplit(url).netloc == urlsplit(config.api_url).netloc:
        headers["Authorization"] = f"Bearer {config.token}"
    return headers


def _drop_cache(cache_dir: Path | None, err: sqlite3.Error) -> None:
    if cache_dir is None or isinstance(err, sqlite3.OperationalError):  # locked: not broken
        return
    with contextlib.suppress(OSError):
        (cache_dir / f"{CACHE_NAME}.sqlite").unlink()


def _rate_limited(response: requests.Response) -> bool:
    return response.headers.get("x-ratelimit-remaining") == "0" or (
        response.status_code == 429 and "retry-after" not in response.headers
    )


def _secondary_limit(host: str, retry_after: float) -> Exception:
    """GitHub's secondary rate limit (403 with Retry-After, requests left): a short wait is
    waited through the retry loop, a long one is said."""
    if retry_after <= _SHORT_RETRY_AFTER_S:
        return Retryable(f"secondary rate limit of {host}", retry_after)
    return RateLimitError(
        f"GitHub API secondary rate limit exceeded: retry after {retry_after:.0f} s",
        hint="wait, or use --mirror / --source npm",
    )


def _rate_limit_error(
    response: requests.Response, have_token: bool, clock: Callable[[], float]
) -> RateLimitError:
    when = reset_note(response.headers.get("x-ratelimit-reset"), clock())
    hint = (
        "your GITHUB_TOKEN's limit is exhausted; wait, or use --mirror / --source npm"
        if have_token
        else "set GITHUB_TOKEN (or GH_TOKEN) for a higher limit, or use --mirror / --source npm"
    )
    return RateLimitError(f"GitHub API rate limit exceeded{when}", hint=hint)


def _json(response: requests.Response, url: str) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:  # too deeply nested
        raise NetworkError(f"{host_of(url)} returned malformed JSON for {url}") from err


def _root_cause(err: BaseException) -> str:
    """requests nests urllib3 errors several deep; the innermost says what actually failed
    ("Connection refused", "Name or service not known")."""
    text = str(err)
    for marker in ("] ", "Errno"):
        if marker in text:
            tail = text.rsplit(marker, 1)[-1]
            return tail.split("'", 1)[0].strip(" ')\"")[:80] or type(err).__name__
    return type(err).__name__


# --- the light conditional request -------------------------------------------------------

LIGHT_CACHE = "github-latest.json"  # {url: {"etag": ..., "body": ...}}: no token, mode 0600
# A shortcut, not the request of record: a host that does not answer within this gets the
# requests path (its own timeouts and retries), so a black-holed GitHub costs seconds, not 30:
# 2 s here + two 5 s tries there keep the npm fallback well within 15 s.
_LIGHT_TIMEOUT = 2.0


def fetch_release_light(config: GitHubConfig, spec: VersionSpec) -> Release | None:
    """The release (latest or a tag) through one stdlib request, conditional
    (``If-None-Match``) on the copy kept in the cache dir; None whenever anything is unusual (a
    proxy, a redirect, an error, a rate limit, another tag), and the requests path then does
    it, with its retries and messages. A 404 is final on either path: NotFoundError. No
    connection at all (DNS, refused) is LightRefused.

    What it saves: importing requests and requests-cache (0.1-0.8 s on a busy machine): most
    of what ``--version latest`` costs when latest is installed already, and a fifth of a
    fresh install on a fast network.
    """
    _check_api_url(config)
    url = config.release_url(spec)
    if proxy_in_environment() or _asked_before(url):
        return None
    store = config.cache_dir / LIGHT_CACHE if config.cache_dir is not None else None
    cached = _read_light(store).get(url)
    answer = _conditional_get(config, url, cached["etag"] if cached else None)
    if answer is None:
        return None
    status = answer[0]
    if status == 404:  # as final as on the requests path: asking twice would change nothing
        raise _not_found(config, spec, host_of(url))
    if status == 304 and cached is not None:
        return _parsed(url, cached["body"], spec, cached["etag"])
    return _fresh(store, url, spec, answer) if status == 200 else None


def _fresh(
    store: Path | None, url: str, spec: VersionSpec, answer: tuple[int, str | None, str]
) -> Release | None:
    """A 200: the release, kept (with its ETag) for the next conditional request."""
    _, etag, body = answer
    release = _parsed(url, body, spec, etag)
    if release is not None:
        _write_light(store, url, etag, body)
    return release


def _asked_before(url: str) -> bool:
    """Whether quick.py asked for ``url`` in this process, before click, and got no answer: a
    refused connection is this request's own (LightRefused), a timeout leaves it to requests."""
    unanswered = quick.UNANSWERED.get(url)
    if unanswered == "refused":
        raise LightRefused("no connection to the GitHub API")
    return unanswered is not None


def _parsed(url: str, body: str, spec: VersionSpec, etag: str | None) -> Release | None:
    """The release in ``body`` (validated by ``etag``); None for anything the requests path
    must answer instead (malformed, or another tag than the one asked for: it says why)."""
    try:
        data = json.loads(body)
        release = parse_release(
            data, base_url=url, source="github", origin=f"GitHub API ({host_of(url)})"
        )
    except (ValueError, RecursionError, CodexInstallError):
        return None
    if spec.tag is not None and release.tag != spec.tag:
        return None
    return replace(release, validator=etag)


def revalidation(config: GitHubConfig, spec: VersionSpec, etag: str) -> dict[str, object] | None:
    """The light request for ``spec`` conditional on ``etag``, spelled out for quick.py (which
    must send what this module sends, or the ETag means nothing); None when it would carry a
    token (a record on disk never holds one) or a proxy would carry it."""
    url = config.release_url(spec)
    parts = urlsplit(url)
    if config.token or proxy_in_environment() or parts.scheme not in _DEFAULT_PORTS:
        return None
    host = parts.hostname or ""
    port = parts.port or _DEFAULT_PORTS[parts.scheme]
    authority = f"[{host}]" if ":" in host else host
    if port != _DEFAULT_PORTS[parts.scheme]:
        authority += f":{port}"  # as http.client spells Host
    return {
        "url": url,
        "scheme": parts.scheme,
        "host": host,
        "port": port,
        "authority": authority,
        "target": parts.path + (f"?{parts.query}" if parts.query else ""),
        "headers": {**_headers(config, url), "Accept-Encoding": "identity"},
        "etag": etag,
        "cafile": config.ca_bundle,
    }


def _conditional_get(
    config: GitHubConfig, url: str, etag: str | None
) -> tuple[int, str | None, str] | None:
    import http.client  # only the light request needs it; --help never does

    parts = urlsplit(url)
    if parts.scheme not in WEB_SCHEMES or not parts.hostname:
        return None
    headers = {**_headers(config, url), "Accept-Encoding": "identity"}
    if etag:
        headers["If-None-Match"] = etag
    timeout = min(config.timeout, _LIGHT_TIMEOUT)
    # The whole request within ``timeout``: connect, TLS, the status line and headers (where a
    # trickle would hold a read-by-read timeout for ever; the alarm cuts it off) and the body.
    deadline = time.monotonic() + timeout
    try:
        with Alarm(deadline, timeout) as alarm:
            try:
                conn = _light_connection(config, parts.scheme, parts.hostname, parts.port, alarm)
            except (socket.gaierror, ConnectionRefusedError) as err:
                raise LightRefused(str(err)) from err
            with contextlib.closing(conn):
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                conn.request("GET", target, headers=headers)
                # (no alarm.reading: silence and a trickle both hand over to requests)
                response = conn.getresponse()
                body = read_capped(
                    iter(lambda: response.read1(64 << 10), b""),
                    RELEASE_JSON_CAP,
                    over_cap=_LightGaveUp,
                    deadline=deadline,
                    past_deadline=_LightGaveUp,
                )
                # Cut off (the alarm, or a hang-up short of Content-Length, which read1 takes
                # for the end): what was read can look like an answer.
                if alarm.settle() or response.length:
                    return None
                return response.status, response.getheader("ETag"), body.decode("utf-8")
    except (OSError, http.client.HTTPException, ValueError, _LightGaveUp):
        return None


def _light_connection(
    config: GitHubConfig, scheme: str, host: str, port: int | None, alarm: Alarm
) -> http.client.HTTPConnection:
    """A connected stdlib connection whose socket the alarm watches from the start: the TLS
    handshake too runs under it."""
    import http.client  # only the light request needs it; --help never does

    timeout = alarm.seconds
    conn: http.client.HTTPConnection
    sock = socket.create_connection((host, port or _DEFAULT_PORTS[scheme]), timeout)
    alarm.watch(sock)
    if scheme == "https":  # only an https API URL pays for a TLS context
        import ssl  # an http:// API URL (loopback, tests) never loads it

        context = ssl.create_default_context(cafile=config.ca_bundle)
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        try:
            tls = context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
        except BaseException:
            sock.close()
            raise
        conn.sock = tls  # closed with the connection, whatever happens next
        alarm.watch(tls)
        try:
            tls.do_handshake()
        except BaseException:
            conn.close()
            raise
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        conn.sock = sock
    return conn


_DEFAULT_PORTS = {"http": 80, "https": 443}


class LightRefused(Exception):
    """The light request could not connect at all (no such host, connection refused): the
    requests path counts it as its first failed attempt instead of sleeping to try twice."""


class _LightGaveUp(Exception):
    """Too big or too slow for the shortcut: the requests path answers (or says why)."""


def _read_light(store: Path | None) -> dict[str, dict[str, str]]:
    if store is None:
        return {}
    try:
        data = json.loads(store.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        k: v
        for k, v in data.items()
        if isinstance(v, dict) and isinstance(v.get("etag"), str) and isinstance(v.get("body"), str)
    }


def _write_light(store: Path | None, url: str, etag: str | None, body: str) -> None:
    if store is None or not etag:
        return
    entries = _read_light(store)
    entries[url] = {"etag": etag, "body": body}
    tmp = store.with_name(f".{store.name}.{os.getpid()}")
    with contextlib.suppress(OSError):
        store.parent.mkdir(parents=True, exist_ok=True)
        # 0600: with a token, the release of a private repository is no public metadata.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(json.dumps(entries))
        os.replace(tmp, store)
    with contextlib.suppress(OSError):
        tmp.unlink(missing_ok=True)
