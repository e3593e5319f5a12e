"""The pinned source (SPEC §3, §7): a release manifest entry as the download plan.

With the default source there is no metadata request at all: the archive comes from the
manifest entry's own ``url``. With a source asked for explicitly (``--source github|mirror|npm``,
``--mirror URL``) the release is resolved through it, the pinned archive is looked up there by
name, and every digest the source publishes (release ``digest``, ``codex-package_SHA256SUMS``,
npm ``dist.integrity``) must agree with the manifest *before* any archive byte is downloaded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from codex_install import verify
from codex_install.errors import NotFoundError, UsageError
from codex_install.models import Asset, Manifest, ManifestAsset, Release, Selection
from codex_install.sources.dispatch import Resolved, SourceOptions, fetch_release, with_sums
from codex_install.verify import asset_drift
from codex_install.versions import VersionSpec

if TYPE_CHECKING:
    from codex_install.http.network import Network

NpmResolver = Callable[[VersionSpec, str], Selection]
# A source that disagrees with the pin is an error, never a warning (SPEC §3).
_PIN_WINS = "the manifest is the source of truth, so nothing was downloaded"


# --- which manifest entries a source can serve ---


def _candidates(manifest: Manifest, target: str, source: str) -> tuple[ManifestAsset, ...]:
    """The manifest's entries for ``target`` that ``source`` can serve, most preferred first:
    GitHub and mirrors serve release archives, the npm source serves npm tarballs, and the
    auto source downloads any entry from its own url (or an npm tarball through npm)."""
    found = manifest.assets_for(target)
    if source in ("github", "mirror"):
        return tuple(a for a in found if not a.is_npm)
    if source == "npm":
        return tuple(a for a in found if a.is_npm)
    return found


def usable_candidates(
    manifest: Manifest, target: str, source: str, *, need_url: bool = False
) -> tuple[ManifestAsset, ...]:
    """As :func:`_candidates`; with ``need_url`` only the entries that name their own url (the
    auto source needs no npm registry for those)."""
    found = _candidates(manifest, target, source)
    return tuple(a for a in found if a.url is not None) if need_url else found


def pinned_candidates(
    manifest: Manifest, target: str, sources: SourceOptions, *, origin: str
) -> tuple[ManifestAsset, ...]:
    """As :func:`_candidates`, or a UsageError naming what the manifest does pin."""
    _covers(manifest, target)
    source = sources.effective
    found = _candidates(manifest, target, source)
    if not found:
        kind = "npm tarballs" if source in ("github", "mirror") else "release archives"
        other = "--source npm" if source in ("github", "mirror") else "--source github"
        raise UsageError(
            f"the manifest {origin} pins only {kind} for {target}, which the {source} "
            "source does not serve",
            hint=f"use {other}, or no --source to download from the manifest's urls",
        )
    return found


def resolve_pinned(
    manifest: Manifest,
    sources: SourceOptions,
    target: str,
    *,
    client: Network,
    npm_resolver: NpmResolver | None = None,
) -> Resolved:
    """The download plan for a pinned install, every remote claim checked against the pin."""
    source = sources.effective
    candidates = pinned_candidates(manifest, target, sources, origin=f"for {manifest.version}")
    if source == "auto":
        with_url = usable_candidates(manifest, target, source, need_url=True)
        if with_url:
            return Resolved(_direct(manifest, with_url[0]), None)
        if npm_resolver is None:
            raise UsageError(
                f"the manifest pins {candidates[0].label} by npm_spec only",
                hint="install it with --source npm --npm-registry URL",
            )
        return _through_npm(manifest, candidates, target, npm_resolver)
    if source == "npm":
        if npm_resolver is None:
            raise UsageError("no npm registry is configured (pass --npm-registry URL)")
        return _through_npm(manifest, candidates, target, npm_resolver)
    release = fetch_release(client, sources, VersionSpec(manifest.version))
    return _through_release(manifest, candidates, release, client)


def _direct(manifest: Manifest, pinned: ManifestAsset) -> Selection:
    assert pinned.url is not None
    return Selection(
        version=manifest.version,
        target=pinned.target,
        layout=pinned.layout,
        archive=Asset(name=pinned.name, url=pinned.url, size=pinned.size, sha256=pinned.sha256),
        integrity=pinned.integrity,
        npm_subdir=_npm_subdir(pinned),
        source="manifest",
    )


def _npm_subdir(asset: ManifestAsset) -> str | None:
    return f"package/vendor/{asset.target}/" if asset.is_npm else None


def _through_release(
    manifest: Manifest,
    candidates: Sequence[ManifestAsset],
    release: Release,
    client: Network,
) -> Resolved:
    """The pinned archive as the release publishes it: its digest and SUMS entry must be the
    manifest's, checked before the archive is downloaded."""
    for pinned in candidates:
        remote = release.asset(pinned.name)
        if remote is not None:
            break
    else:
        names = ", ".join(a.name for a in candidates)
        raise NotFoundError(
            f"release {release.tag} from {release.source} has none of the archives the "
            f"manifest pins for {candidates[0].target} ({names})"
        )
    sums_asset = release.asset(verify.SUMS_NAME) if pinned.layout == "package" else None
    selection = Selection(
        version=manifest.version,
        target=pinned.target,
        layout=pinned.layout,
        archive=Asset(name=pinned.name, url=remote.url, size=pinned.size, sha256=pinned.sha256),
        sums=sums_asset,
        source=release.source,
    )
    problems = asset_drift(
        pinned, size=remote.size, sha256=remote.sha256, observed=f"{release.source} release"
    )
    sums = with_sums(selection, client).sums if sums_asset is not None else None
    if sums is not None and pinned.name in sums:
        problems += asset_drift(pinned, sha256=sums[pinned.name], observed=verify.SUMS_NAME)
    verify.refuse(problems, _PIN_WINS)
    return Resolved(replace(selection, sums=None), None)


def _through_npm(
    manifest: Manifest,
    candidates: Sequence[ManifestAsset],
    target: str,
    npm_resolver: NpmResolver,
) -> Resolved:
    """The pinned npm tarball as the registry publishes it: ``dist.integrity`` must be the
    manifest's, checked before the tarball is downloaded."""
    remote = npm_resolver(VersionSpec(manifest.version), target)
    pinned = _npm_entry(candidates, remote, target)
    if remote.integrity and pinned.integrity:
        problems = asset_drift(pinned, integrity=remote.integrity, observed="npm registry")
        verify.refuse(problems, _PIN_WINS)
    selection = Selection(
        version=manifest.version,
        target=pinned.target,
        layout=pinned.layout,
        archive=Asset(
            name=pinned.name, url=remote.archive.url, size=pinned.size, sha256=pinned.sha256
        ),
        integrity=pinned.integrity or remote.integrity,
        npm_subdir=remote.npm_subdir or _npm_subdir(pinned),
        source="npm",
        extra=dict(remote.extra),
    )
    return Resolved(selection, None)


def _npm_entry(
    candidates: Sequence[ManifestAsset], remote: Selection, target: str
) -> ManifestAsset:
    """The manifest's npm entry for the tarball the registry offers (by spec or file name)."""
    spec = remote.extra.get("npm_spec")
    npm_entries = [a for a in candidates if a.is_npm]
    for entry in npm_entries:
        if entry.npm_spec == spec or entry.name == remote.archive.name:
            return entry
    pins = ", ".join(a.npm_spec or a.name for a in npm_entries) or "no npm tarball"
    raise NotFoundError(
        f"the npm registry's {spec or remote.archive.name} is not what the manifest pins "
        f"for {target} ({pins})"
    )


def _covers(manifest: Manifest, target: str) -> None:
    if not manifest.assets_for(target):
        covered = ", ".join(sorted(manifest.targets))
        raise UsageError(
            f"the manifest for Codex {manifest.version} has no archive for {target}; "
            f"it covers {covered or 'nothing'}"
        )


__all__ = ["pinned_candidates", "resolve_pinned", "usable_candidates"]
