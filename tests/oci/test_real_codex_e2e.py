"""Opt-in (``-m e2e``): the real Codex through a registry. ``npm pack`` fetches
``@openai/codex@<ver>-linux-x64`` from the npm registry this machine's npm is configured with
(or ``CODEX_E2E_NPM_TGZ=/path/to/it.tgz``), it is repacked as GitHub ships it
(``codex-package-<target>.tar.gz`` + SUMS), served as a GitHub release on 127.0.0.1, pushed with
``mirror sync --output oci://`` to a loopback docker-registry and installed from there on a
fresh HOME; then a blob tampered with in the registry's storage is refused."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from builders import FakeRelease, sha256
from cli_helpers import run
from oci.conftest import as_json
from servers.fake_http import FakeHTTPServer
from servers.registry import registry, skopeo

pytestmark = pytest.mark.e2e

VERSION = "0.171.0"
TARGET = "x86_64-unknown-linux-musl"
ARCHIVE = f"codex-package-{TARGET}.tar.gz"


def npm_tarball(tmp_path: Path) -> Path:
    given = os.environ.get("CODEX_E2E_NPM_TGZ")
    if given:
        return Path(given)
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("needs npm to fetch the real platform package")
    subprocess.run(
        [npm, "pack", f"@openai/codex@{VERSION}-linux-x64", "--pack-destination", str(tmp_path)],
        check=True, capture_output=True, timeout=1800,
    )  # fmt: skip
    return next(tmp_path.glob("*.tgz"))


def repack(npm_tgz: Path) -> bytes:
    """package/vendor/<target>/… → the package layout at the archive's root, as on GitHub."""
    prefix = f"package/vendor/{TARGET}/"
    out = io.BytesIO()
    with (
        tarfile.open(npm_tgz, "r:gz") as src,
        gzip.GzipFile(fileobj=out, mode="wb", compresslevel=1) as gz,
        tarfile.open(fileobj=gz, mode="w") as dst,
    ):
        for member in src.getmembers():
            if not member.name.startswith(prefix) or member.name == prefix:
                continue
            data = src.extractfile(member) if member.isfile() else None
            member.name = member.name.removeprefix(prefix)
            dst.addfile(member, data)
    return out.getvalue()


def test_the_real_codex_through_a_registry(env, server: FakeHTTPServer, tmp_path):
    archive = repack(npm_tarball(tmp_path))
    release = FakeRelease(VERSION)
    release.files[ARCHIVE] = archive
    release.with_sums().publish_github(server)
    fresh = tmp_path / "fresh"
    runner = {
        **env,
        "HOME": str(fresh),
        "CODEX_HOME": str(fresh / ".codex"),
        "CODEX_INSTALL_DIR": str(fresh / "bin"),
        "GITHUB_API_URL": "http://127.0.0.1:9",
    }
    with registry(tmp_path / "reg") as reg:
        pushed = as_json(
            run(env, "mirror", "sync", "--output", reg.oci(), "--target", TARGET, "--json")
        )
        assert pushed["tags"] == [VERSION, "latest"]
        raw = skopeo(
            "inspect", "--raw", "--tls-verify=false", f"docker://{reg.host}/codex:{VERSION}"
        )
        index = json.loads(raw.stdout)
        assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
        assert [m["platform"] for m in index["manifests"] if "platform" in m] == [
            {"architecture": "amd64", "os": "linux"}
        ]
        installed = as_json(run(runner, "install", "--no-login", "--mirror", reg.oci(), "--json"))
        assert installed["sha256"] == sha256(archive)
        codex = Path(runner["CODEX_INSTALL_DIR"]) / "codex"
        version = subprocess.run([codex, "--version"], capture_output=True, text=True, timeout=60)
        assert version.stdout.strip() == f"codex-cli {VERSION}"
        doctor = subprocess.run(
            [codex, "doctor", "--json"], capture_output=True, text=True, timeout=120,
            env=runner,
        )  # fmt: skip
        report = json.loads(doctor.stdout)  # it exits 1 here: no network for its reachability
        assert report["codexVersion"] == VERSION
        for check in ("installation", "runtime.search", "sandbox.helpers"):
            assert report["checks"][check]["status"] == "ok", report["checks"][check]

        blob = reg.blob_path("codex", "sha256:" + sha256(archive))
        data = bytearray(blob.read_bytes())
        data[len(data) // 2] ^= 0xFF
        blob.write_bytes(bytes(data))
        other = {**runner, "CODEX_HOME": str(tmp_path / "other/.codex"),
                 "CODEX_INSTALL_DIR": str(tmp_path / "other/bin")}  # fmt: skip
        refused = run(other, "install", "--no-login", "--mirror", reg.oci())
        assert refused.exit_code == 5, refused.output
        assert not (tmp_path / "other/bin/codex").exists()
