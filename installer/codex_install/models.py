"""Plain values shared by every source, the installer and the distribution tools."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Layout = Literal["package", "legacy"]
SourceName = Literal["github", "mirror", "npm", "archive", "manifest"]


@dataclass(frozen=True)
class Asset:
    """One downloadable file of a release, as GitHub's release JSON describes it."""

    name: str
    url: str
    size: int | None = None
    sha256: str | None = None  # lower-case hex, from the ``digest`` field when present


@dataclass(frozen=True)
class Release:
    """A release: its version (no ``rust-v`` prefix), its tag and its assets."""

    version: str
    tag: str
    assets: tuple[Asset, ...]
    source: SourceName = "github"
    prerelease: bool = False

    def asset(self, name: str) -> Asset | None:
        for asset in self.assets:
            if asset.name == name:
                return asset
        return None


@dataclass(frozen=True)
class Selection:
    """What to download for one target: the archive, its layout, and the SUMS file if any.

    ``integrity`` carries an npm SRI string (``sha512-...``) for the npm source; ``sha256`` is
    the expected archive digest when one is known from any trusted place (SUMS, digest, pin).
    """

    version: str
    target: str
    layout: Layout
    archive: Asset
    sums: Asset | None = None
    integrity: str | None = None
    npm_subdir: str | None = None  # e.g. "package/vendor/<T>/" for npm tarballs
    source: SourceName = "github"
    extra: dict[str, str] = field(default_factory=dict, compare=False)
