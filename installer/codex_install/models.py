"""Plain values shared by every source, the installer and the distribution tools."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

Layout = Literal["package", "legacy"]
SourceName = Literal["github", "mirror", "npm", "archive", "manifest"]
LAYOUTS: tuple[Layout, ...] = get_args(Layout)
# A manifest asset table's keys, in the order they are written.
ASSET_KEYS = ("target", "layout", "name", "url", "size", "sha256", "integrity", "npm_spec")
_SUFFIX_RANK = (".tar.zst", ".tar.gz", ".tgz")


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


@dataclass(frozen=True)
class ManifestAsset:
    """One archive pinned by a manifest. npm entries carry ``integrity`` and ``npm_spec``."""

    target: str
    layout: Layout
    name: str
    url: str | None
    size: int
    sha256: str
    integrity: str | None = None
    npm_spec: str | None = None

    @property
    def is_npm(self) -> bool:
        return self.npm_spec is not None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.target}, {self.layout})"

    def to_table(self) -> dict[str, Any]:
        values = {key: getattr(self, key) for key in ASSET_KEYS}
        return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class Manifest:
    """A release pinned to exact bytes. Assets are kept in canonical order (see ``sort_key``),
    so two manifests with the same content compare equal whatever order they were built in."""

    schema: int
    version: str
    tag: str
    assets: tuple[ManifestAsset, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "assets", tuple(sorted(self.assets, key=sort_key)))

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.target for a in self.assets))

    def assets_for(self, target: str, layout: Layout | None = None) -> tuple[ManifestAsset, ...]:
        """Every asset for ``target`` (and ``layout``), most preferred first."""
        found = [
            a for a in self.assets if a.target == target and (layout is None or a.layout == layout)
        ]
        return tuple(sorted(found, key=_preference))

    def asset_named(self, name: str, target: str | None = None) -> ManifestAsset | None:
        for asset in self.assets:
            if asset.name == name and (target is None or asset.target == target):
                return asset
        return None


def sort_key(asset: ManifestAsset) -> tuple[str, int, str]:
    """Canonical file order: by target, then layout (package before legacy), then name."""
    return (asset.target, _layout_rank(asset.layout), asset.name)


def _layout_rank(layout: str) -> int:
    return LAYOUTS.index(layout) if layout in LAYOUTS else len(LAYOUTS)


def _preference(asset: ManifestAsset) -> tuple[int, int, str]:
    suffix = next(
        (i for i, s in enumerate(_SUFFIX_RANK) if asset.name.endswith(s)), len(_SUFFIX_RANK)
    )
    return (_layout_rank(asset.layout), suffix, asset.name)
