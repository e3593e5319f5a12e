"""Hostile documents from an OCI registry: release indexes, artifact manifests, token answers,
WWW-Authenticate challenges and docker config files. Accepted, or refused with our own error
and a message."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from codex_install.sources.oci import artifact
from codex_install.sources.oci.auth import _token_in, parse_challenge
from codex_install.sources.oci.credentials import AuthFiles, lookup

from .fuzzing import FAST, SLOWER, accepts_or_refuses, deep_json, hostile_text, json_values
from .test_fuzz_sources import hostile_bytes

SHA = "ab" * 32
digests = (
    st.sampled_from([f"sha256:{SHA}", "sha256:" + "AB" * 32, "md5:1", "", "../x"]) | hostile_text
)
descriptor = st.fixed_dictionaries(
    {},
    optional={
        "mediaType": st.sampled_from([artifact.MANIFEST, artifact.INDEX]) | hostile_text,
        "digest": digests,
        "size": st.integers(-5, 2**40) | json_values,
        "artifactType": st.sampled_from([artifact.ARCHIVE_TYPE, artifact.SUMS_TYPE]) | json_values,
        "annotations": st.dictionaries(
            st.sampled_from([artifact.TARGET, artifact.TITLE, artifact.SHA256, artifact.KIND])
            | hostile_text,
            st.sampled_from([SHA, "codex.tar.zst", "..", "a/b"]) | json_values,
            max_size=4,
        )
        | json_values,
        "platform": json_values,
    },
)
indexes = st.fixed_dictionaries(
    {},
    optional={
        "mediaType": st.sampled_from([artifact.INDEX]) | hostile_text,
        "artifactType": st.sampled_from([artifact.RELEASE_TYPE]) | json_values,
        "manifests": st.lists(descriptor, max_size=4) | json_values,
        "annotations": st.dictionaries(
            st.sampled_from([artifact.VERSION, artifact.GITHUB_TAG]) | hostile_text,
            st.sampled_from(["0.169.0", "rust-v0.169.0"]) | json_values,
            max_size=3,
        )
        | json_values,
    },
)
manifests = st.fixed_dictionaries(
    {},
    optional={
        "mediaType": st.sampled_from([artifact.MANIFEST]) | hostile_text,
        "artifactType": st.sampled_from([artifact.ARCHIVE_TYPE]) | json_values,
        "layers": st.lists(descriptor, max_size=2) | json_values,
    },
)


@SLOWER
@given(hostile_bytes(indexes))
def test_a_release_index_is_read_or_refused(body: bytes) -> None:
    found = accepts_or_refuses(artifact.parse_index, body, "fuzz")
    if found is not None:
        assert all(e.digest.startswith("sha256:") and len(e.digest) == 71 for e in found.entries)


@SLOWER
@given(hostile_bytes(manifests))
def test_an_artifact_manifest_is_read_or_refused(body: bytes) -> None:
    layer = accepts_or_refuses(artifact.parse_artifact, body, artifact.ARCHIVE_TYPE, "fuzz")
    if layer is not None:
        assert "/" not in layer.name and layer.name not in (".", "..")
        assert layer.sha256 == SHA  # only the annotated sha256 that is the digest is accepted


@SLOWER
@given(
    hostile_bytes(
        st.dictionaries(st.sampled_from(["token", "access_token"]) | hostile_text, json_values)
    )
)
def test_a_token_answer_is_read_or_refused(body: bytes) -> None:
    token = accepts_or_refuses(_token_in, body, "registry.example")
    if token is not None:
        assert token.isascii() and "\n" not in token


@FAST
@given(st.text(max_size=200) | deep_json)
def test_any_challenge_parses_without_raising(header: str) -> None:
    challenge = parse_challenge(header)
    assert challenge is None or isinstance(challenge.params, dict)


@SLOWER
@given(
    hostile_bytes(
        st.fixed_dictionaries(
            {},
            optional={"auths": json_values, "credHelpers": json_values, "credsStore": json_values},
        )
    )
)
def test_a_docker_config_is_read_or_refused(body: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.json"
        path.write_bytes(body)
        never = lambda *_a: (127, b"")  # noqa: E731 - no helper is ever run here
        accepts_or_refuses(lookup, "registry.example", AuthFiles((path,), tmp), never)
