"""The network of one command: the two HTTP libraries, each doing its one job, both built from
one :class:`~codex_install.http.plan.NetworkPlan` — requests-cache fetches every small document
(:meth:`Network.get`), httpx moves the bytes (:meth:`Network.client`, used by
``http.download``). Both made on first use: a command that asks nothing pays for neither.

Every request, either library's: the plan's trust (or its origin's route), the route's
credentials to that origin only, a deadline over the whole request (``http.watchdog``), one
classifier (``http.classify``) and one retry loop (``http.retry``).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex_install.errors import (
    CodexInstallError,
    NetworkError,
    NotFoundError,
    UsageError,
    shown_url,
)
from codex_install.http.classify import (
    Failure,
    Verb,
    classify_error,
    classify_status,
    final_error,
)
from codex_install.http.client import check_proxy, host_of, with_scheme
from codex_install.http.limits import CONNECT_ATTEMPTS, FIRST_ANSWER_S
from codex_install.http.metadata import (
    CACHE_FILE,
    Answer,
    BodyError,
    Doc,
    drop_cache,
    get,
    open_session,
)
from codex_install.http.plan import NetworkPlan, Route, origin
from codex_install.http.retry import Retryable, RetryPolicy, retrying

if TYPE_CHECKING:
    import ssl

    import httpx
    import requests

METADATA_POLICY = RetryPolicy(attempts=4)


class Failed(Exception):
    """A request that will not succeed: its last :class:`Failure`, after ``attempts`` tries,
    and whether the server ever answered. The caller turns it into its message
    (:func:`failure_error` for the common ones)."""

    def __init__(self, failure: Failure, attempts: int, answered: bool) -> None:
        super().__init__(failure.detail)
        self.failure = failure
        self.attempts = attempts
        self.answered = answered


class Network:
    def __init__(
        self,
        plan: NetworkPlan,
        *,
        sleep: Callable[[float], None] = time.sleep,
        debug: Callable[[str], None] = lambda _msg: None,
        notice: Callable[[str], None] = lambda _msg: None,
        cache_trusted: Callable[[Path], bool] | None = None,
        session: requests.Session | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        """``cache_trusted``: whether the cache file (and its dir) may be read back
        (``fs.ours_alone``); without it the metadata session runs uncached. ``session`` and
        ``client`` replace the ones the plan would make (tests' hostile servers)."""
        _check_proxies()
        self.plan = plan
        self.cache_trusted = cache_trusted
        self.sleep = sleep
        self.debug = debug
        self.notice = notice
        self._session: requests.Session | None = session
        self._client: httpx.Client | None = client
        self._rebuilt = False

    def __enter__(self) -> Network:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def add_route(self, route: Route) -> None:
        """Send later requests to ``route``'s origin its way (the npm registry's .npmrc)."""
        self.plan = self.plan.with_route(route)
        if self._client is not None:  # httpx mounts are fixed when the client is made
            self._client.close()
            self._client = None
        if self._session is not None and route.own_network:
            _mount(self._session, route)

    # --- metadata: requests-cache ----------------------------------------------------------

    def _online(self) -> None:
        if self.plan.offline:
            raise NetworkError("--offline forbids any request", hint="drop --offline")

    def session(self) -> requests.Session:
        self._online()
        if self._session is None:
            self._session = open_session(
                self.plan.cache_dir, self.cache_trusted, self.plan.context, self.debug
            )
            for route in self.plan.routes:
                if route.own_network:
                    _mount(self._session, route)
        return self._session

    def get(self, doc: Doc, *, policy: RetryPolicy = METADATA_POLICY) -> Answer:
        """``doc`` (a ``file://`` one read from disk), retried through the one loop; statuses
        in ``doc.expect`` are returned, every other failure raises :class:`Failed`."""
        if doc.url.startswith("file://"):
            return _local(doc)

        def attempt(_number: int) -> Answer:
            try:
                answer = self._get_once(doc)
            except BodyError as err:
                raise retry_or_fail(classify_error(err.err), answered=True) from err
            except (NetworkError, UsageError):
                raise
            except Exception as err:  # the libraries' own: classified
                raise retry_or_fail(classify_error(err), answered=False) from err
            if answer.status == 200 or answer.status in doc.expect:
                return answer
            failure = classify_status(answer.status, answer.headers)
            assert failure is not None  # 2xx but 200 is no document of ours
            raise retry_or_fail(failure, answered=True)

        answer: Answer = retry_request(attempt, policy, self.sleep)
        return answer

    def _get_once(self, doc: Doc) -> Answer:
        route = self.plan.route_for(doc.url)
        headers = {"User-Agent": self.plan.user_agent, **doc.headers}
        if route is not None and route.authorization:
            headers["Authorization"] = route.authorization
        proxies: dict[str, str | None] | None = None
        if route is not None and route.own_network:
            proxies = dict.fromkeys(("http", "https", "all"), route.proxy)
        plan = self.plan
        timeout = (min(plan.connect_s, plan.metadata_s), min(FIRST_ANSWER_S, plan.metadata_s))
        try:
            return get(
                self.session(),
                doc,
                seconds=plan.metadata_s,
                timeout=timeout,
                headers=headers,
                proxies=proxies,
                verify=route.verify if route is not None else True,
            )
        except sqlite3.Error as err:
            # The cache only saves requests: a corrupt one goes and is made anew, once; a
            # locked one (or a second failure) leaves this command uncached.
            if plan.cache_dir is not None:
                drop_cache(plan.cache_dir / CACHE_FILE, err, self.debug)
            self.close()
            if isinstance(err, sqlite3.OperationalError) or self._rebuilt:
                self.plan = replace(plan, cache_dir=None)
            self._rebuilt = True
            return self._get_once(doc)

    # --- bytes: httpx ----------------------------------------------------------------------

    def client(self) -> httpx.Client:
        """The httpx client for archives, tarballs and the token refresh: the environment's
        proxies (httpx's own ``trust_env``), each route's own proxy and trust as a mount."""
        self._online()
        if self._client is None:
            self._client = make_client(self.plan)
        return self._client

    def send(self, request: httpx.Request, seconds: float) -> httpx.Response:
        """``request`` on :meth:`client`, streamed, held to ``seconds`` (or its DEADLINE)."""
        from codex_install.http.deadline import send

        return send(self.client(), request, seconds)

    def proxy_for(self, url: str) -> str | None:
        """The proxy (``host:port``, no credentials) a request to ``url`` goes through, for
        messages; None when it goes direct."""
        route = self.plan.route_for(url)
        if route is not None and route.own_network:
            proxy = route.proxy
        else:
            import requests.utils  # requests' own reading of the proxy variables and NO_PROXY

            found = requests.utils.get_environ_proxies(url)
            proxy = requests.utils.select_proxy(url, found)
        return host_of(proxy) if proxy else None


def _mount(session: requests.Session, route: Route) -> None:
    from codex_install.http.requests_guard import watch_session

    context = route.context
    if context is None:
        return
    base = route.origin
    prefixes = [base + "/"]
    scheme, _, rest = base.partition("://")
    host, _, port = rest.rpartition(":")
    if port == {"http": "80", "https": "443"}.get(scheme):
        prefixes.append(f"{scheme}://{host}/")
    watch_session(session, lambda: context, *prefixes)


def make_client(
    plan: NetworkPlan, *, follow_redirects: bool = True, read_s: float | None = None
) -> httpx.Client:
    """An httpx client from ``plan``: our User-Agent, the plan's trust, each route's
    credentials (a request hook: it runs on every redirect hop too, after httpx has dropped
    ``Authorization`` for another origin) and own network (a mount)."""
    import httpx  # heavy: only commands that move bytes pay for it

    read = plan.metadata_s if read_s is None else read_s
    mounts: dict[str, httpx.BaseTransport | None] = {}
    for route in plan.routes:
        if route.own_network:
            verify: ssl.SSLContext | bool = route.context or plan.context()
            mounts[route.origin] = httpx.HTTPTransport(
                verify=verify if route.verify else False, proxy=route.proxy
            )
    routes = {r.origin: r.authorization for r in plan.routes if r.authorization}

    def authorize(request: httpx.Request) -> None:
        value = routes.get(origin(str(request.url)))
        if value is not None and "authorization" not in request.headers:
            request.headers["Authorization"] = value

    return httpx.Client(
        verify=plan.context(),
        trust_env=True,
        mounts=mounts,
        follow_redirects=follow_redirects,
        timeout=httpx.Timeout(read, connect=min(plan.connect_s, read)),
        headers={"User-Agent": plan.user_agent},
        event_hooks={"request": [authorize]} if routes else None,
    )


def retry_or_fail(failure: Failure, *, answered: bool) -> Retryable | Failed:
    """Another try (:class:`Retryable`, carrying ``failure``) when one can help, else the end
    (:class:`Failed`)."""
    answered = answered or failure.answered
    if not failure.retryable:
        return Failed(failure, 1, answered)
    return Retryable(failure.detail, failure.retry_after, answered=answered, failure=failure)


def retry_request(
    attempt: Callable[[int], Any], policy: RetryPolicy, sleep: Callable[[float], None]
) -> Any:
    """The one retry loop for a request of either library: ``attempt`` raises what
    :func:`retry_or_fail` makes; a host that never answered gets CONNECT_ATTEMPTS tries."""
    seen = {"answer": False}

    def counted(number: int) -> Any:
        try:
            return attempt(number)
        except Retryable as err:
            seen["answer"] = seen["answer"] or err.answered
            raise
        except Failed as err:
            err.attempts, err.answered = number, err.answered or seen["answer"]
            raise

    def exhausted(number: int, err: Retryable) -> Exception:
        assert isinstance(err.failure, Failure)  # retry_or_fail's
        return Failed(err.failure, number, err.answered)

    return retrying(
        counted, policy=policy, sleep=sleep, exhausted=exhausted, connect_attempts=CONNECT_ATTEMPTS
    )


def _local(doc: Doc) -> Answer:
    """A ``file://`` document (a local mirror tree), read capped like a remote one."""
    from codex_install.http.download import download
    from codex_install.http.limits import too_large

    parts: list[bytes] = []
    size = 0

    def sink(data: bytes) -> None:
        nonlocal size
        size += len(data)
        if size > doc.cap:
            raise NetworkError(too_large(doc.what, shown_url(doc.url), doc.cap))
        parts.append(data)

    try:
        download(None, doc.url, sink, label=doc.what, binary=False)
    except NotFoundError:
        if 404 not in doc.expect:
            raise
        return Answer(404, b"")
    return Answer(200, b"".join(parts))


def failure_error(
    err: Failed,
    what: str,
    url: str,
    *,
    seconds: float,
    proxy: str | None = None,
    source: str | None = None,
    verb: Verb = "fetch",
) -> CodexInstallError:
    """The message for a request that failed, in the words every source shares; a source
    says its own first for what it knows better (GitHub's rate limit, a mirror's 404)."""
    f = err.failure
    said = final_error(f, what, url, seconds=seconds, proxy=proxy, verb=verb, source=source)
    if said is not None:
        return said
    host = host_of(url)
    via = f" through the proxy {proxy}" if proxy else ""
    reason = f"cannot connect to {host}{via} ({f.detail})" if not f.answered else f.detail
    if f.kind == "silent" and not err.answered:
        reason = f"{host}{via} did not answer within {min(FIRST_ANSWER_S, seconds):g} s"
    tries = f" after {err.attempts} attempts" if err.attempts > 1 else ""
    where = f"{'to' if verb == 'push' else 'from'} {source or host}"
    return NetworkError(
        f"cannot {verb} {what} {where}{tries}: {reason}",
        hint=f.hint,
        connection_level=not err.answered,
    )


def _check_proxies() -> None:
    """Refuse (exit 2) a proxy variable no request could go through, as both libraries read
    the variables (``getproxies``: the lower-case spelling first): each would say it its own
    way, mid-request (a SOCKS proxy: advice to install an extra)."""
    from requests.compat import getproxies

    found = getproxies()
    for scheme in ("https", "http", "all"):
        if found.get(scheme):
            check_proxy(
                with_scheme(found[scheme]),
                "the proxy set in the environment",
                hint="HTTPS_PROXY, HTTP_PROXY and ALL_PROXY must each be an http:// proxy URL",
            )
