"""The npm source's network side: the packument request (through the one retry loop), the
registry's credentials on the shared client, and the resolver factory install uses."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from codex_install.errors import NetworkError, NotFoundError, UsageError
from codex_install.http.client import TLS_HINT, first_line, proxy_used, tls_verification_failed
from codex_install.http.limits import PACKUMENT_CAP, metadata_deadline, read_capped, too_large
from codex_install.http.retry import (
    RETRYABLE_HTTP_STATUS,
    Retryable,
    RetryPolicy,
    parse_retry_after,
    retrying,
)
from codex_install.http.watchdog import DEADLINE, DeadlinePassed
from codex_install.models import Selection
from codex_install.sources.npm.network import apply_network
from codex_install.sources.npm.npmrc import (
    PACKAGE,
    SCOPED_KEY,
    NpmRunner,
    Registry,
    discover,
    npmrc_locations,
    npmrc_present,
    read_npmrc_files,
    run_npm,
    working_dir,
)
from codex_install.sources.npm.packument import (
    malformed,
    platform_versions,
    select_from_packument,
    vendor_target,
)
from codex_install.versions import VersionSpec

if TYPE_CHECKING:
    import httpx

# What npm sends for installs: the abbreviated ("corgi") document, full JSON as a fallback.
ACCEPT = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
NPM_TIMEOUT = 10.0
PACKUMENT_LIMIT = PACKUMENT_CAP

Notice = Callable[[str], None]
Which = Callable[[str, str | None], str | None]
Resolver = Callable[[VersionSpec, str], Selection]


def resolver_factory(
    env: Mapping[str, str],
    registry_flag: str | None,
    *,
    notice: Notice = lambda _msg: None,
    cwd: Path | None = None,
    runner: NpmRunner = run_npm,
    which: Which = lambda name, path: shutil.which(name, path=path),
    policy: RetryPolicy = RetryPolicy(attempts=4),
    sleep: Callable[[float], None] = time.sleep,
) -> Callable[[httpx.Client], Resolver] | None:
    """None when no registry is configured; else ``make(client) -> resolver(spec, target)``.

    ``npm config get`` costs a Node start (~0.3 s), so it only runs when the npm source is
    actually used (``--source npm`` or a fallback), never on an ordinary GitHub install.
    """
    registry = _registry_finder(env, registry_flag, cwd=cwd, runner=runner, which=which)
    if registry is None:
        return None

    def make(client: httpx.Client) -> Resolver:
        def resolve(spec: VersionSpec, target: str) -> Selection:
            vendor_target(target)  # refuse an impossible target before any request
            reg = registry()
            apply_network(client, reg, notice)
            _authorize(client, reg)
            data = fetch_packument(client, reg, policy=policy, sleep=sleep)
            choice = select_from_packument(data, spec, target, reg)
            for line in choice.notices:
                notice(line)
            return choice.selection

        return resolve

    return make


def versions_factory(
    env: Mapping[str, str],
    registry_flag: str | None,
    *,
    notice: Notice = lambda _msg: None,
    cwd: Path | None = None,
    runner: NpmRunner = run_npm,
    which: Which = lambda name, path: shutil.which(name, path=path),
    policy: RetryPolicy = RetryPolicy(attempts=4),
    sleep: Callable[[float], None] = time.sleep,
) -> Callable[[httpx.Client, str], list[str]] | None:
    """Like :func:`resolver_factory`, for ``ls-remote``: ``versions(client, target)`` lists the
    versions whose platform package for ``target`` is published, newest first."""
    registry = _registry_finder(env, registry_flag, cwd=cwd, runner=runner, which=which)
    if registry is None:
        return None

    def versions(client: httpx.Client, target: str) -> list[str]:
        platform, _ = vendor_target(target)
        reg = registry()
        apply_network(client, reg, notice)
        _authorize(client, reg)
        data = fetch_packument(client, reg, policy=policy, sleep=sleep)
        found = data.get("versions") if isinstance(data, dict) else None
        if not isinstance(found, dict):
            raise malformed(reg, "no versions object")
        return platform_versions(found, platform)

    return versions


def _registry_finder(
    env: Mapping[str, str],
    registry_flag: str | None,
    *,
    cwd: Path | None,
    runner: NpmRunner,
    which: Which,
) -> Callable[[], Registry] | None:
    """``registry()`` for this environment, or None when no registry is configured at all.

    The .npmrc files are only looked at here (is there one?); they are read, and ``npm config
    get`` run, when ``registry()`` is first called: an install from GitHub never reads them.
    """
    here = cwd or working_dir()
    paths = npmrc_locations(env, here)
    try:
        configured = discover(registry_flag, env, None, None, None, paths=paths) is not None
    except UsageError:
        configured = True  # a bad setting must not break GitHub installs: reported if used
    npm: str | None = None
    if not configured and not any(npmrc_present(p) for p in paths):
        npm = which("npm", env.get("PATH"))
        if npm is None:
            return None
    found: list[Registry] = []

    def registry() -> Registry:
        if not found:
            found.append(_discover(env, registry_flag, here, paths, npm, runner, which))
        return found[0]

    return registry


def _discover(
    env: Mapping[str, str],
    registry_flag: str | None,
    here: Path | None,
    paths: tuple[Path | None, Path],
    npm: str | None,
    runner: NpmRunner,
    which: Which,
) -> Registry:
    project, user = read_npmrc_files(env, here)
    static = discover(registry_flag, env, project, user, None, paths=paths)
    if static is not None:
        return static
    npm = npm or which("npm", env.get("PATH"))
    output = None
    if npm is not None:
        argv = [npm, "config", "get", "registry", SCOPED_KEY]
        output = runner(argv, env, here or Path(env.get("HOME") or "/"), NPM_TIMEOUT)
    found = discover(registry_flag, env, project, user, output, paths=paths)
    if found is None:
        raise UsageError(
            "no npm registry is configured"
            + (" and `npm config get registry` gave none" if npm is not None else ""),
            hint="pass --npm-registry URL",
        )
    return found


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.rpartition("@")[2].lower()


def _authorize(client: httpx.Client, registry: Registry) -> None:
    """Send the registry's credentials on every request to the registry's origin (packument
    and, when it lives there, the tarball), and to no other host.

    A request hook on the shared client rather than a header: install.py downloads the tarball
    with this client, and the hook also runs on each redirect hop, where httpx has already
    dropped ``Authorization`` for a cross-origin target and this check keeps it dropped.
    """
    if registry.authorization is None:
        return
    origin = _origin(registry.url)
    value = registry.authorization

    def add_auth(request: httpx.Request) -> None:
        if _origin(str(request.url)) == origin and "authorization" not in request.headers:
            request.headers["Authorization"] = value

    hooks = client.event_hooks
    hooks["request"] = [*hooks.get("request", []), add_auth]
    client.event_hooks = hooks


def fetch_packument(
    client: httpx.Client,
    registry: Registry,
    *,
    policy: RetryPolicy = RetryPolicy(attempts=4),
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """GET the abbreviated packument, retrying transient failures; parsed JSON."""
    request = _PackumentRequest(client, registry)
    return retrying(request.attempt, policy=policy, sleep=sleep, exhausted=request.exhausted)


@dataclass
class _PackumentRequest:
    client: httpx.Client
    registry: Registry
    connected: bool = False

    @property
    def host(self) -> str:
        return urlsplit(self.registry.display).netloc

    def attempt(self, _number: int) -> Any:
        import httpx  # heavy: only commands that go on the network pay for it

        url = self.registry.packument_url
        seconds = metadata_deadline()
        # One deadline for the whole request, headers included (a trickled status line too).
        deadline = time.monotonic() + seconds
        try:
            with self.client.stream(
                "GET", url, headers={"Accept": ACCEPT}, extensions={DEADLINE: deadline}
            ) as response:
                self.connected = True
                return self._answer(response, deadline, seconds)
        except DeadlinePassed as err:
            raise _too_slow(self.registry, seconds) from err
        except httpx.TimeoutException as err:
            raise Retryable(f"timed out talking to {self.host}") from err
        except httpx.TransportError as err:
            raise self._connection_failed(err, proxy_used(self.client, url)) from err

    def _connection_failed(self, err: Exception, proxy: str | None) -> Exception:
        """A retry, or exit 4 at once when no retry can help; a proxy in the way is named."""
        import httpx  # heavy: only commands that go on the network pay for it

        if proxy is not None and (isinstance(err, httpx.ProxyError) and "407" in str(err)):
            return _proxy_wants_credentials(proxy)
        via = f" through the proxy {proxy}" if proxy else ""
        last = f"cannot connect to {self.host}{via} ({first_line(err)})"
        if tls_verification_failed(err):
            return NetworkError(
                f"cannot fetch {PACKAGE} from the npm registry {self.registry.display}: {last}",
                hint=TLS_HINT,
                connection_level=True,
            )
        return Retryable(last)

    def _answer(self, response: httpx.Response, deadline: float, seconds: float) -> Any:
        registry, status = self.registry, response.status_code
        if status == 200:
            return _parse_json(_read_limited(response, registry, deadline, seconds), registry)
        if status == 407:  # a proxy's answer: asking again without credentials changes nothing
            raise _proxy_wants_credentials(
                proxy_used(self.client, registry.packument_url) or "in the way"
            )
        if status in (404, 410):
            raise NotFoundError(
                f"{PACKAGE} not found on the npm registry {registry.display} "
                f"(HTTP {status}; registry from {registry.origin})"
            )
        if status in (401, 403):
            creds = (
                "its credentials were refused" if registry.authorization else "it needs credentials"
            )
            raise NetworkError(
                f"the npm registry {registry.display} answered HTTP {status}: {creds}",
                hint=f"check the //{self.host}/:_authToken line in your .npmrc",
            )
        if status not in RETRYABLE_HTTP_STATUS:
            raise NetworkError(f"the npm registry {registry.display} answered HTTP {status}")
        raise Retryable(f"HTTP {status}", parse_retry_after(response.headers.get("retry-after")))

    def exhausted(self, attempts: int, last: Retryable) -> Exception:
        return NetworkError(
            f"cannot fetch {PACKAGE} from the npm registry {self.registry.display} after "
            f"{attempts} attempts: {last.reason}",
            connection_level=not self.connected,
        )


def _read_limited(
    response: httpx.Response, registry: Registry, deadline: float, seconds: float
) -> bytes:
    return read_capped(
        response.iter_bytes(),
        PACKUMENT_LIMIT,
        over_cap=lambda: NetworkError(
            too_large(f"the {PACKAGE} packument", registry.display, PACKUMENT_LIMIT)
        ),
        deadline=deadline,
        past_deadline=lambda: _too_slow(registry, seconds),
    )


def _proxy_wants_credentials(proxy: str) -> NetworkError:
    return NetworkError(
        f"the proxy {proxy} wants credentials (HTTP 407) for the npm registry",
        hint="put them in the proxy URL (http://user:password@host:port), in .npmrc's "
        "https-proxy/proxy or HTTPS_PROXY",
    )


def _too_slow(registry: Registry, seconds: float) -> NetworkError:
    return NetworkError(
        f"the npm registry {registry.display} took longer than {seconds:g} s to send "
        f"the {PACKAGE} metadata",
        hint="a slow network: raise CODEX_INSTALL_TIMEOUT (seconds)",
    )


def _parse_json(body: bytes, registry: Registry) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:  # too deeply nested
        raise malformed(registry, "not JSON") from err
