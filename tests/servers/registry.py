"""A real OCI registry for the tests: Debian's ``docker-registry`` (CNCF distribution) on
127.0.0.1 with a config file written here — anonymous, htpasswd basic auth, or token auth
against a small token server this module runs (JWTs signed with ``openssl``, as the registry's
``auth.token`` expects: RS256, an ``x5c`` chain, the registry trusting that certificate).
Tests using it skip only when the binary is absent; ``.ci/run`` installs it."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from servers.daemon import free_port, spawned, still_running
from servers.fake_http import loopback, send_json, stop_server

REGISTRY = shutil.which("docker-registry") or "/usr/bin/docker-registry"
SKOPEO = shutil.which("skopeo") or "/usr/bin/skopeo"
ISSUER = "codex-install-test-issuer"
SERVICE = "codex-install-test-registry"


def need(program: str) -> str:
    if not os.access(program, os.X_OK):
        pytest.skip(f"needs {Path(program).name} (bash .ci/run installs it)")
    return program


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class TokenServer:
    """``GET /token?service=…&scope=…`` with Basic auth (or none): a JWT granting what the
    scope asks, to ``users`` (name → password; anonymous gets pull only when ``anonymous_pull``).
    ``POST /token`` exchanges a refresh token in ``refresh_tokens`` (name → token)."""

    directory: Path
    users: dict[str, str]
    anonymous_pull: bool = False
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path?query, user)

    def __post_init__(self) -> None:
        self.key = self.directory / "token.key"
        self.cert = self.directory / "token.crt"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-keyout", str(self.key), "-out", str(self.cert), "-subj", "/CN=token"],
            check=True, capture_output=True,
        )  # fmt: skip
        der = subprocess.run(
            ["openssl", "x509", "-in", str(self.cert), "-outform", "DER"],
            check=True,
            capture_output=True,
        ).stdout
        self.x5c = base64.b64encode(der).decode()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.answer(self, parse_qs(urlsplit(self.path).query), self._user())

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                token = (form.get("refresh_token") or [""])[0]
                user = next((u for u, t in server.refresh_tokens.items() if t == token), None)
                server.answer(self, form, user if user else False)

            def _user(self) -> str | bool | None:
                header = self.headers.get("authorization") or ""
                if not header.startswith("Basic "):
                    return None
                name, _, password = base64.b64decode(header[6:]).decode().partition(":")
                return name if server.users.get(name) == password else False

        self.httpd, thread = loopback(Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/token"
        thread.start()

    def answer(
        self, handler: BaseHTTPRequestHandler, query: dict[str, list[str]], user: str | bool | None
    ) -> None:
        self.requests.append((handler.path, user if isinstance(user, str) else None))
        if user is False or (user is None and not self.anonymous_pull):
            handler.send_response(401)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        access = []
        for scope in " ".join(query.get("scope", [])).split(" "):
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind != "repository" or not name:
                continue
            wanted = actions.split(",")
            granted = wanted if isinstance(user, str) else [a for a in wanted if a == "pull"]
            access.append({"type": "repository", "name": name, "actions": granted})
        send_json(handler, 200, {"token": self.jwt(str(user or ""), access), "expires_in": 300})

    def jwt(self, subject: str, access: list[dict[str, object]]) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": hashlib.sha256(os.urandom(8)).hexdigest()[:16],
            "access": access,
        }
        signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(self.key)],
            input=signing.encode(),
            check=True,
            capture_output=True,
        ).stdout
        return f"{signing}.{_b64(signature)}"

    def stop(self) -> None:
        stop_server(self.httpd)


@dataclass
class Registry:
    url: str  # http://127.0.0.1:PORT
    port: int
    storage: Path
    token: TokenServer | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def oci(self, repository: str = "codex") -> str:
        return f"oci://{self.host}/{repository}"

    def blob_path(self, repository: str, digest: str) -> Path:
        hexd = digest.removeprefix("sha256:")
        return self.storage / "docker/registry/v2/blobs/sha256" / hexd[:2] / hexd / "data"


def htpasswd_line(user: str, password: str) -> str:
    """A bcrypt htpasswd entry (distribution accepts only bcrypt)."""
    htpasswd = shutil.which("htpasswd")
    if htpasswd is None:
        pytest.skip("needs htpasswd (apache2-utils; bash .ci/run installs it)")
    out = subprocess.run(
        [htpasswd, "-nbB", user, password], check=True, capture_output=True, text=True
    ).stdout
    return out.strip() + "\n"


@contextmanager
def registry(
    directory: Path,
    *,
    users: dict[str, str] | None = None,
    token: bool = False,
    anonymous_pull: bool = False,
) -> Iterator[Registry]:
    """A started registry: anonymous, ``users`` by htpasswd, or (``token``) ``users`` through
    the token server."""
    program = need(REGISTRY)
    directory.mkdir(parents=True, exist_ok=True)
    storage = directory / "storage"
    port = free_port()
    config = [
        "version: 0.1",
        "log: {level: error, accesslog: {disabled: true}}",
        f"storage: {{filesystem: {{rootdirectory: {storage}}}, delete: {{enabled: true}}}}",
        f"http: {{addr: '127.0.0.1:{port}', secret: test}}",
    ]
    token_server = None
    if token:
        token_server = TokenServer(directory, users or {}, anonymous_pull=anonymous_pull)
        config.append(
            f"auth: {{token: {{realm: '{token_server.url}', service: {SERVICE}, "
            f"issuer: {ISSUER}, rootcertbundle: {token_server.cert}}}}}"
        )
    elif users:
        lines = "".join(htpasswd_line(u, p) for u, p in users.items())
        (directory / "htpasswd").write_text(lines)
        config.append(f"auth: {{htpasswd: {{realm: test, path: {directory / 'htpasswd'}}}}}")
    (directory / "config.yml").write_text("\n".join(config) + "\n")
    argv = [program, "serve", str(directory / "config.yml")]
    try:
        with spawned(argv, directory / "registry.log") as proc:
            _wait_ready(port, proc, directory)
            yield Registry(f"http://127.0.0.1:{port}", port, storage, token_server)
    finally:
        if token_server is not None:
            token_server.stop()


def _wait_ready(port: int, proc: subprocess.Popen[bytes], directory: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        still_running(proc, directory / "registry.log")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("docker-registry did not start in 20 s")


def skopeo(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run skopeo against the loopback registry (plain http: --tls-verify=false)."""
    program = need(SKOPEO)
    return subprocess.run(
        [program, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
