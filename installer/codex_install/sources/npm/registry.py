"""The npm source's network side: the packument request (through the one retry loop), the
registry's credentials on the shared client, and the resolver factory install uses."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from codex_install.errors import CodexInstallError, NetworkError, NotFoundError, UsageError
from codex_install.http.limits import PACKUMENT_CAP
from codex_install.http.metadata import Doc
from codex_install.http.network import Failed, failure_error
from codex_install.models import Selection
from codex_install.sources.npm.network import registry_route
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
    from codex_install.http.network import Network

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
) -> Callable[[Network], Resolver] | None:
    """None when no registry is configured; else ``make(client) -> resolver(spec, target)``.

    ``npm config get`` costs a Node start (~0.3 s), so it only runs when the npm source is
    actually used (``--source npm`` or a fallback), never on an ordinary GitHub install.
    """
    registry = _registry_finder(env, registry_flag, cwd=cwd, runner=runner, which=which)
    if registry is None:
        return None

    def make(net: Network) -> Resolver:
        def resolve(spec: VersionSpec, target: str) -> Selection:
            vendor_target(target)  # refuse an impossible target before any request
            reg = registry()
            data = fetch_packument(net, reg, notice)
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
) -> Callable[[Network, str], list[str]] | None:
    """Like :func:`resolver_factory`, for ``ls-remote``: ``versions(client, target)`` lists the
    versions whose platform package for ``target`` is published, newest first."""
    registry = _registry_finder(env, registry_flag, cwd=cwd, runner=runner, which=which)
    if registry is None:
        return None

    def versions(net: Network, target: str) -> list[str]:
        platform, _ = vendor_target(target)
        reg = registry()
        data = fetch_packument(net, reg, notice)
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


def fetch_packument(net: Network, registry: Registry, notice: Notice = lambda _msg: None) -> Any:
    """The abbreviated packument, parsed; the registry's route (credentials, .npmrc's proxy and
    TLS) given to the network first, for this request and the tarball's."""
    net.add_route(registry_route(registry, notice, net.plan.trust))
    url = registry.packument_url
    doc = Doc(url, f"the {PACKAGE} packument", PACKUMENT_CAP, {"Accept": ACCEPT}, _ANSWERED)
    try:
        answer = net.get(doc)
    except Failed as err:
        raise _failed(err, registry, net) from err
    if answer.status != 200:
        raise _refused(answer.status, registry)
    return _parse_json(answer.body, registry)


_ANSWERED = frozenset({401, 403, 404, 410})


def _failed(err: Failed, registry: Registry, net: Network) -> CodexInstallError:
    url = registry.packument_url
    return failure_error(
        err,
        f"the {PACKAGE} metadata",
        url,
        seconds=net.plan.metadata_s,
        proxy=net.proxy_for(url),
        source=f"the npm registry {registry.display}",
    )


def _refused(status: int, registry: Registry) -> CodexInstallError:
    if status in (404, 410):
        return NotFoundError(
            f"{PACKAGE} not found on the npm registry {registry.display} "
            f"(HTTP {status}; registry from {registry.origin})"
        )
    creds = "its credentials were refused" if registry.authorization else "it needs credentials"
    host = urlsplit(registry.display).netloc
    return NetworkError(
        f"the npm registry {registry.display} answered HTTP {status}: {creds}",
        hint=f"check the //{host}/:_authToken line in your .npmrc",
    )


def _parse_json(body: bytes, registry: Registry) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:  # too deeply nested
        raise malformed(registry, "not JSON") from err
