"""A release from an OCI registry (``oci://HOST/REPO``): tag → index → each wanted target's
manifest → its layer, as a :class:`Release` whose archive URLs are the registry's blob URLs —
so the archive streams through the same download, hash, verify and extract path as from
GitHub. The blob's digest is its content address and must equal the sha256 the release
annotates; the installer then holds it to the SUMS file as for any package archive."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from codex_install.errors import NetworkError, NotFoundError, UsageError
from codex_install.http.limits import DEFAULT_DEADLINE_S, DOWNLOAD_DEADLINE_S
from codex_install.models import Asset, Release
from codex_install.sources.oci import artifact
from codex_install.sources.oci.auth import Login, RegistryAuth
from codex_install.sources.oci.credentials import RegistryConfig, lookup
from codex_install.sources.oci.reference import check_tag, parse_reference
from codex_install.sources.oci.registry import DigestCache, Registry
from codex_install.versions import is_prerelease, version_from_tag

__all__ = ["RegistryConfig", "connect", "fetch_release", "versions"]

if TYPE_CHECKING:
    import httpx


def connect(
    client: httpx.Client,
    url: str,
    config: RegistryConfig,
    *,
    sleep: Callable[[float], None] = time.sleep,
    what: str = "the registry URL",
    seconds: tuple[float, float] = (DEFAULT_DEADLINE_S, DOWNLOAD_DEADLINE_S),
) -> Registry:
    """A :class:`Registry` for ``url`` on ``client``, whose auth flow learns this registry's
    login. The flow touches only this registry's requests (and its token realm), so the same
    client still downloads from GitHub or npm with no registry login on them."""
    reference = parse_reference(url, what)
    auth = client.auth
    if not isinstance(auth, RegistryAuth):
        auth = RegistryAuth(client, seconds[0])
        client.auth = auth
    files, helper = config.auth_files, config.helper
    auth.add(
        Login(
            reference,
            find=lambda: lookup(reference.host, files, helper),
            allow_cleartext=config.allow_cleartext,
        )
    )
    cache = DigestCache(config.cache_dir / "oci-manifests" if config.cache_dir else None)
    return Registry(client, reference, cache=cache, sleep=sleep, seconds=seconds)


def fetch_release(
    client: httpx.Client | None,
    url: str,
    version: str | None,
    config: RegistryConfig,
    *,
    targets: Collection[str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    seconds: tuple[float, float] = (DEFAULT_DEADLINE_S, DOWNLOAD_DEADLINE_S),
) -> Release:
    """The release tagged ``version`` (``latest`` when None), with the archives of ``targets``
    (every target when None), the SUMS file and nothing else."""
    if client is None:
        raise UsageError("an OCI registry needs an HTTP client")
    registry = connect(client, url, config, sleep=sleep, seconds=seconds)
    index = _index(registry, version)
    where = f"{registry.reference.shown}:{version or 'latest'}"
    assets = [_asset(registry, entry, where) for entry in index.entries if _wanted(entry, targets)]
    return Release(
        version=index.version,
        tag=index.tag,
        assets=tuple(assets),
        source="mirror",
        prerelease=is_prerelease(index.version),
    )


def _index(registry: Registry, version: str | None) -> artifact.ReleaseIndex:
    """The release index the tag ``version`` (``latest``) names, its version and GitHub tag
    checked against each other and against the tag."""
    tag = check_tag(version or "latest")
    where = f"{registry.reference.shown}:{tag}"
    digest = registry.tag_digest(tag)
    if digest is None:
        what = f"release {version}" if version else "the latest tag"
        raise NotFoundError(f"{what} not found in {registry.reference.shown}")
    index = artifact.parse_index(registry.manifest(digest, f"release {tag}"), where)
    try:
        named = version_from_tag(index.tag)
    except UsageError as err:
        raise NetworkError(f"{where} names no Codex release tag") from err
    if named != index.version or (version is not None and index.version != version):
        raise NetworkError(f"{where} describes {index.tag}, not {version or index.version}")
    return index


def _wanted(entry: artifact.Entry, targets: Collection[str] | None) -> bool:
    """SUMS always; an archive when it is for one of ``targets`` (every one when None)."""
    if entry.artifact_type == artifact.SUMS_TYPE:
        return True
    return entry.artifact_type == artifact.ARCHIVE_TYPE and (
        targets is None or entry.target in targets
    )


def _asset(registry: Registry, entry: artifact.Entry, where: str) -> Asset:
    what = f"the {entry.target or 'SUMS'} manifest of {where}"
    layer = artifact.parse_artifact(
        registry.manifest(entry.digest, what), entry.artifact_type, what
    )
    return Asset(
        name=layer.name,
        url=registry.reference.blob_url(layer.digest),
        size=layer.size,
        sha256=layer.sha256,
    )


def versions(
    client: httpx.Client,
    url: str,
    config: RegistryConfig,
    *,
    sleep: Callable[[float], None] = time.sleep,
    seconds: tuple[float, float] = (DEFAULT_DEADLINE_S, DOWNLOAD_DEADLINE_S),
) -> list[str]:
    """The Codex versions the repository has tags for, newest first."""
    registry = connect(client, url, config, sleep=sleep, seconds=seconds)
    found = artifact.version_tags(registry.tags())
    if not found:
        raise NotFoundError(f"no Codex release is tagged in {registry.reference.shown}")
    return found


def registry_blob(
    client: httpx.Client, url: str, name: str, cap: int, seconds: float
) -> bytes | None:
    """The bytes of ``url`` when it is a blob of a registry ``client`` logged into (the SUMS
    file of a release read from it): through the registry's auth flow, which the metadata
    session does not speak, at most ``cap`` bytes, checked against the digest. None for any
    other URL."""
    auth = client.auth
    login = auth.login_for(url) if isinstance(auth, RegistryAuth) else None
    prefix = login.reference.url("blobs/") if login is not None else None
    digest = url.removeprefix(prefix) if prefix and url.startswith(prefix) else None
    if login is None or not artifact.is_digest(digest):
        return None
    registry = Registry(client, login.reference, seconds=(seconds, seconds))
    assert digest is not None
    return registry.blob(digest, name, cap)
