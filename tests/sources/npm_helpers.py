"""A fake npm registry on 127.0.0.1 and the CLI helpers the npm source tests share."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import socket
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from click.testing import Result

from builders import TARGET, gz, package_manifest
from cli_helpers import run
from servers.fake_http import FakeHTTPServer

REPO = "openai/codex"
PLATFORM = "linux-x64"
PACKUMENT = "/npm/@openai%2fcodex"
SECRET = "npm_SuperSecretRegistryToken42"


# --- a fake npm registry -------------------------------------------------------------------


def _add(tf: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 499_162_500  # npm's fixed 1985 date
    tf.addfile(info, io.BytesIO(data))


def npm_tarball(
    version: str, target: str = TARGET, platform: str = PLATFORM, *, script: bytes | None = None
) -> bytes:
    """A platform package in the real shape: no directory entries, everything under
    ``package/``, the Codex package layout under ``package/vendor/<T>/``."""
    vendor = f"package/vendor/{target}"
    pkg = package_manifest(version, target)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        _add(tf, f"{vendor}/codex-resources/bwrap", b"#!/bin/sh\n", 0o755)
        _add(
            tf,
            f"{vendor}/bin/codex",
            script or f'#!/bin/sh\necho "codex-cli {version}"\n'.encode(),
            0o755,
        )
        _add(tf, f"{vendor}/bin/codex-code-mode-host", b"#!/bin/sh\nexit 0\n", 0o755)
        _add(tf, f"{vendor}/codex-path/rg", b"#!/bin/sh\necho rg\n", 0o755)
        _add(tf, f"{vendor}/codex-package.json", json.dumps(pkg).encode())
        _add(
            tf,
            "package/package.json",
            json.dumps(
                {"name": "@openai/codex", "version": f"{version}-{platform}", "files": ["vendor"]}
            ).encode(),
        )
        _add(tf, "package/README.md", b"# Codex\n")
    return gz(buf.getvalue())


def sri512(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


class FakeRegistry:
    """Packument + tarballs on a FakeHTTPServer under ``/npm/``, in the registry's shape."""

    def __init__(self, server: FakeHTTPServer, tarball_host: FakeHTTPServer | None = None):
        self.server = server
        self.tarball_host = tarball_host or server
        self.versions: dict[str, Any] = {}
        self.dist_tags: dict[str, str] = {}
        self.tarballs: dict[str, bytes] = {}

    @property
    def url(self) -> str:
        return self.server.url + "/npm/"

    def tarball_path(self, full_version: str) -> str:
        return f"/npm/@openai/codex/-/codex-{full_version}.tgz"

    def publish(
        self,
        version: str,
        platforms: tuple[str, ...] = (PLATFORM,),
        *,
        latest: bool = True,
        integrity: str | None = "sha512",
        script: bytes | None = None,
    ) -> FakeRegistry:
        self.versions[version] = {
            "name": "@openai/codex",
            "version": version,
            "dist": {"tarball": f"{self.url}@openai/codex/-/codex-{version}.tgz"},
        }
        for platform in platforms:
            target = {
                "linux-x64": TARGET,
                "linux-arm64": "aarch64-unknown-linux-musl",
                "darwin-arm64": "aarch64-apple-darwin",
                "darwin-x64": "x86_64-apple-darwin",
            }[platform]
            full = f"{version}-{platform}"
            data = npm_tarball(version, target, platform, script=script)
            self.tarballs[full] = data
            path = self.tarball_path(full)
            self.tarball_host.add(path, data, Content_Type="application/octet-stream")
            dist: dict[str, Any] = {
                "tarball": self.tarball_host.url + path,
                "shasum": hashlib.sha1(data).hexdigest(),
            }
            if integrity == "sha512":
                dist["integrity"] = sri512(data)
            elif integrity is not None:
                dist["integrity"] = integrity
            self.versions[full] = {"name": "@openai/codex", "version": full, "dist": dist}
        if latest:
            self.dist_tags["latest"] = version
        return self.serve()

    def packument(self) -> dict[str, Any]:
        return {"name": "@openai/codex", "dist-tags": self.dist_tags, "versions": self.versions}

    def serve(self) -> FakeRegistry:
        self.server.add(
            PACKUMENT,
            json.dumps(self.packument()),
            Content_Type="application/vnd.npm.install-v1+json",
        )
        return self


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return int(port)


# --- CLI helpers ---------------------------------------------------------------------------


def install(env: dict[str, str], *args: str) -> Result:
    return run(env, "install", "--no-login", "--target", TARGET, *args)


def codex_version(env: dict[str, str]) -> str:
    link = Path(env["CODEX_INSTALL_DIR"]) / "codex"
    return subprocess.run(
        [str(link), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()


def releases(env: dict[str, str]) -> list[str]:
    root = Path(env["CODEX_HOME"]) / "packages/standalone/releases"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []
