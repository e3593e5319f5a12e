"""The github source: one metadata request per install, through a requests-cache SQLite cache
revalidated with ETags, with the token sent only to the API host."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from codex_install.errors import NetworkError, NotFoundError, RateLimitError
from codex_install.models import Release
from codex_install.netpolicy import (
    RETRYABLE_HTTP_STATUS,
    TLS_HINT,
    RetryPolicy,
    parse_retry_after,
)
from codex_install.releases import parse_release
from codex_install.versions import VersionSpec

if TYPE_CHECKING:
    import requests

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_REPO = "openai/codex"
USER_AGENT = "codex-install"
_CONNECT_ATTEMPTS = 2
CACHE_NAME = "github-api"  # requests-cache adds ".sqlite"


@dataclass(frozen=True)
class GitHubConfig:
    api_url: str = DEFAULT_API_URL
    repo: str = DEFAULT_REPO
    token: str | None = None
    cache_dir: Path | None = None
    timeout: float = 30.0
    # SSL_CERT_FILE / SSL_CERT_DIR: httpx honours them by itself, requests only its own
    # REQUESTS_CA_BUNDLE, so behind a TLS-inspecting proxy the API call needs them passed.
    ca_bundle: str | None = None

    def release_url(self, spec: VersionSpec) -> str:
        base = f"{self.api_url.rstrip('/')}/repos/{self.repo}/releases"
        return f"{base}/latest" if spec.tag is None else f"{base}/tags/{spec.tag}"


def make_session(cache_dir: Path | None) -> requests.Session:
    """A requests session with an SQLite HTTP cache; cached responses are revalidated with
    ``If-None-Match`` on every use, so "latest" is never stale and a 304 costs no rate limit."""
    import requests

    if cache_dir is not None:
        for _ in range(2):
            try:
                import requests_cache

                cache_dir.mkdir(parents=True, exist_ok=True)
                return requests_cache.CachedSession(
                    str(cache_dir / CACHE_NAME),
                    backend="sqlite",
                    expire_after=0,
                    allowable_codes=(200,),
                    stale_if_error=False,
                )
            except OSError:
                break  # an unwritable cache dir must not stop an install
            except sqlite3.Error as err:  # nor a corrupt cache file: drop it, start afresh
                if isinstance(err, sqlite3.OperationalError):
                    break
                _drop_cache(cache_dir, err)
    return requests.Session()


def fetch_release(
    config: GitHubConfig,
    spec: VersionSpec,
    *,
    session: requests.Session | None = None,
    policy: RetryPolicy = RetryPolicy(attempts=4),
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> Release:
    import requests

    url = config.release_url(spec)
    what = f"release {spec.tag}" if spec.tag else "the latest release"
    own_session = session is None
    sess = session or make_session(config.cache_dir)
    headers = {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": USER_AGENT,
    }
    # Only the API host ever sees the token; requests drops it on cross-host redirects too.
    if config.token and urlsplit(url).netloc == urlsplit(config.api_url).netloc:
        headers["Authorization"] = f"Bearer {config.token}"
    verify: str | bool = config.ca_bundle or True
    attempt = 0
    connected = False
    tls_hint: str | None = None
    try:
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                try:
                    response = sess.get(
                        url, headers=headers, timeout=config.timeout, verify=verify
                    )
                except sqlite3.Error as err:
                    # The metadata cache only saves requests: a corrupt (or locked) one must
                    # not stop an install. Go on without it; a corrupt file goes away.
                    _drop_cache(config.cache_dir, err)
                    if own_session:
                        sess.close()
                    sess, own_session = requests.Session(), True
                    response = sess.get(
                        url, headers=headers, timeout=config.timeout, verify=verify
                    )
            except requests.exceptions.ConnectionError as err:
                last = f"cannot connect to {_host(url)} ({_root_cause(err)})"
                if isinstance(err, requests.exceptions.SSLError):
                    tls_hint = TLS_HINT
                if not connected and attempt >= _CONNECT_ATTEMPTS:
                    # A host that never answered (DNS, firewall) rarely comes back within
                    # seconds; give up early so --source auto can fall back to npm.
                    raise NetworkError(
                        f"cannot fetch {what} from GitHub: {last}",
                        connection_level=True,
                        hint=tls_hint,
                    ) from err
            except requests.exceptions.Timeout:
                last = f"timed out talking to {_host(url)}"
            except requests.exceptions.ChunkedEncodingError as err:
                # The connection broke mid-body (IncompleteRead): as transient as a 5xx.
                connected = True
                last = f"connection to {_host(url)} broke mid-response ({_first_line(err)})"
            except requests.exceptions.RequestException as err:
                raise NetworkError(f"GitHub API request failed: {_first_line(err)}") from err
            else:
                connected = True
                status = response.status_code
                if status in (403, 429) and _rate_limited(response):
                    raise _rate_limit_error(response, config.token is not None, clock)
                if status == 404:
                    raise NotFoundError(
                        f"{what} not found in {config.repo} ({_host(url)} answered 404)"
                    )
                if status in RETRYABLE_HTTP_STATUS:
                    last = f"HTTP {status} from {_host(url)}"
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
                elif status != 200:
                    hint = "check GITHUB_TOKEN" if status in (401, 403) else None
                    raise NetworkError(f"GitHub API answered HTTP {status} for {what}", hint=hint)
                else:
                    return parse_release(
                        _json(response, url),
                        base_url=url,
                        source="github",
                        origin=f"GitHub API ({_host(url)})",
                    )
            if attempt >= policy.attempts:
                raise NetworkError(
                    f"cannot fetch {what} from GitHub after {attempt} attempts: {last}",
                    connection_level=not connected,
                    hint=tls_hint,
                )
            sleep(policy.delay(attempt, retry_after))
    finally:
        if own_session:
            sess.close()


def _drop_cache(cache_dir: Path | None, err: sqlite3.Error) -> None:
    if cache_dir is None or isinstance(err, sqlite3.OperationalError):  # locked: not broken
        return
    with contextlib.suppress(OSError):
        (cache_dir / f"{CACHE_NAME}.sqlite").unlink()


def _rate_limited(response: requests.Response) -> bool:
    return response.headers.get("x-ratelimit-remaining") == "0" or (
        response.status_code == 429 and "retry-after" not in response.headers
    )


def _rate_limit_error(
    response: requests.Response, have_token: bool, clock: Callable[[], float]
) -> RateLimitError:
    reset = response.headers.get("x-ratelimit-reset", "")
    when = ""
    if reset.isascii() and reset.isdigit():  # "¹".isdigit() is true, int("¹") fails
        try:
            at = datetime.fromtimestamp(int(reset), tz=timezone.utc)
        except (OverflowError, OSError, ValueError):  # a reset time no clock can show
            at = None
        if at is not None:
            minutes = max(0, int((int(reset) - clock()) // 60) + 1)
            when = f"; resets at {at:%H:%M:%S} UTC (in ~{minutes} min)"
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
        raise NetworkError(f"{_host(url)} returned malformed JSON for {url}") from err


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def _root_cause(err: BaseException) -> str:
    """requests nests urllib3 errors several deep; the innermost says what actually failed
    ("Connection refused", "Name or service not known")."""
    text = str(err)
    for marker in ("] ", "Errno"):
        if marker in text:
            tail = text.rsplit(marker, 1)[-1]
            return tail.split("'", 1)[0].strip(" ')\"")[:80] or type(err).__name__
    return type(err).__name__


def _first_line(err: BaseException) -> str:
    return (str(err) or type(err).__name__).splitlines()[0][:200]
