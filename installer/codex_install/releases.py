"""GitHub-shaped release JSON → :class:`Release` (pure; used by the github and mirror sources)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

from codex_install.errors import NetworkError, UsageError
from codex_install.models import Asset, Release, SourceName
from codex_install.versions import is_prerelease, version_from_tag

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def parse_digest(value: object) -> str | None:
    """``"sha256:<64 hex>"`` → hex; anything else (absent, other algorithm) → None."""
    if not isinstance(value, str) or not value.lower().startswith("sha256:"):
        return None
    hex_ = value[7:].strip().lower()
    return hex_ if _HEX64.match(hex_) else None


def parse_release(data: Any, *, base_url: str, source: SourceName, origin: str) -> Release:
    """Validate release JSON; relative download URLs resolve against ``base_url``."""
    if not isinstance(data, dict):
        raise NetworkError(f"{origin}: release JSON is not an object")
    tag = data.get("tag_name")
    if not isinstance(tag, str):
        raise NetworkError(f"{origin}: release JSON has no tag_name")
    try:
        version = version_from_tag(tag)
    except UsageError as err:
        raise NetworkError(f"{origin}: unexpected release tag {tag!r}") from err
    raw_assets = data.get("assets")
    if not isinstance(raw_assets, list):
        raise NetworkError(f"{origin}: release JSON has no assets list")
    assets: list[Asset] = []
    for raw in raw_assets:
        if not isinstance(raw, dict):
            raise NetworkError(f"{origin}: an asset entry is not an object")
        name = raw.get("name")
        url = raw.get("browser_download_url")
        if not isinstance(name, str) or not name or "/" in name or not isinstance(url, str):
            raise NetworkError(f"{origin}: an asset entry lacks a name or download URL")
        size = raw.get("size")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
            raise NetworkError(f"{origin}: asset {name} has an invalid size")
        try:
            absolute = urljoin(base_url, url)
        except ValueError as err:  # e.g. "http://[": urllib refuses a malformed host
            raise NetworkError(f"{origin}: asset {name} has a malformed download URL") from err
        assets.append(
            Asset(
                name=name,
                url=absolute,
                size=size,
                sha256=parse_digest(raw.get("digest")),
            )
        )
    prerelease = bool(data.get("prerelease")) or is_prerelease(version)
    return Release(
        version=version, tag=tag, assets=tuple(assets), source=source, prerelease=prerelease
    )
