"""The fake HTTP server behind TLS, with a throwaway self-signed certificate (made with the
``openssl`` command) that no default trust store accepts."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from servers.fake_http import FakeHTTPServer

# RSA key generation is the slow part (~0.25 s): one certificate serves every test in a run.
_made: dict[str, bytes] = {}


def _make_certificate(cert: Path, key: Path) -> None:
    if _made:
        cert.write_bytes(_made["cert"])
        key.write_bytes(_made["key"])
        return
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    _made.update(cert=cert.read_bytes(), key=key.read_bytes())


@contextmanager
def tls_server(
    directory: Path, *, client_certificates: bool = False
) -> Iterator[tuple[FakeHTTPServer, Path]]:
    """A started server on https://127.0.0.1 and the path of its certificate (PEM; its key is
    ``key.pem`` beside it). ``client_certificates``: the server accepts only clients presenting
    that same certificate."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    _make_certificate(cert, key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    if client_certificates:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cert)
    srv = FakeHTTPServer()
    srv.httpd.socket = context.wrap_socket(srv.httpd.socket, server_side=True)
    srv.url = f"https://127.0.0.1:{srv.port}"
    srv.start()
    try:
        yield srv, cert
    finally:
        srv.stop()
