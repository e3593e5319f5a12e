"""Digest claims and their checks: SUMS files, the agreement check, SRI, downloaded bytes."""

from __future__ import annotations

import base64
import hashlib

import pytest

from codex_install.errors import VerificationError
from codex_install.http.download import Digests
from codex_install.models import Asset, Release
from codex_install.sources.release import select_asset
from codex_install.verify import (
    SUMS_NAME,
    check_integrity,
    expected_sha256,
    parse_digest,
    parse_sums,
)

T = "x86_64-unknown-linux-musl"
H1, H2 = "1" * 64, "2" * 64


def release(*names: str, digest: str | None = H1) -> Release:
    return Release(
        version="0.169.0",
        tag="rust-v0.169.0",
        assets=tuple(Asset(n, f"https://example.invalid/{n}", 10, digest) for n in names),
    )


def hashed(data: bytes) -> Digests:
    return Digests(
        len(data), hashlib.sha256(data).hexdigest(), sha512=hashlib.sha512(data).hexdigest()
    )


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
    check_integrity("x.tgz", sri, hashed(data))
    with pytest.raises(VerificationError, match="integrity mismatch"):
        check_integrity("x.tgz", sri, hashed(b"other"))
    with pytest.raises(VerificationError):
        check_integrity("x.tgz", "md5-abc", hashed(b""))
    with pytest.raises(VerificationError, match="malformed"):
        check_integrity("x.tgz", "sha512-!!!", hashed(b""))


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
