from __future__ import annotations

import base64
import hashlib

import pytest

from codex_install.assets import (
    SUMS_NAME,
    check_integrity,
    expected_sha256,
    parse_sums,
    select_asset,
)
from codex_install.errors import NetworkError, NotFoundError, VerificationError
from codex_install.models import Asset, Release
from codex_install.netpolicy import RetryPolicy, parse_retry_after
from codex_install.releases import parse_digest, parse_release

T = "x86_64-unknown-linux-musl"
H1, H2 = "1" * 64, "2" * 64


def release(*names: str, digest: str | None = H1) -> Release:
    return Release(
        version="0.169.0",
        tag="rust-v0.169.0",
        assets=tuple(Asset(n, f"https://example.invalid/{n}", 10, digest) for n in names),
    )


@pytest.mark.parametrize(
    ("names", "want", "layout"),
    [
        (
            [
                f"codex-package-{T}.tar.zst",
                f"codex-package-{T}.tar.gz",
                f"codex-{T}.tar.gz",
                SUMS_NAME,
            ],
            f"codex-package-{T}.tar.zst",
            "package",
        ),
        (
            [f"codex-package-{T}.tar.gz", f"codex-{T}.tar.gz", SUMS_NAME],
            f"codex-package-{T}.tar.gz",
            "package",
        ),
        ([f"codex-{T}.tar.gz"], f"codex-{T}.tar.gz", "legacy"),
        # package archives without a SUMS file can't be verified as §3 asks: use legacy
        ([f"codex-package-{T}.tar.zst", f"codex-{T}.tar.gz"], f"codex-{T}.tar.gz", "legacy"),
    ],
)
def test_asset_preference(names, want, layout):
    sel = select_asset(release(*names), T)
    assert (sel.archive.name, sel.layout) == (want, layout)
    assert (sel.sums is not None) == (layout == "package")


def test_no_asset_for_target_names_the_target():
    with pytest.raises(NotFoundError) as err:
        select_asset(release("codex-aarch64-apple-darwin.tar.gz"), T)
    assert T in str(err.value)


def test_sums_parsing():
    text = f"{H1}  a.tar.gz\n\n{H2} *b.tar.zst\n"
    assert parse_sums(text) == {"a.tar.gz": H1, "b.tar.zst": H2}


@pytest.mark.parametrize(
    "text", ["not a sums line", f"{H1[:-1]}  a", f"{H1}  a\n{H2}  a\n", "<html></html>"]
)
def test_bad_sums_files_fail_verification(text):
    with pytest.raises(VerificationError):
        parse_sums(text)


def test_expected_sha256_requires_agreement():
    sel = select_asset(release(f"codex-package-{T}.tar.gz", SUMS_NAME), T)
    assert expected_sha256(sel, {sel.archive.name: H1}, None)[0] == H1
    with pytest.raises(VerificationError, match="says"):
        expected_sha256(sel, {sel.archive.name: H2}, None)
    with pytest.raises(VerificationError, match="no entry"):
        expected_sha256(sel, {}, None)
    with pytest.raises(VerificationError):
        expected_sha256(sel, {sel.archive.name: H1}, H2)  # a pin that disagrees


def test_no_digest_anywhere_is_refused():
    sel = select_asset(release(f"codex-{T}.tar.gz", digest=None), T)
    with pytest.raises(VerificationError, match="unverified"):
        expected_sha256(sel, None, None)
    assert expected_sha256(sel, None, H2)[0] == H2


def test_integrity_check():
    data = b"hello"
    sri = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    check_integrity("x.tgz", sri, hashlib.sha512(data).hexdigest(), None)
    with pytest.raises(VerificationError, match="integrity mismatch"):
        check_integrity("x.tgz", sri, hashlib.sha512(b"other").hexdigest(), None)
    with pytest.raises(VerificationError):
        check_integrity("x.tgz", "md5-abc", None, None)
    with pytest.raises(VerificationError, match="malformed"):
        check_integrity("x.tgz", "sha512-!!!", "00", None)


@pytest.mark.parametrize(
    ("value", "hex_"),
    [
        (f"sha256:{H1}", H1),
        (f"SHA256:{H1.upper()}", H1),
        ("sha512:abc", None),
        (None, None),
        ("sha256:xyz", None),
        (42, None),
    ],
)
def test_digest_field(value, hex_):
    assert parse_digest(value) == hex_


def test_release_json_resolves_relative_urls():
    data = {
        "tag_name": "rust-v1.2.3",
        "assets": [{"name": "a.tar.gz", "browser_download_url": "a.tar.gz", "size": 3}],
    }
    rel = parse_release(
        data, base_url="http://m/releases/1.2.3/release.json", source="mirror", origin="test"
    )
    assert rel.assets[0].url == "http://m/releases/1.2.3/a.tar.gz"
    assert rel.version == "1.2.3"


@pytest.mark.parametrize(
    "data",
    [
        [],
        {},
        {"tag_name": "v1"},
        {"tag_name": "rust-v1.2.3"},
        {"tag_name": "rust-v1.2.3", "assets": [1]},
        {"tag_name": "rust-v1.2.3", "assets": [{"name": "../x", "browser_download_url": "x"}]},
        {
            "tag_name": "rust-v1.2.3",
            "assets": [{"name": "x", "browser_download_url": "x", "size": -1}],
        },
    ],
)
def test_malformed_release_json_is_a_network_error(data):
    with pytest.raises(NetworkError):
        parse_release(data, base_url="http://x/", source="github", origin="test")


def test_retry_policy():
    policy = RetryPolicy(base_delay=1, max_delay=8, max_retry_after=30)
    assert policy.delay(1, jitter=0) == 1
    assert policy.delay(3, jitter=0) == 4
    assert policy.delay(10, jitter=0) == 8
    assert policy.delay(1, retry_after=100) == 30
    assert 0.5 <= policy.delay(1) <= 1
    assert parse_retry_after("7") == 7
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 10) == 10
    assert parse_retry_after("soon") is None
