"""Synthetic Codex releases built by the tests: archives in every layout, SUMS, release JSON,
published on a FakeHTTPServer as a GitHub API + download host, or as a mirror tree."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field

from servers.fake_http import FakeHTTPServer

TARGET = "x86_64-unknown-linux-musl"
ALL_TARGETS = (
    "aarch64-apple-darwin",
    "x86_64-apple-darwin",
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
)


def codex_script(version: str, extra: str = "") -> bytes:
    return f'#!/bin/sh\n{extra}echo "codex-cli {version}"\n'.encode()


def _add(tf: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = 1_700_000_000
    tf.addfile(info, io.BytesIO(data))


def _add_dir(tf: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    tf.addfile(info)


def package_manifest(version: str, target: str = TARGET) -> dict[str, object]:
    """The codex-package.json of a package-layout archive."""
    return {
        "layoutVersion": 1,
        "version": version,
        "target": target,
        "variant": "codex",
        "entrypoint": "bin/codex",
        "resourcesDir": "codex-resources",
        "pathDir": "codex-path",
    }


def package_tar(
    version: str,
    target: str = TARGET,
    *,
    script: bytes | None = None,
    package_json: dict[str, object] | None = None,
) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        pkg = {**package_manifest(version, target), **(package_json or {})}
        _add(tf, "codex-package.json", json.dumps(pkg).encode())
        _add_dir(tf, "bin")
        _add(tf, "bin/codex", script or codex_script(version), 0o755)
        _add(tf, "bin/codex-code-mode-host", b"#!/bin/sh\nexit 0\n", 0o755)
        _add_dir(tf, "codex-path")
        _add(tf, "codex-path/rg", b"#!/bin/sh\necho rg\n", 0o755)
        _add_dir(tf, "codex-resources")
        _add(tf, "codex-resources/prompt.md", b"You are Codex.\n")
    return buf.getvalue()


def legacy_tar(version: str, target: str = TARGET, *, script: bytes | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        _add(tf, f"codex-{target}", script or codex_script(version), 0o755)
    return buf.getvalue()


def gz(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data, compresslevel=6, mtime=0)


def zst(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor(level=3).compress(data)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class FakeRelease:
    """A release with named files; ``publish_github`` / ``publish_mirror`` serve it."""

    version: str
    files: dict[str, bytes] = field(default_factory=dict)
    digests: dict[str, str | None] = field(default_factory=dict)  # override per asset
    omit_sizes: bool = False

    @property
    def tag(self) -> str:
        return f"rust-v{self.version}"

    def sums_text(self) -> str:
        return "".join(
            f"{sha256(data)}  {name}\n"
            for name, data in sorted(self.files.items())
            if name.startswith("codex-package-")
        )

    def with_sums(self) -> FakeRelease:
        self.files["codex-package_SHA256SUMS"] = self.sums_text().encode()
        return self

    def release_json(self, url_for: dict[str, str]) -> dict[str, object]:
        assets = []
        for name, data in self.files.items():
            entry: dict[str, object] = {
                "name": name,
                "browser_download_url": url_for[name],
                "digest": self.digests.get(name, f"sha256:{sha256(data)}"),
            }
            if entry["digest"] is None:
                del entry["digest"]
            if not self.omit_sizes:
                entry["size"] = len(data)
            assets.append(entry)
        return {
            "tag_name": self.tag,
            "name": self.tag,
            "prerelease": "-" in self.version,
            "assets": assets,
        }

    def publish_github(
        self, server: FakeHTTPServer, repo: str = "openai/codex", *, latest: bool = True
    ) -> None:
        urls = {}
        for name, data in self.files.items():
            path = f"/{repo}/releases/download/{self.tag}/{name}"
            server.add(path, data, Content_Type="application/octet-stream")
            urls[name] = server.url + path
        body = json.dumps(self.release_json(urls))
        server.add(f"/repos/{repo}/releases/tags/{self.tag}", body, Content_Type="application/json")
        if latest:
            server.add(f"/repos/{repo}/releases/latest", body, Content_Type="application/json")

    def publish_mirror(
        self, server: FakeHTTPServer, base: str = "/mirror", *, latest: bool = True
    ) -> str:
        urls = {name: name for name in self.files}  # relative URLs, as mirror sync writes them
        for name, data in self.files.items():
            server.add(f"{base}/releases/{self.version}/{name}", data)
        body = json.dumps(self.release_json(urls))
        server.add(f"{base}/releases/{self.version}/release.json", body)
        if latest:
            # channels/latest is fetched from {base}/channels/latest: URLs relative to it must
            # point into releases/<ver>/
            rel = {name: f"../releases/{self.version}/{name}" for name in self.files}
            server.add(f"{base}/channels/latest", json.dumps(self.release_json(rel)))
        return server.url + base


def full_release(version: str, *, legacy: bool = False) -> FakeRelease:
    """Every target's package, .tar.zst and .tar.gz (and with ``legacy`` the old
    codex-<target>.tar.gz), all in SUMS."""
    rel = FakeRelease(version)
    for t in ALL_TARGETS:
        tar = package_tar(version, t)
        rel.files[f"codex-package-{t}.tar.zst"] = zst(tar)
        rel.files[f"codex-package-{t}.tar.gz"] = gz(tar)
        if legacy:
            rel.files[f"codex-{t}.tar.gz"] = gz(legacy_tar(version, t))
    return rel.with_sums()


def package_release(
    version: str,
    target: str = TARGET,
    *,
    formats: tuple[str, ...] = ("tar.zst", "tar.gz"),
    legacy: bool = True,
    script: bytes | None = None,
) -> FakeRelease:
    rel = FakeRelease(version)
    tar = package_tar(version, target, script=script)
    if "tar.zst" in formats:
        rel.files[f"codex-package-{target}.tar.zst"] = zst(tar)
    if "tar.gz" in formats:
        rel.files[f"codex-package-{target}.tar.gz"] = gz(tar)
    if formats:
        rel.with_sums()
    if legacy:
        rel.files[f"codex-{target}.tar.gz"] = gz(legacy_tar(version, target, script=script))
    return rel
