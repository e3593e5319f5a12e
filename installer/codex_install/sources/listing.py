"""Which versions a source offers (``codex-install ls-remote``): GitHub's release list, a
mirror's latest channel (a static tree has no index). npm lists its own (npm.versions_factory)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from codex_install.errors import UsageError
from codex_install.sources import github, mirror, oci
from codex_install.sources.github import GitHubConfig
from codex_install.versions import VersionSpec, parse_version, version_key

if TYPE_CHECKING:
    from codex_install.http.network import Network
    from codex_install.sources.oci.credentials import RegistryConfig


@dataclass(frozen=True)
class ReleaseInfo:
    """What a release list says of one version, for people (``ls-remote``)."""

    date: str | None  # YYYY-MM-DD it was published
    size: int | None  # of the target's package archive, when the list names it


def github_versions(net: Network, config: GitHubConfig) -> list[str]:
    """The published (non-draft) Codex versions of ``config.repo``, newest first."""
    return list(github_releases(net, config))


def github_releases(
    net: Network, config: GitHubConfig, target: str | None = None
) -> dict[str, ReleaseInfo]:
    """:func:`github_versions` with each one's date and the size of ``target``'s archive."""
    found = _release_versions(github.release_list(net, config), target)
    return {v: found[v] for v in sorted(found, key=version_key, reverse=True)}


def _release_versions(entries: list[Any], target: str | None) -> dict[str, ReleaseInfo]:
    found: dict[str, ReleaseInfo] = {}
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("draft"):
            continue
        tag = entry.get("tag_name")
        try:
            version = parse_version(tag).version if isinstance(tag, str) else None
        except UsageError:
            continue  # a tag that is no Codex version
        if version is not None and version not in found:
            found[version] = ReleaseInfo(_date(entry.get("published_at")), _size(entry, target))
    return found


def _date(value: object) -> str | None:
    text = value[:10] if isinstance(value, str) else ""
    return text if len(text) == 10 and text[4] == "-" and text[7] == "-" else None


def _size(entry: dict[str, Any], target: str | None) -> int | None:
    """The size of the archive an install would pick (package layout first, SPEC §3)."""
    if target is None or not isinstance(entry.get("assets"), list):
        return None
    sizes: dict[str, int] = {
        a["name"]: a["size"]
        for a in entry["assets"]
        if isinstance(a, dict)
        and isinstance(a.get("name"), str)
        and isinstance(a.get("size"), int)
        and a["size"] >= 0
    }
    names = (f"codex-package-{target}.tar.zst", f"codex-package-{target}.tar.gz")
    return next((sizes[n] for n in (*names, f"codex-{target}.tar.gz") if n in sizes), None)


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
