"""``codex-install mirror sync``: write the static mirror tree of SPEC §4 — verified archives,
the SUMS file, ``releases/<ver>/release.json`` with relative URLs, and ``channels/latest`` —
so that a web server serving the directory never shows a half-written release."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from codex_install import verify
from codex_install.errors import FilesystemError
from codex_install.fs import (
    UnreadableFileError,
    atomic_write_text,
    read_regular,
    replace_dir,
    sha256_file,
)
from codex_install.http.download import fetch_to_file
from codex_install.http.limits import RELEASE_JSON_CAP, SUMS_CAP
from codex_install.manifest import build_manifest, check_url, manifest_filename, render_manifest
from codex_install.models import Asset, Layout, ManifestAsset, Release, Selection
from codex_install.sources.oci import artifact
from codex_install.sources.oci import source as oci_source
from codex_install.sources.oci.push import File as PushFile
from codex_install.sources.oci.push import push_release
from codex_install.sources.oci.registry import Counts
from codex_install.sources.release import select_asset
from codex_install.versions import version_key

if TYPE_CHECKING:
    from codex_install.http.network import Network
    from codex_install.sources.oci.credentials import RegistryConfig


@dataclass(frozen=True)
class SyncedAsset:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class SyncResult:
    version: str
    directory: Path
    assets: tuple[SyncedAsset, ...]
    latest_updated: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "directory": str(self.directory),
            "assets": [a.__dict__ for a in self.assets],
            "channels_latest_updated": self.latest_updated,
        }


def release_document(tag: str, synced: Sequence[SyncedAsset], url_prefix: str) -> dict[str, Any]:
    """GitHub-shaped release JSON with URLs relative to the document's own location."""
    return {
        "tag_name": tag,
        "name": tag,
        "prerelease": "-" in tag.removeprefix("rust-v"),
        "assets": [
            {
                "name": a.name,
                "browser_download_url": f"{url_prefix}{a.name}",
                "size": a.size,
                "digest": f"sha256:{a.sha256}",
            }
            for a in sorted(synced, key=lambda a: a.name)
        ],
    }


def plan(release: Release, targets: Sequence[str]) -> tuple[list[Asset], Asset | None]:
    """The preferred archive of each target, and the SUMS file when a package archive needs it."""
    chosen: list[Asset] = []
    sums: Asset | None = None
    for target in targets:
        sel = select_asset(release, target)
        chosen.append(sel.archive)
        if sel.sums is not None:
            sums = sel.sums
    for asset in [*chosen, *([sums] if sums else [])]:
        # A mirror is what manifests are generated from: its urls are held to the same rule,
        # before anything is downloaded.
        check_url(asset.url, f"the {release.source} url of {asset.name}")
    return chosen, sums


def sync(
    release: Release,
    targets: Sequence[str],
    output: Path,
    *,
    client: Network,
    is_latest: bool,
    sleep: Callable[[float], None] = time.sleep,
    notice: Callable[[str], None] = lambda _m: None,
) -> SyncResult:
    archives, sums_asset = plan(release, targets)
    releases_dir = output / "releases"
    final = releases_dir / release.version
    staging = releases_dir / f".staging-{release.version}-{secrets.token_hex(4)}"
    try:
        staging.mkdir(parents=True)
    except OSError as err:
        raise FilesystemError(f"cannot create {staging}: {err.strerror}") from err
    try:
        synced = fetch_verified(
            archives, sums_asset, staging, client=client, sleep=sleep, notice=notice
        )
        synced += _carry_over(release, final, staging, {a.name for a in synced}, notice)
        doc = release_document(release.tag, synced, "")
        atomic_write_text(staging / "release.json", json.dumps(doc, indent=2) + "\n")
        replace_dir(staging, final, what="publish")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    updated = False
    if is_latest or _newer_than_channel(output, release):
        channel = output / "channels" / "latest"
        try:
            channel.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise FilesystemError(f"cannot create {channel.parent}: {err.strerror}") from err
        doc = release_document(release.tag, synced, f"../releases/{release.version}/")
        atomic_write_text(channel, json.dumps(doc, indent=2) + "\n")
        updated = True
    return SyncResult(release.version, final, tuple(synced), updated)


def fetch_verified(
    archives: Sequence[Asset],
    sums_asset: Asset | None,
    staging: Path,
    *,
    client: Network,
    sleep: Callable[[float], None] = time.sleep,
    notice: Callable[[str], None] = lambda _m: None,
    present: Callable[[str, int], bool] | None = None,
) -> list[SyncedAsset]:
    """Download the SUMS file (first) and the archives into ``staging``, each checked against
    every digest the release publishes for it. An archive for which ``present(sha256, size)``
    says the destination already holds exactly those bytes is not downloaded (nor written)."""
    synced: list[SyncedAsset] = []
    sums: dict[str, str] | None = None
    if sums_asset is not None:
        d = fetch_to_file(
            client,
            sums_asset,
            staging / sums_asset.name,
            check=partial(verify.check_stream, sums_asset.name, sha256=sums_asset.sha256),
            sleep=sleep,
        )
        sums = verify.parse_sums(_read_text(staging / sums_asset.name, SUMS_CAP, "SUMS file"))
        synced.append(SyncedAsset(sums_asset.name, d.size, d.sha256))
    for asset in archives:
        expected = _expected(asset, sums)
        if present is not None and asset.size is not None and present(expected, asset.size):
            notice(f"  {asset.name} (already there)")
            synced.append(SyncedAsset(asset.name, asset.size, expected))
            continue
        notice(f"  {asset.name}")
        check = partial(verify.check_stream, asset.name, sha256=expected)
        d = fetch_to_file(client, asset, staging / asset.name, check=check, sleep=sleep)
        synced.append(SyncedAsset(asset.name, d.size, d.sha256))
    return synced


def _carry_over(
    release: Release,
    final: Path,
    staging: Path,
    fresh: set[str],
    notice: Callable[[str], None],
) -> list[SyncedAsset]:
    """Archives an earlier sync of this release put there for other targets stay: syncing one
    target at a time must not take the others away. Each is re-hashed first and kept only when
    it still matches both the mirror's release.json and the release itself."""
    try:
        doc = json.loads(_read_text(final / "release.json", RELEASE_JSON_CAP, "release.json"))
        entries = doc.get("assets") if doc.get("tag_name") == release.tag else None
    except (FilesystemError, ValueError, AttributeError, RecursionError):
        return []  # nothing earlier worth keeping: this sync writes it anew
    published = {a.name: a for a in release.assets}
    kept: list[SyncedAsset] = []
    for entry in entries if isinstance(entries, list) else []:
        name = _entry_name(entry)
        if name is None or name in fresh or name not in published:
            continue
        synced = _still_valid(final / name, entry, published[name], notice)
        if synced is not None:
            _link_or_copy(final / name, staging / name)
            kept.append(synced)
    return kept


def _entry_name(entry: object) -> str | None:
    name = entry.get("name") if isinstance(entry, dict) else None
    return name if isinstance(name, str) else None


def _still_valid(
    path: Path, entry: dict[str, object], upstream: Asset, notice: Callable[[str], None]
) -> SyncedAsset | None:
    """The earlier copy at ``path``, re-hashed, if it matches the mirror's and the release's
    digests."""
    try:
        size, digest = sha256_file(path)
    except OSError:
        return None
    if digest != verify.parse_digest(entry.get("digest")) or upstream.sha256 not in (None, digest):
        notice(f"  dropping {path.name}: it no longer matches the release")
        return None
    return SyncedAsset(path.name, size, digest)


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _read_text(path: Path, cap: int, what: str) -> str:
    """A file of the mirror tree, read as every state file is (fs.read_regular)."""
    try:
        data = read_regular(path, cap, what=what)
    except UnreadableFileError as err:
        raise FilesystemError(err.message) from err
    if data is None:
        raise FilesystemError(f"{what} {path} is missing")
    return data.decode("utf-8", errors="replace")


def _expected(asset: Asset, sums: dict[str, str] | None) -> str:
    claims = verify.release_claims(asset, sums, sums_required=False)
    return verify.agree(
        asset.name,
        claims,
        missing=f"no digest published for {asset.name}; refusing to mirror it",
        consequence="refusing to mirror it",
    ).hex


def _newer_than_channel(output: Path, release: Release) -> bool:
    if release.prerelease:
        return False
    channel = output / "channels" / "latest"
    try:
        tag = json.loads(_read_text(channel, RELEASE_JSON_CAP, "channel")).get("tag_name", "")
    except (FilesystemError, ValueError, AttributeError, RecursionError):
        return True
    current = str(tag).removeprefix("rust-v")
    return version_key(release.version) > version_key(current)


# --- mirror sync --output oci://HOST/REPO ---------------------------------------------------


@dataclass(frozen=True)
class OciSyncResult:
    version: str
    registry: str
    digest: str
    tags: tuple[str, ...]
    targets: tuple[str, ...]
    kept: tuple[str, ...]
    counts: Counts

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "registry": self.registry,
            "digest": self.digest,
            "tags": list(self.tags),
            "targets": list(self.targets),
            "kept_targets": list(self.kept),
            "blobs_uploaded": self.counts.uploaded,
            "blobs_mounted": self.counts.mounted,
            "blobs_present": self.counts.present,
            "bytes_uploaded": self.counts.uploaded_bytes,
        }


def sync_oci(
    release: Release,
    targets: Sequence[str],
    url: str,
    *,
    client: Network,
    registry: RegistryConfig,
    is_latest: bool,
    mount_from: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    notice: Callable[[str], None] = lambda _m: None,
) -> OciSyncResult:
    """Download and verify the release's archives for ``targets`` (and SUMS), then push them,
    the SUMS file and the release's TOML manifest to the registry repository ``url``."""
    selections = [select_asset(release, t) for t in targets]
    archives, sums_asset = plan(release, targets)
    target = oci_source.connect(
        client.client(),
        url,
        registry,
        sleep=sleep,
        what="the --output registry",
        seconds=(client.plan.metadata_s, client.plan.download_s),
    )
    with tempfile.TemporaryDirectory(prefix="codex-oci-") as tmp:
        staging = Path(tmp)
        synced = {
            s.name: s
            for s in fetch_verified(
                archives,
                sums_asset,
                staging,
                client=client,
                sleep=sleep,
                notice=notice,
                # A registry is content-addressed: a blob named by the release's sha256, of
                # its size, is those bytes. A re-sync downloads no archive twice either.
                present=lambda sha256, size: target.blob_size(f"sha256:{sha256}") == size,
            )
        }
        files = [_oci_file(staging, synced[s.archive.name], s) for s in selections]
        extras = (
            [(_oci_file(staging, synced[sums_asset.name]), artifact.SUMS_TYPE)]
            if (sums_asset is not None)
            else []
        )
        extras.append((_toml_manifest(release, staging, files), artifact.MANIFEST_TYPE))
        notice(f"pushing to {target.reference.shown}")
        pushed = push_release(
            target,
            release.version,
            release.tag,
            files,
            extras,
            release_digests={a.name: a.sha256 for a in release.assets if a.sha256},
            latest=is_latest,
            mount_from=mount_from,
        )
    return OciSyncResult(
        release.version,
        target.reference.shown,
        pushed.digest,
        pushed.tags,
        tuple(targets),
        pushed.kept,
        pushed.counts,
    )


def _oci_file(staging: Path, synced: SyncedAsset, sel: Selection | None = None) -> PushFile:
    return PushFile(
        staging / synced.name,
        synced.name,
        synced.size,
        synced.sha256,
        target=sel.target if sel else None,
        layout=sel.layout if sel else None,
    )


def _toml_manifest(release: Release, staging: Path, files: Sequence[PushFile]) -> PushFile:
    """The release's manifest (``manifest generate``'s format) pinning what is pushed, each
    entry at its upstream URL: a pin that works with or without the registry."""
    pins = [
        ManifestAsset(
            target=f.target or "",
            layout=cast(Layout, f.layout),
            name=f.name,
            url=_upstream(release, f.name),
            size=f.size,
            sha256=f.sha256,
        )
        for f in files
    ]
    name = manifest_filename(release.version)
    text = render_manifest(build_manifest(release.version, pins))
    atomic_write_text(staging / name, text)
    data = text.encode()
    return PushFile(staging / name, name, len(data), hashlib.sha256(data).hexdigest())


def _upstream(release: Release, name: str) -> str | None:
    asset = release.asset(name)
    return asset.url if asset is not None else None
