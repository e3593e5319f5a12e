"""Installs pinned by a release manifest (SPEC §3, §7).

``install --manifest FILE`` — and ``install --version V`` when a manifest for V ships with
codex-install — makes the manifest the source of truth for what gets installed:

* with the default source (``auto``, no mirror) there is no metadata request at all: the archive
  comes from the manifest entry's own ``url`` and must have its size, sha256 and, for npm
  tarballs, its integrity;
* with a source asked for explicitly (``--source github|mirror|npm``, ``--mirror URL``) the
  release is resolved through it, the pinned archive is looked up there by name, and every digest
  the source publishes (release ``digest``, ``codex-package_SHA256SUMS``, npm ``dist.integrity``)
  must agree with the manifest *before* any archive byte is downloaded; the bytes then come from
  the source and are checked against the manifest's sha256.

Shipped manifests are looked up in ``CODEX_INSTALL_MANIFEST_DIR`` (``os.pathsep``-separated
directories, replacing the shipped ones; tests and air-gapped fleets use it) or else in the
wheel's package data (:func:`codex_install.manifest.shipped_manifest_dirs`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from codex_install import verify
from codex_install.errors import NotFoundError, UsageError
from codex_install.models import Asset, Release, Selection
from codex_install.sources.dispatch import Resolved, SourceOptions, fetch_release, with_sums
from codex_install.sources.github import DEFAULT_API_URL, DEFAULT_REPO
from codex_install.versions import VersionSpec

if TYPE_CHECKING:
    import httpx

    from codex_install.install import InstallRequest
    from codex_install.manifest import Manifest, ManifestAsset

MANIFEST_DIR_ENV = "CODEX_INSTALL_MANIFEST_DIR"
# A source that disagrees with the pin is an error, never a warning (SPEC §3).
_PIN_WINS = "the manifest is the source of truth, so nothing was downloaded"

NpmResolver = Callable[[VersionSpec, str], Selection]


@dataclass(frozen=True)
class Pin:
    """The manifest an install is pinned to, and where it came from (for messages and --json)."""

    manifest: Manifest
    origin: str
    shipped: bool

    def to_json(self) -> dict[str, object]:
        return {"file": self.origin, "shipped": self.shipped, "version": self.manifest.version}


# --- pinning a request (before the lock: a bad manifest fails fast, with exit 2) ---


def pin_install(
    request: InstallRequest, manifest_file: Path | None, env: Mapping[str, str]
) -> tuple[InstallRequest, Pin | None]:
    """Pin ``request`` to ``manifest_file``, or to the shipped manifest for its version when
    one applies (see :func:`shipped_pin`); unchanged and ``None`` otherwise."""
    if manifest_file is not None:
        from codex_install.manifest import load_manifest

        pin = Pin(load_manifest(manifest_file), str(manifest_file), shipped=False)
    else:
        found = shipped_pin(request, env)
        if found is None:
            return request, None
        pin = found
    return apply_pin(request, pin), pin


def apply_pin(request: InstallRequest, pin: Pin) -> InstallRequest:
    """The request with the manifest's version and pins; UsageError (exit 2) when the request
    and the manifest cannot go together."""
    manifest = pin.manifest
    wanted = request.version.version
    if wanted is not None and wanted != manifest.version:
        raise UsageError(
            f"--version {wanted} does not match the manifest {pin.origin}, "
            f"which pins Codex {manifest.version}"
        )
    version = VersionSpec(manifest.version)
    if request.archive is not None:
        asset = archive_entry(manifest, request.archive.name, request.target, pin.origin)
        if request.sha256 is not None and request.sha256 != asset.sha256:
            raise UsageError(
                f"--sha256 {request.sha256[:12]}… disagrees with the manifest {pin.origin}, "
                f"which pins {asset.name} to {asset.sha256[:12]}…"
            )
        return replace(request, version=version, sha256=asset.sha256)
    pinned_candidates(manifest, request.target, request.sources, origin=pin.origin)
    return replace(request, version=version, manifest=manifest, manifest_optional=pin.shipped)


def archive_entry(manifest: Manifest, name: str, target: str, origin: str) -> ManifestAsset:
    """The manifest entry for a local ``--archive`` file, matched by file name."""
    asset = manifest.asset_named(name, target) or manifest.asset_named(name)
    if asset is None:
        pinned = ", ".join(a.name for a in manifest.assets_for(target)) or "nothing"
        raise UsageError(
            f"the manifest {origin} pins no archive named {name} (for {target} it pins: {pinned})"
        )
    if asset.target != target:
        raise UsageError(
            f"{name} is the {asset.target} archive in the manifest {origin}",
            hint=f"pass --target {asset.target}",
        )
    return asset


def shipped_pin(request: InstallRequest, env: Mapping[str, str]) -> Pin | None:
    """The shipped manifest for the requested version, when it applies.

    It applies to a pinned version (not latest) with no other pin (--sha256, --archive) and no
    mirror, when the manifest covers the target for the source in use. With the auto or github
    source it only applies to the official ``openai/codex`` on api.github.com: a shipped manifest
    says nothing about another repository or GitHub host (--repo, --github-api-url).
    """
    sources = request.sources
    if (
        request.version.version is None
        or request.archive is not None
        or request.sha256 is not None
        or sources.mirror
        or sources.source == "mirror"
    ):
        return None
    official = (
        sources.github.api_url.rstrip("/") == DEFAULT_API_URL
        and sources.github.repo == DEFAULT_REPO
    )
    if sources.source in ("auto", "github") and not official:
        return None
    from codex_install.manifest import SHIPPED_PACKAGE_DIR, manifest_filename, shipped_manifest

    manifest = shipped_manifest(request.version.version, shipped_dirs(env))
    if manifest is None:
        return None
    candidates = _candidates(manifest, request.target, sources.source)
    if sources.source == "auto":
        # Without a url an entry needs an npm registry; a shipped pin must not demand one.
        candidates = tuple(a for a in candidates if a.url is not None)
    if not candidates:
        return None
    directory = env.get(MANIFEST_DIR_ENV) or SHIPPED_PACKAGE_DIR
    return Pin(manifest, f"{directory}/{manifest_filename(manifest.version)}", shipped=True)


def shipped_dirs(env: Mapping[str, str]) -> Sequence[Path] | None:
    """``CODEX_INSTALL_MANIFEST_DIR`` as directories, or None for the shipped ones."""
    value = env.get(MANIFEST_DIR_ENV)
    if not value:
        return None
    return [Path(part) for part in value.split(os.pathsep) if part]


# --- which manifest entries a source can serve ---


def _effective_source(sources: SourceOptions) -> str:
    if sources.source == "auto" and sources.mirror:
        return "mirror"
    return sources.source


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


def pinned_candidates(
    manifest: Manifest, target: str, sources: SourceOptions, *, origin: str
) -> tuple[ManifestAsset, ...]:
    """As :func:`_candidates`, or a UsageError naming what the manifest does pin."""
    manifest.asset_for(target)  # "has no archive for T (it covers: ...)"
    source = _effective_source(sources)
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


# --- resolving a pinned install (inside the lock; called by install.install) ---


def resolve_pinned(
    manifest: Manifest,
    sources: SourceOptions,
    target: str,
    *,
    client: httpx.Client,
    sleep: Callable[[float], None] = time.sleep,
    npm_resolver: NpmResolver | None = None,
) -> Resolved:
    """The download plan for a pinned install, every remote claim checked against the pin."""
    source = _effective_source(sources)
    candidates = pinned_candidates(manifest, target, sources, origin=f"for {manifest.version}")
    if source == "auto":
        with_url = [a for a in candidates if a.url is not None]
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
    release = fetch_release(sources, VersionSpec(manifest.version), client=client, sleep=sleep)
    return _through_release(manifest, candidates, release, client, sleep)


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
    client: httpx.Client,
    sleep: Callable[[float], None],
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
    from codex_install.manifest import asset_drift

    problems = asset_drift(
        pinned, size=remote.size, sha256=remote.sha256, observed=f"{release.source} release"
    )
    sums = with_sums(selection, client, sleep).sums if sums_asset is not None else None
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
    spec = remote.extra.get("npm_spec")
    npm_entries = [a for a in candidates if a.is_npm]
    pinned = next(
        (a for a in npm_entries if a.npm_spec == spec or a.name == remote.archive.name), None
    )
    if pinned is None:
        pins = ", ".join(a.npm_spec or a.name for a in npm_entries) or "no npm tarball"
        raise NotFoundError(
            f"the npm registry's {spec or remote.archive.name} is not what the manifest pins "
            f"for {target} ({pins})"
        )
    from codex_install.manifest import asset_drift

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


__all__ = [
    "MANIFEST_DIR_ENV",
    "Pin",
    "apply_pin",
    "pin_install",
    "resolve_pinned",
    "shipped_pin",
]
