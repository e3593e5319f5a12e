"""The release layout in a registry, written and read back. Pure."""

from __future__ import annotations

import json

import pytest

from codex_install.errors import NetworkError, VerificationError
from codex_install.sources.oci import artifact

SHA = "ab" * 32


def layer(name: str = "codex-package-x86_64-unknown-linux-musl.tar.zst", sha: str = SHA):
    return artifact.Blob(
        f"sha256:{sha}",
        10,
        artifact.media_type_of(name),
        {artifact.TITLE: name, artifact.SHA256: sha},
    )


@pytest.mark.parametrize(
    ("target", "os", "arch"),
    [
        ("x86_64-unknown-linux-musl", "linux", "amd64"),
        ("aarch64-unknown-linux-musl", "linux", "arm64"),
        ("x86_64-unknown-linux-gnu", "linux", "amd64"),
        ("aarch64-apple-darwin", "darwin", "arm64"),
        ("x86_64-apple-darwin", "darwin", "amd64"),
    ],
)
def test_targets_are_spelled_as_oci_platforms(target, os, arch):
    assert artifact.platform(target) == {"os": os, "architecture": arch}


def test_an_index_reads_back_what_was_written():
    doc = artifact.artifact_manifest(artifact.ARCHIVE_TYPE, layer())
    sums = artifact.artifact_manifest(artifact.SUMS_TYPE, layer("codex-package_SHA256SUMS"))
    entries = [
        artifact.Entry.of(doc, artifact.ARCHIVE_TYPE, "x86_64-unknown-linux-musl", "package"),
        artifact.Entry.of(sums, artifact.SUMS_TYPE),
    ]
    index = artifact.index("0.169.0", "rust-v0.169.0", entries)
    read = artifact.parse_index(index.body, "test")
    assert (read.version, read.tag) == ("0.169.0", "rust-v0.169.0")
    assert read.for_target("x86_64-unknown-linux-musl") == entries[0]
    assert read.of_type(artifact.SUMS_TYPE) == entries[1]
    assert read.for_target("aarch64-apple-darwin") is None
    got = artifact.parse_artifact(doc.body, artifact.ARCHIVE_TYPE, "test")
    assert (got.name, got.sha256, got.size) == (
        "codex-package-x86_64-unknown-linux-musl.tar.zst",
        SHA,
        10,
    )
    data = json.loads(doc.body)
    assert data["config"]["digest"] == artifact.EMPTY_DIGEST
    assert data["artifactType"] == artifact.ARCHIVE_TYPE


def test_an_index_rewritten_without_artifact_types_still_reads():
    doc = artifact.artifact_manifest(artifact.ARCHIVE_TYPE, layer())
    index = json.loads(
        artifact.index(
            "0.169.0",
            "rust-v0.169.0",
            [artifact.Entry.of(doc, artifact.ARCHIVE_TYPE, "t", "package")],
        ).body
    )
    del index["artifactType"]
    del index["manifests"][0]["artifactType"]
    read = artifact.parse_index(json.dumps(index).encode(), "copied")
    assert read.for_target("t") is not None


def test_a_layer_whose_digest_is_not_the_annotated_sha256_is_refused():
    bad = artifact.Blob(
        f"sha256:{'cd' * 32}", 10, "x", {artifact.TITLE: "codex.tar.zst", artifact.SHA256: SHA}
    )
    doc = artifact.artifact_manifest(artifact.ARCHIVE_TYPE, bad)
    with pytest.raises(VerificationError, match="not the sha256 annotated"):
        artifact.parse_artifact(doc.body, artifact.ARCHIVE_TYPE, "test")


def _manifest(**changes):
    data = json.loads(artifact.artifact_manifest(artifact.ARCHIVE_TYPE, layer()).body)
    for key, value in changes.items():
        if key.startswith("layer_"):
            data["layers"][0][key.removeprefix("layer_")] = value
        else:
            data[key] = value
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b"{" * 100_000,
        _manifest(artifactType="application/vnd.other"),
        _manifest(mediaType="application/vnd.docker.distribution.manifest.v2+json"),
        _manifest(layers=[]),
        _manifest(layer_digest="md5:abc"),
        _manifest(layer_digest="sha256:" + "AB" * 32),
        _manifest(layer_size=-1),
        _manifest(layer_size=True),
        _manifest(layer_annotations={artifact.TITLE: "../../etc/passwd", artifact.SHA256: SHA}),
        _manifest(layer_annotations={artifact.TITLE: "..", artifact.SHA256: SHA}),
        _manifest(layer_annotations={artifact.SHA256: SHA}),
    ],
)
def test_a_hostile_manifest_is_one_clear_error(body):
    with pytest.raises((NetworkError, VerificationError)):
        artifact.parse_artifact(body, artifact.ARCHIVE_TYPE, "test")


@pytest.mark.parametrize(
    "body",
    [
        b'{"mediaType": "application/vnd.oci.image.index.v1+json"}',
        b'{"mediaType": "application/vnd.oci.image.index.v1+json", "artifactType": "x", '
        b'"manifests": [], "annotations": {}}',
        json.dumps(
            {
                "mediaType": artifact.INDEX,
                "manifests": [{"digest": "sha256:" + SHA, "size": 10**9}],
                "annotations": {artifact.VERSION: "0.1.0", artifact.GITHUB_TAG: "rust-v0.1.0"},
            }
        ).encode(),
        json.dumps(
            {
                "mediaType": artifact.INDEX,
                "manifests": ["x"],
                "annotations": {artifact.VERSION: "0.1.0", artifact.GITHUB_TAG: "rust-v0.1.0"},
            }
        ).encode(),
    ],
)
def test_a_hostile_index_is_one_clear_error(body):
    with pytest.raises(NetworkError):
        artifact.parse_index(body, "test")


def test_only_version_tags_are_listed_newest_first():
    tags = ["latest", "0.9.0", "0.10.0", "0.10.0-alpha.1", "v1", "0.10.0+x", "rust-v0.11.0"]
    assert artifact.version_tags(tags) == ["0.10.0", "0.10.0-alpha.1", "0.9.0"]
