"""``codex-install manifest generate`` and ``manifest verify`` (SPEC §7).

``generate`` downloads every archive it pins — hashing while streaming, keeping no file — and
cross-checks each against what the source publishes (release ``digest`` and
``codex-package_SHA256SUMS`` for GitHub and mirrors, ``dist.integrity`` for npm) before writing
``codex-<ver>.toml``. ``verify`` re-downloads every entry of a manifest and lists the drift.
"""

from __future__ import annotations

import errno
import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from codex_install import verify
from codex_install.config import Settings
from codex_install.errors import FilesystemError, NotFoundError, UsageError, VerificationError
from codex_install.http.download import Digests, download
from codex_install.manifest import (
    build_manifest,
    check_url,
    load_manifest,
    manifest_filename,
    write_manifest,
)
from codex_install.models import Asset, Layout, Manifest, ManifestAsset, Release, Selection
from codex_install.platforms import SUPPORTED_TARGETS, validate_target
from codex_install.sources.dispatch import SourceChoice, fetch_release, with_sums
from codex_install.sources.release import select_asset
from codex_install.ui import Reporter, shown
from codex_install.verify import asset_drift
from codex_install.versions import VersionSpec, parse_version

if TYPE_CHECKING:
    from codex_install.http.network import Network

Notice = Callable[[str], None]
NpmResolver = Callable[[VersionSpec, str], Selection]


# --- what to pin (pure) ---


@dataclass(frozen=True)
class Planned:
    """One release archive to download and pin."""

    target: str
    layout: Layout
    asset: Asset


def plan_release(release: Release, targets: Sequence[str]) -> list[Planned]:
    """For each target: the archive the installer prefers, the package ``.tar.gz`` (what
    Homebrew downloads) and the legacy archive, each when the release has it."""
    planned: dict[str, Planned] = {}
    for target in targets:
        preferred = select_asset(release, target)  # NotFoundError when there is none
        names: list[tuple[str, Layout]] = [
            (preferred.archive.name, preferred.layout),
            (f"codex-package-{target}.tar.gz", "package"),
            (f"codex-{target}.tar.gz", "legacy"),
        ]
        for name, layout in names:
            asset = release.asset(name)
            if asset is not None and name not in planned:
                planned[name] = Planned(target, layout, asset)
    return list(planned.values())


def expected_digest(asset: Asset, layout: Layout, sums: Mapping[str, str] | None) -> str:
    """The sha256 the source publishes for ``asset``: its release digest and, for package
    archives, its SUMS line — which must agree, and at least one must exist."""
    claims = verify.release_claims(
        asset, sums if layout == "package" else None, sums_required=False
    )
    return verify.agree(
        asset.name,
        claims,
        missing=f"{asset.name}: the release publishes no digest for it; refusing to pin bytes "
        "nothing vouches for",
        consequence="the release disagrees with itself",
    ).hex


def _discard(_chunk: bytes) -> None:
    """The sink of a hash-only download: nothing is kept."""


def _hash(
    client: Network,
    url: str,
    name: str,
    size: int | None,
    integrity: str | None,
    sleep: Callable[[float], None],
) -> Digests:
    return download(
        client,
        url,
        _discard,
        expected_size=size,
        label=name,
        sleep=sleep,
        extra_hashes=verify.hashes_for(integrity),
    )


# --- generate ---


def pin_release(
    release: Release,
    targets: Sequence[str],
    *,
    client: Network,
    sleep: Callable[[float], None] = time.sleep,
    notice: Notice = lambda _m: None,
) -> list[ManifestAsset]:
    """Download and hash the planned archives of a GitHub or mirror release."""
    planned = plan_release(release, targets)
    sums_asset = release.asset(verify.SUMS_NAME)
    for asset in [p.asset for p in planned] + ([sums_asset] if sums_asset else []):
        check_url(asset.url, f"the {release.source} url of {asset.name}")  # before any download
    sums: dict[str, str] | None = None
    if sums_asset is not None and any(p.layout == "package" for p in planned):
        first = planned[0]
        probe = Selection(release.version, first.target, "package", first.asset, sums=sums_asset)
        sums = with_sums(probe, client).sums
    pinned: list[ManifestAsset] = []
    for item in planned:
        expected = expected_digest(item.asset, item.layout, sums)
        digests = _hash(client, item.asset.url, item.asset.name, item.asset.size, None, sleep)
        verify.check_sha256(item.asset.name, digests.sha256, expected)
        notice(f"  {shown(item.asset.name)}  {digests.size} bytes  sha256 {digests.sha256[:16]}…")
        pinned.append(
            ManifestAsset(
                target=item.target,
                layout=item.layout,
                name=item.asset.name,
                url=item.asset.url,
                size=digests.size,
                sha256=digests.sha256,
            )
        )
    return pinned


def pin_npm(
    resolver: NpmResolver,
    spec: VersionSpec,
    targets: Sequence[str],
    *,
    client: Network,
    sleep: Callable[[float], None] = time.sleep,
    notice: Notice = lambda _m: None,
) -> tuple[str, list[ManifestAsset]]:
    """Download and hash each target's npm platform tarball; (version, entries)."""
    pinned: list[ManifestAsset] = []
    version = spec.version
    for target in targets:
        # "latest" is resolved once, so every target pins the same version.
        sel = resolver(VersionSpec(version), target)
        version = sel.version
        check_url(sel.archive.url, f"the registry's tarball url of {sel.archive.name}")
        digests = _hash(client, sel.archive.url, sel.archive.name, None, sel.integrity, sleep)
        if not sel.integrity:
            raise VerificationError(f"{sel.archive.name}: the registry publishes no integrity")
        verify.check_integrity(sel.archive.name, sel.integrity, digests)
        notice(f"  {shown(sel.archive.name)}  {digests.size} bytes  sha256 {digests.sha256[:16]}…")
        pinned.append(
            ManifestAsset(
                target=target,
                layout=sel.layout,
                name=sel.archive.name,
                url=sel.archive.url,
                size=digests.size,
                sha256=digests.sha256,
                # A sha1 shasum is weaker than the sha256 pinned beside it: keep only sha512.
                integrity=sel.integrity
                if verify.sri_algorithm(sel.integrity) == "sha512"
                else None,
                npm_spec=sel.extra.get("npm_spec"),
            )
        )
    assert version is not None
    return version, pinned


@dataclass(frozen=True)
class Generated:
    manifest: Manifest
    path: Path

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "version": self.manifest.version,
            "path": str(self.path),
            "targets": list(self.manifest.targets),
            "assets": [a.to_table() for a in self.manifest.assets],
        }


@dataclass(frozen=True)
class GenerateArgs:
    sources: tuple[str, ...] = ()
    output: Path = Path("manifests")
    targets: tuple[str, ...] = ()
    quiet: bool = False


def run_generate(args: GenerateArgs, settings: Settings) -> Generated:
    """``manifest generate``: resolve, download, cross-check, write ``codex-<ver>.toml``."""
    reporter = Reporter(quiet=args.quiet, no_color=settings.no_color)
    targets = _targets(args.targets)
    settings = settings.settled(targets[0], reporter.info, reporter.debug)
    spec = parse_version(settings.version or "latest")
    chosen = list(dict.fromkeys(args.sources)) or [
        "mirror" if settings.sources.mirror else "github"
    ]
    _check_writable_dir(args.output)  # before hashing a dozen archives, not after
    pinned: list[ManifestAsset] = []
    with settings.open_network(reporter.info, reporter.debug) as client:
        for source in chosen:
            version, entries = _pin_source(source, spec, targets, settings, client, reporter)
            # Every source after the first pins the version the first one resolved.
            spec = VersionSpec(version)
            pinned.extend(entries)
    manifest = build_manifest(version, pinned)
    path = args.output / manifest_filename(manifest.version)
    write_manifest(manifest, path)
    reporter.info(
        f"wrote {path} ({len(manifest.assets)} archives for {len(manifest.targets)} targets)"
    )
    return Generated(manifest, path)


def _targets(given: Sequence[str]) -> list[str]:
    return [validate_target(t) for t in given] or list(SUPPORTED_TARGETS)


def _pin_source(
    source: str,
    spec: VersionSpec,
    targets: Sequence[str],
    settings: Settings,
    client: Network,
    reporter: Reporter,
) -> tuple[str, list[ManifestAsset]]:
    """(version, entries) pinned from one source."""
    if source == "npm":
        factory = settings.npm_factory(reporter.info)
        if factory is None:
            raise UsageError("no npm registry is configured (pass --npm-registry URL)")
        reporter.info(f"pinning the npm tarballs of Codex {spec} ({len(targets)} targets)")
        return pin_npm(factory(client), spec, targets, client=client, notice=reporter.info)
    options = replace(settings.sources, source=cast(SourceChoice, source))
    release = fetch_release(client, options, spec)
    reporter.info(
        f"pinning the {release.source} archives of Codex {release.version} ({len(targets)} targets)"
    )
    return release.version, pin_release(release, targets, client=client, notice=reporter.info)


def _check_writable_dir(directory: Path) -> None:
    """Whether the manifest could be written there (creating nothing: a failed generate leaves
    no directory behind); the nearest existing ancestor stands in for a missing directory."""
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        if not existing.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(existing))
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".codex-install-probe-"):
            pass
    except OSError as err:
        raise FilesystemError(f"cannot write in {directory}: {err.strerror or err}") from err


# --- verify ---


@dataclass(frozen=True)
class Verified:
    manifest: Manifest
    path: Path
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "manifest": str(self.path),
            "version": self.manifest.version,
            "checked": len(self.manifest.assets),
            "problems": list(self.problems),
        }


def verify_asset(
    asset: ManifestAsset,
    version: str,
    *,
    client: Network,
    npm_resolver: Callable[[], NpmResolver | None] = lambda: None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Re-download one pinned archive and list how it differs from the pin (flit-style)."""
    url = asset.url
    if url is None:
        resolver = npm_resolver()
        if resolver is None:
            return [f"{asset.label}: has no url and no npm registry is configured to find it"]
        url = resolver(VersionSpec(version), asset.target).archive.url
    try:
        digests = _hash(client, url, asset.name, asset.size, asset.integrity, sleep)
    except (VerificationError, NotFoundError) as err:
        return [f"{asset.label}: {err}"]
    observed_integrity = None
    if asset.integrity is not None:
        algorithm = verify.sri_algorithm(asset.integrity)
        hex_digest = digests.hexdigest(algorithm)
        observed_integrity = verify.sri(algorithm, hex_digest) if hex_digest else None
    return asset_drift(
        asset, size=digests.size, sha256=digests.sha256, integrity=observed_integrity
    )


def verify_manifest(
    manifest: Manifest,
    *,
    client: Network,
    npm_resolver: Callable[[], NpmResolver | None] = lambda: None,
    sleep: Callable[[float], None] = time.sleep,
    notice: Notice = lambda _m: None,
) -> list[str]:
    problems: list[str] = []
    for asset in manifest.assets:
        found = verify_asset(
            asset, manifest.version, client=client, npm_resolver=npm_resolver, sleep=sleep
        )
        notice(f"  {'drift ' if found else 'ok    '} {shown(asset.name)}")
        problems.extend(found)
    return problems


@dataclass(frozen=True)
class VerifyArgs:
    manifest_file: Path
    quiet: bool = False
    verbose: bool = False


def run_verify(args: VerifyArgs, settings: Settings) -> Verified:
    """``manifest verify FILE``: re-download and re-hash every entry."""
    reporter = Reporter(quiet=args.quiet, verbose=args.verbose, no_color=settings.no_color)
    manifest = load_manifest(args.manifest_file)
    reporter.debug(f"verifying {len(manifest.assets)} archives of Codex {manifest.version}")
    with settings.open_network(reporter.info, reporter.debug) as client:

        def npm_resolver() -> NpmResolver | None:
            factory = settings.npm_factory(reporter.info)
            return factory(client) if factory is not None else None

        problems = verify_manifest(
            manifest, client=client, npm_resolver=npm_resolver, notice=reporter.debug
        )
    return Verified(manifest, args.manifest_file, tuple(problems))


__all__ = [
    "Generated",
    "Planned",
    "Verified",
    "expected_digest",
    "pin_npm",
    "pin_release",
    "plan_release",
    "run_generate",
    "run_verify",
    "verify_asset",
    "verify_manifest",
]
