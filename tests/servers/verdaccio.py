"""A real npm registry for the tests: Verdaccio (installed by ``.ci/run`` into .ci/verdaccio, or
``VERDACCIO=/path/to/verdaccio``) on 127.0.0.1 with no uplink, logins from an htpasswd file,
every package readable and publishable only with a token. Synthetic ``@openai/codex`` platform
packages are published into it with ``npm publish``, as OpenAI publishes the real ones. Tests
using it skip only when verdaccio or npm is absent."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from builders import package_manifest
from servers.daemon import free_port, spawned, still_running

ROOT = Path(__file__).resolve().parents[2]
PLATFORMS = {"linux-x64": "x86_64-unknown-linux-musl", "linux-arm64": "aarch64-unknown-linux-musl"}


def verdaccio_program() -> str:
    found = os.environ.get("VERDACCIO") or str(ROOT / ".ci/verdaccio/node_modules/.bin/verdaccio")
    if not os.access(found, os.X_OK):
        pytest.skip("needs Verdaccio (bash .ci/run installs it with npm)")
    if shutil.which("npm") is None:
        pytest.skip("needs npm to publish into Verdaccio")
    return found


@dataclass
class Verdaccio:
    url: str  # http://127.0.0.1:PORT/
    port: int
    storage: Path
    token: str
    npmrc: Path  # a user config with the publishing token

    def publish(self, package: Path, tag: str) -> None:
        result = subprocess.run(
            ["npm", "publish", "--tag", tag, "--registry", self.url, "--userconfig",
             str(self.npmrc), "--ignore-scripts", "--no-audit"],
            cwd=package, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]

    def tarball(self, full_version: str) -> Path:
        return self.storage / "@openai" / "codex" / f"codex-{full_version}.tgz"


def platform_package(directory: Path, version: str, platform: str) -> Path:
    """The platform package's directory, as OpenAI publishes it: vendor/<target>/ with the
    Codex package layout, version ``<version>-<platform>``."""
    target = PLATFORMS[platform]
    root = directory / f"{version}-{platform}"
    vendor = root / "vendor" / target
    files = {
        "bin/codex": f'#!/bin/sh\necho "codex-cli {version}"\n',
        "bin/codex-code-mode-host": "#!/bin/sh\nexit 0\n",
        "codex-path/rg": "#!/bin/sh\necho rg\n",
        "codex-resources/bwrap": "#!/bin/sh\n",
    }
    for name, text in files.items():
        path = vendor / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o755)
    (vendor / "codex-package.json").write_text(json.dumps(package_manifest(version, target)))
    manifest = {"name": "@openai/codex", "version": f"{version}-{platform}", "files": ["vendor"]}
    (root / "package.json").write_text(json.dumps(manifest))
    return root


def main_package(directory: Path, version: str) -> Path:
    root = directory / version
    root.mkdir(parents=True)
    (root / "package.json").write_text(
        json.dumps({"name": "@openai/codex", "version": version, "bin": {"codex": "codex.js"}})
    )
    (root / "codex.js").write_text("#!/usr/bin/env node\n")
    return root


@contextmanager
def verdaccio(directory: Path) -> Iterator[Verdaccio]:
    program = verdaccio_program()
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    # The user is registered below (npm adduser's request), which answers with its token.
    (directory / "htpasswd").write_text("")
    config = {
        "storage": str(directory / "storage"),
        "auth": {"htpasswd": {"file": str(directory / "htpasswd"), "max_users": 1}},
        "uplinks": {},
        "packages": {"**": {"access": "$authenticated", "publish": "$authenticated"}},
        "web": {"enable": False},
        "listen": f"127.0.0.1:{port}",
        "log": {"type": "stdout", "format": "pretty", "level": "error"},
    }
    (directory / "config.yaml").write_text(json.dumps(config))  # JSON is YAML
    url = f"http://127.0.0.1:{port}/"
    argv = [program, "--config", str(directory / "config.yaml")]
    with spawned(argv, directory / "verdaccio.log", cwd=directory) as proc:
        token = _login(url, proc, directory)
        npmrc = directory / "publish.npmrc"
        npmrc.write_text(f"//127.0.0.1:{port}/:_authToken={token}\n")
        yield Verdaccio(url, port, directory / "storage", token, npmrc)


def _login(url: str, proc: subprocess.Popen[bytes], directory: Path) -> str:
    """Register the one user (the CouchDB user endpoint, as ``npm adduser`` does) once the
    server is up; its answer carries the token."""
    body = json.dumps({"name": "ci", "password": "verdaccio-pw"}).encode()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        still_running(proc, directory / "verdaccio.log")
        request = urllib.request.Request(
            f"{url}-/user/org.couchdb.user:ci",
            data=body,
            method="PUT",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return str(json.loads(answer.read())["token"])
        except urllib.error.HTTPError as err:
            raise RuntimeError(f"verdaccio refused the user: HTTP {err.code}") from err
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("verdaccio did not start in 60 s")
