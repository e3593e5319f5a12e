"""Packument → selection (pure): versions, dist-tags, tarball URLs, integrity."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from builders import TARGET
from codex_install.errors import NetworkError, NotFoundError, VerificationError
from codex_install.sources.npm import (
    Registry,
    select_from_packument,
)
from codex_install.versions import VersionSpec
from sources.npm_helpers import (
    sri512,
)

# --- packument → selection (pure) ----------------------------------------------------------

REG = Registry(url="https://registry.example/", origin="test")


def packument(**versions: dict[str, Any]) -> dict[str, Any]:
    return {"name": "@openai/codex", "dist-tags": {"latest": "0.169.0"}, "versions": versions}


def dist(data: bytes = b"tgz", **extra: Any) -> dict[str, Any]:
    return {
        "dist": {
            "tarball": "https://registry.example/@openai/codex/-/codex-0.169.0-linux-x64.tgz",
            "integrity": sri512(data),
            "shasum": hashlib.sha1(data).hexdigest(),
            **extra,
        }
    }


def test_latest_comes_from_dist_tags_and_picks_the_platform_version():
    data = packument(
        **{"0.169.0": dist(), "0.169.0-linux-x64": dist(), "0.170.0-alpha.1-linux-x64": dist()}
    )
    choice = select_from_packument(data, VersionSpec(None), TARGET, REG)
    sel = choice.selection
    assert (sel.version, sel.target, sel.layout, sel.source) == (
        "0.169.0",
        TARGET,
        "package",
        "npm",
    )
    assert sel.archive.name == "codex-0.169.0-linux-x64.tgz"
    assert sel.archive.size is None
    assert sel.integrity == sri512(b"tgz")
    assert sel.npm_subdir == f"package/vendor/{TARGET}/"
    assert sel.extra["npm_spec"] == "@openai/codex@0.169.0-linux-x64"
    assert choice.notices == ()


def test_pinned_prerelease_version_is_looked_up_with_the_platform_suffix():
    data = packument(**{"0.170.0-alpha.1-darwin-arm64": dist()})
    sel = select_from_packument(
        data, VersionSpec("0.170.0-alpha.1"), "aarch64-apple-darwin", REG
    ).selection
    assert sel.version == "0.170.0-alpha.1"
    assert sel.npm_subdir == "package/vendor/aarch64-apple-darwin/"


def test_unpacked_size_is_not_taken_for_the_download_size():
    data = packument(**{"0.169.0-linux-x64": dist(unpackedSize=400_000_000, fileCount=40)})
    assert (
        select_from_packument(data, VersionSpec(None), TARGET, REG).selection.archive.size is None
    )


def test_missing_platform_version_names_the_version_it_looked_for():
    data = packument(**{"0.169.0": dist(), "0.169.0-darwin-arm64": dist()})
    with pytest.raises(NotFoundError, match=r"@openai/codex@0\.169\.0-linux-x64 not found"):
        select_from_packument(data, VersionSpec(None), TARGET, REG)
    with pytest.raises(NotFoundError, match=r"codex 9\.9\.9 is not published there at all"):
        select_from_packument(data, VersionSpec("9.9.9"), TARGET, REG)


def test_glibc_target_has_no_npm_build():
    with pytest.raises(NotFoundError, match="holds x86_64-unknown-linux-musl"):
        select_from_packument(packument(), VersionSpec(None), "x86_64-unknown-linux-gnu", REG)


def test_integrity_with_several_hashes_uses_sha512():
    sri = "sha1-" + base64.b64encode(hashlib.sha1(b"tgz").digest()).decode() + " " + sri512(b"tgz")
    data = packument(**{"0.169.0-linux-x64": dist(integrity=sri)})
    choice = select_from_packument(data, VersionSpec(None), TARGET, REG)
    assert choice.selection.integrity == sri512(b"tgz") and choice.notices == ()


def test_shasum_is_the_fallback_only_without_integrity_and_says_so():
    entry = dist()
    del entry["dist"]["integrity"]
    choice = select_from_packument(
        packument(**{"0.169.0-linux-x64": entry}), VersionSpec(None), TARGET, REG
    )
    expected = "sha1-" + base64.b64encode(hashlib.sha1(b"tgz").digest()).decode()
    assert choice.selection.integrity == expected
    assert len(choice.notices) == 1 and "sha1" in choice.notices[0]


def test_no_digest_at_all_is_refused():
    entry = {"dist": {"tarball": "https://registry.example/x.tgz"}}
    with pytest.raises(VerificationError, match="unverified"):
        select_from_packument(
            packument(**{"0.169.0-linux-x64": entry}), VersionSpec(None), TARGET, REG
        )


def test_relative_tarball_url_resolves_against_the_registry():
    entry = dist(tarball="@openai/codex/-/codex-0.169.0-linux-x64.tgz")
    sel = select_from_packument(
        packument(**{"0.169.0-linux-x64": entry}), VersionSpec(None), TARGET, REG
    ).selection
    assert sel.archive.url == "https://registry.example/@openai/codex/-/codex-0.169.0-linux-x64.tgz"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "not a JSON object"),
        ({"dist-tags": {"latest": "0.169.0"}}, "no versions object"),
        ({"versions": {}}, "no dist-tags.latest"),
        ({"dist-tags": {"latest": "next"}, "versions": {}}, "dist-tags.latest is 'next'"),
        (packument(**{"0.169.0-linux-x64": {"dist": "x"}}), "has no dist object"),
        (packument(**{"0.169.0-linux-x64": {"dist": {"integrity": "x"}}}), "no dist.tarball"),
        (packument(**{"0.169.0-linux-x64": dist(tarball="file:///etc/passwd")}), "not an http"),
        (packument(**{"0.169.0-linux-x64": dist(integrity="sha512-!!!")}), "bad integrity"),
        (packument(**{"0.169.0-linux-x64": dist(integrity="sha512-AAAA")}), "length"),
    ],
)
def test_malformed_packument_is_a_network_error(data, problem):
    with pytest.raises(NetworkError, match=problem):
        select_from_packument(data, VersionSpec(None), TARGET, REG)
