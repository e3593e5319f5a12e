"""Push a release, already downloaded and verified into files, as the OCI layout of
:mod:`.artifact`: every blob ``HEAD``-ed first (a re-push uploads nothing), mounted from another
repository of the same registry where it may be there, and the index tagged last, so that a
reader never sees a tag whose manifests or blobs are missing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codex_install.errors import NotFoundError, VerificationError
from codex_install.sources.oci import artifact
from codex_install.sources.oci.registry import Counts, Registry
from codex_install.versions import is_prerelease, version_key

SUMS_MEDIA_TYPE = "text/plain; charset=utf-8"
TOML_MEDIA_TYPE = "application/toml"


@dataclass(frozen=True)
class File:
    """A verified file to push: where it is, its name, size and sha256 (hex)."""

    path: Path
    name: str
    size: int
    sha256: str
    target: str | None = None
    layout: str | None = None


@dataclass(frozen=True)
class Pushed:
    digest: str  # the index's
    tags: tuple[str, ...]
    counts: Counts
    kept: tuple[str, ...]  # targets an earlier push left in the index and this one kept


def push_release(
    registry: Registry,
    version: str,
    tag: str,
    archives: Sequence[File],
    extras: Sequence[tuple[File, str]],
    *,
    release_digests: dict[str, str],
    latest: bool,
    mount_from: str | None = None,
) -> Pushed:
    """Push the archives (one manifest each) and ``extras`` (file, artifact type), then the
    index tagged ``version`` and, when ``latest`` or newer than every tag there, ``latest``."""
    registry.push_blob(artifact.EMPTY_BLOB, artifact.EMPTY_DIGEST, 2, mount_from)
    entries = [_archive(registry, version, file, mount_from) for file in archives]
    kept = _kept(registry, version, {f.target for f in archives}, release_digests)
    entries += kept
    entries += [_extra(registry, file, kind, mount_from) for file, kind in extras]
    digest, tags = _tag(registry, version, tag, entries, latest=latest)
    return Pushed(digest, tags, registry.counts, tuple(e.target or "" for e in kept))


def _tag(
    registry: Registry, version: str, tag: str, entries: list[artifact.Entry], *, latest: bool
) -> tuple[str, tuple[str, ...]]:
    """The index of ``entries``, tagged (last, once everything it names is there); its digest
    and its tags."""
    index = artifact.index(
        version, tag, sorted(entries, key=lambda e: (e.artifact_type, e.target or ""))
    )
    tags = (version, *(("latest",) if latest or _newest(registry, version) else ()))
    for name in tags:
        if registry.tag_digest(name) != index.digest:
            registry.put_manifest(name, index)
    return index.digest, tags


def _extra(registry: Registry, file: File, kind: str, mount_from: str | None) -> artifact.Entry:
    """The SUMS file or the TOML manifest and its manifest, pushed; its entry in the index."""
    media = TOML_MEDIA_TYPE if kind == artifact.MANIFEST_TYPE else SUMS_MEDIA_TYPE
    document = artifact.artifact_manifest(kind, _blob(registry, file, media, mount_from))
    _put(registry, document)
    return artifact.Entry.of(document, kind)


def _archive(
    registry: Registry, version: str, file: File, mount_from: str | None
) -> artifact.Entry:
    """One target's archive and its manifest, pushed; its entry in the index."""
    layer = _blob(registry, file, artifact.media_type_of(file.name), mount_from)
    notes = {artifact.TARGET: file.target or "", artifact.VERSION: version}
    document = artifact.artifact_manifest(artifact.ARCHIVE_TYPE, layer, notes)
    _put(registry, document)
    return artifact.Entry.of(document, artifact.ARCHIVE_TYPE, file.target, file.layout)


def _blob(registry: Registry, file: File, media_type: str, mount_from: str | None) -> artifact.Blob:
    digest = f"sha256:{file.sha256}"
    registry.push_blob(file.path, digest, file.size, mount_from)
    notes = {artifact.TITLE: file.name, artifact.SHA256: file.sha256}
    return artifact.Blob(digest, file.size, media_type, notes)


def _put(registry: Registry, document: artifact.Document) -> None:
    if not registry.has_manifest(document.digest):
        registry.put_manifest(document.digest, document)


def _kept(
    registry: Registry, version: str, pushed: set[str | None], release_digests: dict[str, str]
) -> list[artifact.Entry]:
    """The other targets an earlier push of this version put in its index: syncing one target
    at a time must not take the others away. Each is kept only when its manifest is still
    there and its archive is still the release's (by name and sha256)."""
    digest = registry.tag_digest(version)
    if digest is None:
        return []
    where = f"{registry.reference.shown}:{version}"
    try:
        old = artifact.parse_index(registry.manifest(digest, f"release {version}"), where)
    except (NotFoundError, VerificationError):
        return []
    kept = []
    for entry in old.entries:
        if entry.artifact_type != artifact.ARCHIVE_TYPE or entry.target in pushed:
            continue
        try:
            body = registry.manifest(entry.digest, f"the {entry.target} manifest of {where}")
            layer = artifact.parse_artifact(body, artifact.ARCHIVE_TYPE, where)
        except (NotFoundError, VerificationError):
            continue
        if release_digests.get(layer.name) == layer.sha256:
            kept.append(entry)
    return kept


def _newest(registry: Registry, version: str) -> bool:
    """Whether ``version`` is a release newer than every release tagged in the repository."""
    if is_prerelease(version):
        return False
    others = [v for v in artifact.version_tags(registry.tags()) if not is_prerelease(v)]
    return all(version_key(version) >= version_key(v) for v in others)
