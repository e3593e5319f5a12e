"""Which versions the configured source offers for a target (``ls-remote``, and an install's
suggestions for a typo'd or prefix version): GitHub's release list with each release's date
and archive size, a mirror's latest channel, the npm registry's platform packages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from codex_install.errors import NetworkError, UsageError
from codex_install.http.client import make_client
from codex_install.sources.listing import ReleaseInfo, github_releases, mirror_versions
from codex_install.sources.npm import versions_factory
from codex_install.ui import Reporter

if TYPE_CHECKING:
    import httpx

    from codex_install.sources.dispatch import SourceOptions


def remote_versions(
    sources: SourceOptions, env: Mapping[str, str], target: str, reporter: Reporter
) -> list[str]:
    """The versions the configured source offers for ``target``, newest first."""
    with make_client() as client:
        return offered(sources, env, client, target, reporter)[1]


# (the source that answered, its versions newest first, what it said of each)
Listed = tuple[str, list[str], dict[str, ReleaseInfo]]


def offered(
    sources: SourceOptions,
    env: Mapping[str, str],
    client: httpx.Client,
    target: str,
    reporter: Reporter,
) -> Listed:
    """What ``sources`` offers; ``env`` is where npm's registry settings come from."""
    source = sources.effective
    if source == "npm":
        return "npm", _npm_versions(sources, env, client, target, reporter), {}
    if source == "mirror":
        if not sources.mirror:
            raise UsageError("--source mirror needs --mirror URL (or CODEX_INSTALL_MIRROR)")
        return "mirror", mirror_versions(client, sources.mirror, registry=sources.registry), {}
    try:
        found = github_releases(sources.github, client, target=target)
        return "github", list(found), found
    except NetworkError as err:
        # As install does: with the auto source an unreachable GitHub falls back to npm.
        if source != "auto" or not err.connection_level:
            raise
        versions = versions_factory(env, sources.npm_registry, notice=reporter.info)
        if versions is None:
            raise
        reporter.warn(f"GitHub is unreachable ({err.message}); listing the npm registry instead")
        return "npm", versions(client, target), {}


def _npm_versions(
    sources: SourceOptions,
    env: Mapping[str, str],
    client: httpx.Client,
    target: str,
    reporter: Reporter,
) -> list[str]:
    versions = versions_factory(env, sources.npm_registry, notice=reporter.info)
    if versions is None:
        raise UsageError("no npm registry is configured (pass --npm-registry URL)")
    return versions(client, target)
