"""The downloader against a real loopback server: retries, resume, Retry-After, sizes."""

from __future__ import annotations

import hashlib
import os
import socket

import httpx
import pytest

from codex_install.errors import NetworkError, NotFoundError, VerificationError
from codex_install.http.download import _coalesced, download
from codex_install.http.metadata import Doc
from codex_install.http.network import Network
from codex_install.http.plan import NetworkPlan
from codex_install.http.retry import RetryPolicy

DATA = os.urandom(300_000)


def fetch(server, path="/f", plan=None, **kw):
    parts: list[bytes] = []
    sleeps: list[float] = []
    with Network(plan or NetworkPlan(), sleep=sleeps.append) as net:
        digests = download(net, server.url + path, parts.append, **kw)
    return b"".join(parts), digests, sleeps


def test_stream_is_hashed_in_one_pass(server):
    server.add("/f", DATA)
    body, digests, _ = fetch(server, expected_size=len(DATA), extra_hashes=("sha512",))
    assert body == DATA
    assert digests.sha256 == hashlib.sha256(DATA).hexdigest()
    assert digests.sha512 == hashlib.sha512(DATA).hexdigest()
    assert digests.size == len(DATA)


def test_two_drops_resume_to_the_exact_bytes(server):
    server.add("/f", DATA)
    server.fault("/f", "drop:1000", "drop:50000")
    body, _, sleeps = fetch(server, expected_size=len(DATA))
    assert body == DATA and len(sleeps) == 2
    ranges = [r.headers.get("range") for r in server.requests_to("/f")]
    assert ranges[0] is None and ranges[1] == "bytes=1000-"
    assert ranges[2] is not None and int(ranges[2][6:-1]) >= 51000 - 1000


def test_retry_after_is_honoured(server):
    server.add("/f", DATA)
    server.fault("/f", "429:7", "503")
    _, _, sleeps = fetch(server)
    assert sleeps[0] == 7
    assert len(sleeps) == 2


def test_404_is_never_retried(server):
    with pytest.raises(NotFoundError):
        fetch(server, "/missing")
    assert len(server.requests_to("/missing")) == 1


def test_retries_are_bounded(server):
    server.add("/f", DATA)
    server.fault("/f", *["500"] * 10)
    with pytest.raises(NetworkError, match="after 3 attempts"):
        fetch(server, policy=RetryPolicy(attempts=3))
    assert len(server.requests_to("/f")) == 3


def test_refused_connection_is_connection_level():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with Network(NetworkPlan(), sleep=lambda _s: None) as net, pytest.raises(NetworkError) as err:
        download(net, f"http://127.0.0.1:{port}/x", lambda _b: None)
    assert err.value.connection_level


def test_declared_size_must_match(server):
    server.add("/f", DATA)
    with pytest.raises(VerificationError, match="metadata says"):
        fetch(server, expected_size=len(DATA) + 1)


def test_html_instead_of_binary_is_named(server):
    server.add("/f", DATA)
    server.fault("/f", "html")
    with pytest.raises(VerificationError, match="HTML page"):
        fetch(server)


def test_redirects_are_followed(server):
    server.add("/cdn/f", DATA)
    server.redirect("/f", server.url + "/cdn/f")
    body, _, _ = fetch(server)
    assert body == DATA


def test_small_documents_have_a_cap(server):
    server.add("/f", DATA)
    with Network(NetworkPlan()) as net, pytest.raises(NetworkError, match="larger than"):
        net.get(Doc(server.url + "/f", "the document", 1000))


def test_local_file_urls(tmp_path):
    f = tmp_path / "a.bin"
    f.write_bytes(DATA)
    parts: list[bytes] = []
    digests = download(None, f.as_uri(), parts.append, expected_size=len(DATA))
    assert b"".join(parts) == DATA and digests.size == len(DATA)
    with pytest.raises(NotFoundError):
        download(None, (tmp_path / "nope").as_uri(), parts.append)


def test_a_refused_certificate_fails_at_once_and_names_ssl_cert_file(tmp_path, monkeypatch):
    from servers.tls import tls_server

    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with tls_server(tmp_path) as (srv, _cert):
        srv.add("/f", DATA)
        sleeps: list[float] = []
        with Network(NetworkPlan(), sleep=sleeps.append) as net, pytest.raises(NetworkError) as err:
            download(net, srv.url + "/f", lambda _b: None)
        assert srv.count("/f") == 0  # the handshake failed: nothing reached the server
    assert sleeps == []  # no retry can make a certificate trusted
    assert "SSL_CERT_FILE" in str(err.value)
    assert err.value.connection_level


def test_ssl_cert_file_makes_the_certificate_trusted(tmp_path, monkeypatch):
    from servers.tls import tls_server

    with tls_server(tmp_path) as (srv, cert):
        srv.add("/f", DATA)
        body, _digests, sleeps = fetch(srv, plan=NetworkPlan(trust=(str(cert),)))
    assert body == DATA and sleeps == []


def test_an_unreadable_local_file_is_a_permission_error_not_a_missing_one(tmp_path, monkeypatch):
    # SPEC §6: exit 7 for permissions; 3 would send the user looking for a file that is there.
    import codex_install.http.download as download_module
    from codex_install.errors import FilesystemError

    f = tmp_path / "codex-package.tar.zst"
    f.write_bytes(DATA)

    def denied(*_a: object, **_k: object) -> None:
        raise PermissionError(13, "Permission denied", str(f))

    monkeypatch.setattr(download_module, "open", denied, raising=False)  # root reads anything
    with pytest.raises(FilesystemError, match="permission denied") as err:
        download(None, f.as_uri(), lambda _b: None)
    assert err.value.exit_code == 7


def test_chunks_are_coalesced_and_a_drop_still_delivers_what_arrived() -> None:
    def drops_after(parts: int):  # type: ignore[no-untyped-def]
        for _ in range(parts):
            yield b"x" * 1000
        raise httpx.ReadError("connection dropped")

    assert [len(c) for c in _coalesced(iter([b"a" * 600] * 5), size=1000)] == [1200, 1200, 600]
    got: list[int] = []
    with pytest.raises(httpx.ReadError):
        for chunk in _coalesced(drops_after(7), size=3000):
            got.append(len(chunk))
    assert got == [3000, 3000, 1000]
