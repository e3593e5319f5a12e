"""Digest claims and their checks: SUMS files, the agreement check, SRI, downloaded bytes."""

from __future__ import annotations

import base64
import hashlib

import pytest
from click.testing import CliRunner

from builders import TARGET, FakeRelease
from codex_install.cli import cli
from codex_install.errors import VerificationError
from codex_install.http.download import Digests
from codex_install.models import Asset, Selection
from codex_install.verify import (
    SUMS_NAME,
    Claim,
    Sri,
    SriError,
    agree,
    check_integrity,
    check_stream,
    disagreements,
    expected_sha256,
    hashes_for,
    is_sri,
    parse_digest,
    parse_sums,
    sri,
    sri_algorithm,
)

T = "x86_64-unknown-linux-musl"
H1, H2 = "1" * 64, "2" * 64


def selection(name: str, *, digest: str | None = H1, sums: bool = False) -> Selection:
    """What the release picked for T: the archive (with its release digest) and its SUMS."""
    sums_asset = Asset(SUMS_NAME, f"https://example.invalid/{SUMS_NAME}") if sums else None
    archive = Asset(name, f"https://example.invalid/{name}", 10, digest)
    return Selection("0.169.0", T, "package" if sums else "legacy", archive, sums=sums_asset)


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
    sel = selection(f"codex-package-{T}.tar.gz", sums=True)
    assert expected_sha256(sel, {sel.archive.name: H1}, None)[0] == H1
    with pytest.raises(VerificationError, match="says"):
        expected_sha256(sel, {sel.archive.name: H2}, None)
    with pytest.raises(VerificationError, match="no entry"):
        expected_sha256(sel, {}, None)
    with pytest.raises(VerificationError):
        expected_sha256(sel, {sel.archive.name: H1}, H2)  # a pin that disagrees


def test_no_digest_anywhere_is_refused():
    sel = selection(f"codex-{T}.tar.gz", digest=None)
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


SHA512_OF_HELLO = hashlib.sha512(b"hello").digest()


@pytest.mark.parametrize(
    ("text", "algorithm", "hex_"),
    [
        ("sha512-" + base64.b64encode(SHA512_OF_HELLO).decode(), "sha512", SHA512_OF_HELLO.hex()),
        ("SHA512-" + base64.b64encode(SHA512_OF_HELLO).decode(), "sha512", SHA512_OF_HELLO.hex()),
        (
            "sha512-" + base64.b64encode(SHA512_OF_HELLO).decode() + "?opt",
            "sha512",
            SHA512_OF_HELLO.hex(),
        ),
        ("sha1-" + base64.b64encode(bytes(20)).decode(), "sha1", "00" * 20),
        (sri("sha256", H1), "sha256", H1),
    ],
)
def test_sri_parses_each_algorithm_once(text, algorithm, hex_):
    parsed = Sri.parse(text)
    assert (parsed.algorithm, parsed.hex, parsed.hashlib_name) == (algorithm, hex_, algorithm)
    assert Sri.parse(str(parsed)) == parsed
    assert sri_algorithm(text) == algorithm


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("md5-abc", "unsupported"),
        ("sha512-!!!", "base64"),
        ("sha512-" + base64.b64encode(bytes(20)).decode(), "length"),
        ("", "unsupported"),
    ],
)
def test_sri_says_why_it_cannot_be_used(text, problem):
    with pytest.raises(SriError) as err:
        Sri.parse(text)
    assert err.value.problem == problem
    assert not is_sri(text)


@pytest.mark.parametrize(
    ("integrity", "hashes"),
    [
        (None, ()),
        ("sha1-" + base64.b64encode(bytes(20)).decode(), ("sha1",)),
        (sri("sha512", "00" * 64), ("sha512",)),
        (sri("sha256", H1), ()),
        ("md5-x", ()),
    ],
)
def test_the_download_computes_the_hash_the_integrity_needs(integrity, hashes):
    assert hashes_for(integrity) == hashes


def test_claims_of_one_hash_function_must_agree_and_others_cannot_clash():
    a, b = Claim.sha256("release digest", H1), Claim.sha256(SUMS_NAME, H2)
    other = Claim.sri("npm registry", sri("sha512", "00" * 64))
    assert disagreements("x", [a, other]) == []
    (problem,) = disagreements("x", [a, b, other])
    assert problem == f"x: {SUMS_NAME} says {H2[:12]}…, release digest says {H1[:12]}…"
    with pytest.raises(VerificationError, match="nothing vouches"):
        agree("x", [], missing="nothing vouches for x")
    with pytest.raises(VerificationError, match=r"; refusing to mirror it$") as err:
        agree("x", [a, b], missing="-", consequence="refusing to mirror it")
    assert err.value.exit_code == 5
    assert agree("x", [a, other], missing="-") == a


def test_a_pin_is_the_reference_the_others_are_held_to():
    pin = Claim.sha256("manifest", H1, pin=True)
    (problem,) = disagreements("a.tar.gz", [pin, Claim.sha256("github release", H2.upper())])
    assert problem == f"a.tar.gz: github release sha256 {H2} differs from the manifest's {H1}"


def test_check_stream_checks_every_claim_on_the_downloaded_bytes():
    digests = hashed(b"hello")
    integrity = "sha512-" + base64.b64encode(SHA512_OF_HELLO).decode()
    check_stream("x", digests, sha256=hashlib.sha256(b"hello").hexdigest(), integrity=integrity)
    with pytest.raises(VerificationError, match="sha256 mismatch"):
        check_stream("x", digests, sha256=H1, integrity=integrity)
    with pytest.raises(VerificationError, match="sha512 integrity mismatch"):
        check_stream("x", hashed(b"other"), integrity=integrity)


def test_mirror_sync_of_an_archive_nothing_vouches_for_exits_5(env, server, tmp_path):
    # Digest problems are verification failures (exit 5) everywhere, mirror sync included.
    rel = FakeRelease("0.169.0")
    name = f"codex-{TARGET}.tar.gz"
    rel.files[name] = b"not checked: refused before any download"
    rel.digests[name] = None
    rel.publish_github(server)
    result = CliRunner().invoke(
        cli,
        ["mirror", "sync", "--target", TARGET, "--output", str(tmp_path / "m")],
        obj={"env": env},
        catch_exceptions=False,
    )
    assert result.exit_code == 5, result.output
    assert f"no digest published for {name}; refusing to mirror it" in result.stderr
    assert server.count("/releases/download/") == 0
