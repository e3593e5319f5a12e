"""GitHub-shaped releases: release JSON → :class:`Release`, and the archive a target installs
from it (SPEC §3, §4). Pure; used by the github and mirror sources and the distribution tools."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

from codex_install.errors import NetworkError, NotFoundError, UsageError
from codex_install.models import Asset, Layout, Release, Selection, SourceName
from codex_install.verify import SUMS_NAME, parse_digest
from codex_install.versions import is_prerelease, version_from_tag

_WEB_SCHEMES = frozenset({"http", "https"})
_LOCAL_SCHEMES = _WEB_SCHEMES | {"file"}


def parse_release(data: Any, *, base_url: str, source: SourceName, origin: str) -> Release:
    """Validate release JSON; relative download URLs resolve against ``base_url``."""
    if not isinstance(data, dict):
        raise NetworkError(f"{origin}: release JSON is not an object")
    tag, version = _tag(data, origin)
    raw_assets = data.get("assets")
    if not isinstance(raw_assets, list):
        raise NetworkError(f"{origin}: release JSON has no assets list")
    assets = tuple(_asset(raw, base_url, origin) for raw in raw_assets)
    prerelease = bool(data.get("prerelease")) or is_prerelease(version)
    return Release(version=version, tag=tag, assets=assets, source=source, prerelease=prerelease)


def _tag(data: dict[str, Any], origin: str) -> tuple[str, str]:
    tag = data.get("tag_name")
    if not isinstance(tag, str):
        raise NetworkError(f"{origin}: release JSON has no tag_name")
    try:
        return tag, version_from_tag(tag)
    except UsageError as err:
        raise NetworkError(f"{origin}: unexpected release tag {tag!r}") from err


def _asset(raw: object, base_url: str, origin: str) -> Asset:
    if not isinstance(raw, dict):
        raise NetworkError(f"{origin}: an asset entry is not an object")
    name = raw.get("name")
    url = raw.get("browser_download_url")
    if not isinstance(name, str) or not name or "/" in name or not isinstance(url, str):
        raise NetworkError(f"{origin}: an asset entry lacks a name or download URL")
    size = _size(raw.get("size"), name, origin)
    return Asset(
        name=name,
        url=_absolute(base_url, url, name, origin),
        size=size,
        sha256=parse_digest(raw.get("digest")),
    )


def _size(size: object, name: str, origin: str) -> int | None:
    if size is None:
        return None
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise NetworkError(f"{origin}: asset {name} has an invalid size")
    return size


def _absolute(base_url: str, url: str, name: str, origin: str) -> str:
    """The asset's URL against the document's. A download may only leave the web for the
    local disk when the document itself came from there (a ``file://`` mirror the user gave):
    a remote document naming ``file:///etc/shadow`` or ``ftp://`` is refused."""
    try:
        absolute = urljoin(base_url, url)
    except ValueError as err:  # e.g. "http://[": urllib refuses a malformed host
        raise NetworkError(f"{origin}: asset {name} has a malformed download URL") from err
    scheme = urlsplit(absolute).scheme.lower()
    allowed = _LOCAL_SCHEMES if urlsplit(base_url).scheme.lower() == "file" else _WEB_SCHEMES
    if scheme not in allowed:
        raise NetworkError(
            f"{origin}: asset {name} has a {scheme or 'relative'}: download URL; "
            f"only {' or '.join(sorted(allowed))} may come from there"
        )
    return absolute


def candidate_names(target: str) -> list[tuple[str, Layout]]:
    """Archive names for ``target`` in order of preference."""
    return [
        (f"codex-package-{target}.tar.zst", "package"),
        (f"codex-package-{target}.tar.gz", "package"),
        (f"codex-{target}.tar.gz", "legacy"),
    ]


def select_asset(release: Release, target: str, *, layout: Layout | None = None) -> Selection:
    """The preferred archive for ``target``: package .tar.zst > .tar.gz > legacy .tar.gz."""
    sums = release.asset(SUMS_NAME)
    for name, kind in candidate_names(target):
        asset = release.asset(name)
        if asset is None or (layout is not None and kind != layout):
            continue
        if kind == "package" and sums is None:
            # Without SUMS a package archive can't get the verification chain §3 demands.
            continue
        return Selection(
            version=release.version,
            target=target,
            layout=kind,
            archive=asset,
            sums=sums if kind == "package" else None,
            source=release.source,
        )
    names = ", ".join(a.name for a in release.assets) or "none"
    raise NotFoundError(f"release {release.tag} has no archive for {target} (assets: {names})")
