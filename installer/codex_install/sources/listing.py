"""Which versions a source offers (``codex-install ls-remote``): GitHub's release list, a
mirror's latest channel (a static tree has no index). npm lists its own (npm.versions_factory)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from codex_install.errors import NetworkError, UsageError
from codex_install.http.client import WEB_SCHEMES, check_url, host_of
from codex_install.http.download import fetch_bytes
from codex_install.sources import mirror, oci
from codex_install.sources.github import GitHubConfig
from codex_install.versions import VersionSpec, parse_version, version_key

if TYPE_CHECKING:
    import httpx

    from codex_install.sources.oci.credentials import RegistryConfig

PER_PAGE = 100  # GitHub's largest page: the newest 100 releases


def github_versions(
    config: GitHubConfig, client: httpx.Client, *, sleep: Callable[[float], None] = time.sleep
) -> list[str]:
    """The published (non-draft) Codex versions of ``config.repo``, newest first."""
    check_url(config.api_url, "the GitHub API URL", WEB_SCHEMES)
    url = f"{config.api_url.rstrip('/')}/repos/{config.repo}/releases?per_page={PER_PAGE}"
    client.headers["Accept"] = "application/vnd.github+json"
    if config.token and urlsplit(url).netloc == urlsplit(config.api_url).netloc:
        # httpx drops it on a redirect to another host; this client makes this one request.
        client.headers["Authorization"] = f"Bearer {config.token}"
    body, _ = fetch_bytes(client, url, label=f"the release list of {config.repo}", sleep=sleep)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise NetworkError(f"{host_of(url)} returned malformed JSON for {url}") from err
    if not isinstance(data, list):
        raise NetworkError(f"{host_of(url)} returned no release list for {config.repo}")
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
    client: httpx.Client,
    base: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
    registry: RegistryConfig | None = None,
) -> list[str]:
    """A mirror tree only says which release is latest (``channels/latest``); a registry lists
    its tags."""
    if oci.is_oci(base):
        from codex_install.sources.oci import source  # only an oci:// mirror

        return source.versions(client, base, registry or source.RegistryConfig(), sleep=sleep)
    return [mirror.fetch_release(client, base, VersionSpec(None), sleep=sleep).version]
