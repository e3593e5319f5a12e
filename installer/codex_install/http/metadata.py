"""The metadata client: every small document (release JSON, a mirror's channel, the npm
packument, SUMS) through one requests-cache session, an SQLite file revalidated with
``If-None-Match``/``If-Modified-Since`` on every use, so ``latest`` is never stale and a 304
costs no rate limit and no body.

The cache is trusted only when ``trusted`` says it is ours alone (``fs.ours_alone``, passed
in): a cache another user can write would choose the archive we install. Otherwise the session
runs uncached, saying why on ``-v``. Created private: the dir 0700, the file 0600 (a private
repository's release JSON).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex_install.errors import NetworkError
from codex_install.http.limits import read_capped, too_large

if TYPE_CHECKING:
    import ssl

    import requests

CACHE_FILE = "metadata.sqlite"
# What the cache must never keep, even though the request carried it.
_SECRET_HEADERS = ("Authorization", "X-API-KEY", "access_token", "api_key")


@dataclass(frozen=True)
class Doc:
    """One small document to fetch: ``what`` names it in messages, ``cap`` bounds it in memory,
    ``expect`` are statuses its caller answers itself (404: each source says it its own way)."""

    url: str
    what: str
    cap: int
    headers: Mapping[str, str] = field(default_factory=dict)
    expect: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = field(repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    from_cache: bool = False


Trusted = Callable[[Path], bool]


def cache_file(cache_dir: Path, trusted: Trusted, debug: Callable[[str], None]) -> Path | None:
    """The cache file to use, made private; None (run uncached, said on ``-v``) when the dir
    or the file is not ours alone, or cannot be made."""
    path = cache_dir / CACHE_FILE
    try:
        _private_dir(cache_dir)
        _private_file(path)
    except OSError as err:
        debug(f"metadata cache off: cannot create {path} ({err.strerror or err})")
        return None
    if not trusted(path):
        debug(
            f"metadata cache off: {path} or its dir is not ours alone (another owner, or "
            "writable by others); ignoring it"
        )
        return None
    return path


def _private_file(path: Path) -> None:
    """``path`` made 0600 before SQLite opens it (SQLite would make it with the umask)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))


def _private_dir(path: Path) -> None:
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir(mode=0o700, exist_ok=True)


def open_session(
    cache_dir: Path | None,
    trusted: Trusted | None,
    context: Callable[[], ssl.SSLContext],
    debug: Callable[[str], None],
) -> requests.Session:
    """The metadata session: cached when the cache may be used, else plain; its connections
    watched (each request keeps its deadline while it waits for the headers) and trusting
    ``context()``."""
    import requests  # heavy: only a metadata request pays for it

    from codex_install.http.requests_guard import watch_session

    path = None
    if cache_dir is not None and trusted is not None:
        path = cache_file(cache_dir, trusted, debug)
    for _ in range(2 if path is not None else 0):
        assert path is not None
        try:
            _private_file(path)
            return watch_session(_cached(path), context)
        except OSError as err:
            debug(f"metadata cache off: {path} ({err})")
            break
        except sqlite3.Error as err:  # corrupt: dropped and made anew once; locked: uncached
            drop_cache(path, err, debug)
            if isinstance(err, sqlite3.OperationalError):
                break
    return watch_session(requests.Session(), context)


def _cached(path: Path) -> requests.Session:
    import requests_cache  # heavy: only a metadata request pays for it

    return requests_cache.CachedSession(
        str(path),
        backend="sqlite",
        expire_after=requests_cache.EXPIRE_IMMEDIATELY,  # revalidated on every use
        allowable_codes=(200,),
        stale_if_error=False,
        ignored_parameters=_SECRET_HEADERS,
    )


def drop_cache(path: Path, err: sqlite3.Error, debug: Callable[[str], None]) -> None:
    """A corrupt cache only cost requests: it goes (a locked one is left to its holder)."""
    debug(f"metadata cache off: {path} ({err})")
    if not isinstance(err, sqlite3.OperationalError):
        with contextlib.suppress(OSError):
            path.unlink()


def get(
    session: requests.Session,
    doc: Doc,
    *,
    seconds: float,
    timeout: tuple[float, float],
    headers: Mapping[str, str],
    proxies: dict[str, str | None] | None,
    verify: bool,
) -> Answer:
    """One GET of ``doc``: the answer's headers within the deadline (the alarm), its body
    read capped and within the same deadline before requests-cache would keep it."""
    from codex_install.http.watchdog import Alarm, DeadlinePassed

    deadline = time.monotonic() + seconds
    with Alarm(deadline, seconds) as alarm, warnings.catch_warnings():
        # strict-ssl=false was said once already (npm.network), in our words
        warnings.simplefilter("ignore", _insecure_warning())
        try:
            response = session.get(
                doc.url,
                headers=dict(headers),
                timeout=timeout,
                verify=verify,
                proxies=proxies,  # type: ignore[arg-type]  # None: direct, not the environment's
                stream=True,
                hooks={"response": _body_hook(doc, deadline, seconds)},
            )
        except Exception as err:
            if alarm.fired:
                raise DeadlinePassed(seconds) from err
            raise
        if alarm.settle():  # cut off mid-headers, what was read can look like an answer
            raise DeadlinePassed(seconds)
    return Answer(
        response.status_code,
        response.content if response.status_code == 200 else b"",
        response.headers,
        bool(getattr(response, "from_cache", False)),
    )


def _insecure_warning() -> type[Warning]:
    import urllib3

    return urllib3.exceptions.InsecureRequestWarning


class BodyError(Exception):
    """The body failed after the headers were in (the server answered): carries the library's
    error, so the attempt is classified as an answered one."""

    def __init__(self, err: BaseException) -> None:
        super().__init__(str(err))
        self.err = err


def _body_hook(doc: Doc, deadline: float, seconds: float) -> Callable[..., Any]:
    from codex_install.errors import shown_url
    from codex_install.http.watchdog import DeadlinePassed

    def read_body(response: requests.Response, **_kwargs: object) -> requests.Response:
        if getattr(response, "_content", False) is not False:
            return response  # read already: requests-cache calls the hook again on its copy
        if response.status_code != 200:
            response._content = b""
            response._content_consumed = True  # type: ignore[attr-defined]
            return response
        try:
            body = read_capped(
                _arriving(response),
                doc.cap,
                over_cap=lambda: NetworkError(too_large(doc.what, shown_url(doc.url), doc.cap)),
                deadline=deadline,
                past_deadline=lambda: DeadlinePassed(seconds),
            )
        except (NetworkError, DeadlinePassed):
            raise
        except Exception as err:
            raise BodyError(err) from err
        response._content = body  # what .content and requests-cache read
        response._content_consumed = True  # type: ignore[attr-defined]
        return response

    return read_body


def _arriving(response: requests.Response) -> Iterator[bytes]:
    """The body as it arrives: ``iter_content`` waits for whole 64 KiB chunks, so a trickle
    would never reach the deadline check."""
    while chunk := response.raw.read1(64 << 10, decode_content=True):
        yield chunk
