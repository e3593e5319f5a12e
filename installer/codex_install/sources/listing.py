"""Which versions a source offers (``codex-install ls-remote``): GitHub's release list, a
mirror's latest channel (a static tree has no index). npm lists its own (npm.versions_factory)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from codex_install.errors import UsageError
from codex_install.sources import github, mirror, oci
from codex_install.sources.github import GitHubConfig
from codex_install.versions import VersionSpec, parse_version, version_key

if TYPE_CHECKING:
    from codex_install.http.network import Network
    from codex_install.sources.oci.credentials import RegistryConfig


def github_versions(net: Network, config: GitHubConfig) -> list[str]:
    """The published (non-draft) Codex versions of ``config.repo``, newest first."""
    data = github.release_list(net, config)
    return sorted(set(_release_versions(data)), key=version_key, reverse=True)


def _release_versions(entries: list[Any]) -> list[str]:
    found = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("draft"):
            continue
        tag = entry.get("tag_name")
        try:
            version = parse_version(tag).version if isinstance(tag, str) else None
        except UsageError:
            continue  # a tag that is no Codex version
        if version is not None:
            found.append(version)
    return found


def mirror_versions(
    net: Network, base: str, *, registry: RegistryConfig | None = None
) -> list[str]:
    """A mirror tree only says which release is latest (``channels/latest``); a registry lists
    its tags."""
    if oci.is_oci(base):
        from codex_install.sources.oci import source  # only an oci:// mirror

        seconds = (net.plan.metadata_s, net.plan.download_s)
        config = registry or source.RegistryConfig()
        return source.versions(net.client(), base, config, sleep=net.sleep, seconds=seconds)
    return [mirror.fetch_release(net, base, VersionSpec(None)).version]
