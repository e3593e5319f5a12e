"""How a Codex release is laid out in an OCI registry, both ways. Pure.

One image index per release, tagged with the version (and ``latest``)::

    index (artifactType release)  annotations: version, GitHub tag
    ├── manifest per target       platform {os, architecture}, artifactType archive
    │   └── layer: the archive    title = file name, sha256 = the release's digest
    ├── manifest: SUMS            artifactType sums
    └── manifest: release.toml    artifactType manifest (codex-install manifest generate)

Every manifest's config is the OCI empty descriptor, as OCI 1.1 artifacts have it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codex_install.errors import NetworkError, UsageError, VerificationError
from codex_install.versions import parse_version, version_key

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
EMPTY = "application/vnd.oci.empty.v1+json"
EMPTY_BLOB = b"{}"
RELEASE_TYPE = "application/vnd.codex-install.release.v1"
ARCHIVE_TYPE = "application/vnd.codex-install.archive.v1"
SUMS_TYPE = "application/vnd.codex-install.sums.v1"
MANIFEST_TYPE = "application/vnd.codex-install.manifest.v1"
TITLE = "org.opencontainers.image.title"
VERSION = "org.opencontainers.image.version"
SHA256 = "dev.codex-install.sha256"
TARGET = "dev.codex-install.target"
LAYOUT = "dev.codex-install.layout"
GITHUB_TAG = "dev.codex-install.tag"
# The artifact type again, as an annotation: tools built on an image-spec older than 1.1
# (skopeo 1.9's `copy --all`) rewrite an index without the descriptors' artifactType but keep
# their annotations, so a copied release still reads.
KIND = "dev.codex-install.artifact-type"
ACCEPT = f"{INDEX}, {MANIFEST}"
MANIFEST_CAP = 4 << 20  # the distribution spec's limit for a manifest

_OS = {"apple-darwin": "darwin", "unknown-linux-musl": "linux", "unknown-linux-gnu": "linux"}
_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}


@dataclass(frozen=True)
class Blob:
    """A file as the registry stores it: digest ``sha256:<hex>``, size, and what it is."""

    digest: str
    size: int
    media_type: str
    annotations: Mapping[str, str]

    @property
    def descriptor(self) -> dict[str, Any]:
        found: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest}
        found["size"] = self.size
        if self.annotations:
            found["annotations"] = dict(self.annotations)
        return found


@dataclass(frozen=True)
class Document:
    """A manifest or an index as bytes, with its digest."""

    body: bytes
    media_type: str

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.body).hexdigest()


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


EMPTY_DIGEST = digest_of(EMPTY_BLOB)


def platform(target: str) -> dict[str, str]:
    """A target triple as OCI spells its platform: ``x86_64-apple-darwin`` → darwin/amd64."""
    arch, _, rest = target.partition("-")
    return {"architecture": _ARCH.get(arch, arch), "os": _OS.get(rest, rest)}


def media_type_of(name: str) -> str:
    """The layer media type of an archive, from its file name."""
    if name.endswith(".tar.zst"):
        return f"{ARCHIVE_TYPE}.tar+zstd"
    return f"{ARCHIVE_TYPE}.tar+gzip"


def _json(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, indent=2, sort_keys=True).encode() + b"\n"


def artifact_manifest(
    artifact_type: str, layer: Blob, annotations: Mapping[str, str] | None = None
) -> Document:
    """An OCI 1.1 artifact: the empty config and one layer."""
    body: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": EMPTY, "digest": EMPTY_DIGEST, "size": len(EMPTY_BLOB)},
        "layers": [layer.descriptor],
    }
    if annotations:
        body["annotations"] = dict(annotations)
    return Document(_json(body), MANIFEST)


@dataclass(frozen=True)
class Entry:
    """One manifest of the index: its digest and size, its artifact type, and (for an archive)
    its target and layout."""

    digest: str
    size: int
    artifact_type: str
    target: str | None = None
    layout: str | None = None

    @classmethod
    def of(
        cls,
        document: Document,
        artifact_type: str,
        target: str | None = None,
        layout: str | None = None,
    ) -> Entry:
        return cls(document.digest, len(document.body), artifact_type, target, layout)


def index(version: str, tag: str, entries: Sequence[Entry]) -> Document:
    manifests = []
    for entry in entries:
        found: dict[str, Any] = {
            "mediaType": MANIFEST,
            "digest": entry.digest,
            "size": entry.size,
            "artifactType": entry.artifact_type,
        }
        notes = {KIND: entry.artifact_type}
        if entry.target is not None:
            found["platform"] = platform(entry.target)
            notes |= {TARGET: entry.target, LAYOUT: entry.layout or ""}
        found["annotations"] = notes
        manifests.append(found)
    body = {
        "schemaVersion": 2,
        "mediaType": INDEX,
        "artifactType": RELEASE_TYPE,
        "manifests": manifests,
        "annotations": {VERSION: version, GITHUB_TAG: tag},
    }
    return Document(_json(body), INDEX)


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseIndex:
    version: str
    tag: str
    entries: tuple[Entry, ...]

    def of_type(self, artifact_type: str) -> Entry | None:
        return next((e for e in self.entries if e.artifact_type == artifact_type), None)

    def for_target(self, target: str) -> Entry | None:
        return next(
            (e for e in self.entries if e.artifact_type == ARCHIVE_TYPE and e.target == target),
            None,
        )


def load(body: bytes, what: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise NetworkError(f"{what} is not JSON") from err
    if not isinstance(data, dict):
        raise NetworkError(f"{what} is not a JSON object")
    return data


def parse_index(body: bytes, what: str) -> ReleaseIndex:
    data = load(body, what)
    if data.get("mediaType") != INDEX or data.get("artifactType", RELEASE_TYPE) != RELEASE_TYPE:
        raise NetworkError(
            f"{what} is not a codex-install release (an OCI index of {RELEASE_TYPE})"
        )
    notes = data.get("annotations")
    notes = notes if isinstance(notes, dict) else {}
    version, tag = notes.get(VERSION), notes.get(GITHUB_TAG)
    raw = data.get("manifests")
    if not isinstance(version, str) or not isinstance(tag, str) or not isinstance(raw, list):
        raise NetworkError(f"{what} lacks its version, tag or manifests")
    return ReleaseIndex(version, tag, tuple(_index_entry(m, what) for m in raw))


def _index_entry(raw: object, what: str) -> Entry:
    if not isinstance(raw, dict):
        raise NetworkError(f"{what}: a manifest entry is not an object")
    digest, size = _digest(raw.get("digest"), what), raw.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= MANIFEST_CAP:
        raise NetworkError(f"{what}: a manifest entry has an invalid size")
    notes = raw.get("annotations")
    notes = notes if isinstance(notes, dict) else {}
    target, layout = notes.get(TARGET), notes.get(LAYOUT)
    kind = raw.get("artifactType", notes.get(KIND))
    return Entry(
        digest,
        size,
        kind if isinstance(kind, str) else "",
        target if isinstance(target, str) else None,
        layout if isinstance(layout, str) else None,
    )


def is_digest(value: object) -> bool:
    """Whether ``value`` is ``sha256:<64 lower-case hex digits>`` (nothing else is ever used
    in a URL or a cache file name)."""
    return (
        isinstance(value, str)
        and value.startswith("sha256:")
        and len(value) == 71
        and all(c in "0123456789abcdef" for c in value[7:])
    )


def _digest(value: object, what: str) -> str:
    if not is_digest(value):
        raise NetworkError(f"{what}: a digest is not sha256:<64 hex digits>")
    assert isinstance(value, str)
    return value


@dataclass(frozen=True)
class Layer:
    """The one file an artifact manifest carries: its name, blob digest, size, and hex sha256."""

    name: str
    digest: str
    size: int

    @property
    def sha256(self) -> str:
        return self.digest.removeprefix("sha256:")


def parse_artifact(body: bytes, artifact_type: str, what: str) -> Layer:
    """The layer of an artifact manifest; its annotated sha256 must be its digest."""
    data = load(body, what)
    if data.get("mediaType") != MANIFEST or data.get("artifactType") != artifact_type:
        raise NetworkError(f"{what} is not an {artifact_type} manifest")
    layers = data.get("layers")
    if not isinstance(layers, list) or len(layers) != 1 or not isinstance(layers[0], dict):
        raise NetworkError(f"{what} does not hold exactly one file")
    return _layer(layers[0], what)


def _layer(layer: dict[str, Any], what: str) -> Layer:
    digest, size = _digest(layer.get("digest"), what), layer.get("size")
    notes = layer.get("annotations")
    notes = notes if isinstance(notes, dict) else {}
    name, claimed = notes.get(TITLE), notes.get(SHA256)
    if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
        raise NetworkError(f"{what}: its file has no usable name")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise NetworkError(f"{what}: {name} has an invalid size")
    if claimed != digest.removeprefix("sha256:"):
        raise VerificationError(
            f"{name}: the registry's digest {digest[:19]}… is not the sha256 annotated for the "
            "release; refusing it"
        )
    return Layer(name, digest, size)


def version_tags(tags: Collection[str]) -> list[str]:
    """The tags that are Codex versions, newest first."""
    found = set()
    for tag in tags:
        try:
            version = parse_version(tag).version
        except UsageError:
            continue  # "latest", or a tag that is no Codex version
        if version == tag:
            found.add(version)
    return sorted(found, key=version_key, reverse=True)
