"""Manifests in use: ``manifest generate`` / ``manifest verify`` against fake GitHub, mirror and
npm servers, and installs pinned by a manifest (``--manifest FILE`` and shipped manifests)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from builders import (
    ALL_TARGETS,
    TARGET,
    FakeRelease,
    full_release,
    gz,
    package_manifest,
    package_tar,
    sha256,
    zst,
)
from codex_install.cli import cli
from codex_install.commands.install import shipped_pin
from codex_install.install import InstallRequest
from codex_install.manifest import (
    Manifest,
    ManifestAsset,
    build_manifest,
    load_manifest,
    preferred_asset,
    render_manifest,
)
from codex_install.sources.dispatch import SourceOptions
from codex_install.sources.github import DEFAULT_API_URL, GitHubConfig
from codex_install.versions import VersionSpec
from servers.fake_http import FakeHTTPServer

VERSION = "0.169.0"
REPO = "openai/codex"
NPM_PLATFORMS = {
    "aarch64-apple-darwin": "darwin-arm64",
    "x86_64-apple-darwin": "darwin-x64",
    "x86_64-unknown-linux-musl": "linux-x64",
    "aarch64-unknown-linux-musl": "linux-arm64",
}


# --- fakes -----------------------------------------------------------------------------------


def download_path(rel: FakeRelease, name: str) -> str:
    return f"/{REPO}/releases/download/{rel.tag}/{name}"


def npm_tarball(version: str, target: str, *, script: bytes | None = None) -> bytes:
    """An @openai/codex platform package: the package layout under package/vendor/<T>/."""
    vendor = f"package/vendor/{target}"
    pkg = package_manifest(version, target)
    files = {
        f"{vendor}/codex-package.json": (json.dumps(pkg).encode(), 0o644),
        f"{vendor}/bin/codex": (
            script or f'#!/bin/sh\necho "codex-cli {version}"\n'.encode(),
            0o755,
        ),
        f"{vendor}/codex-path/rg": (b"#!/bin/sh\necho rg\n", 0o755),
        "package/package.json": (b'{"name": "@openai/codex"}', 0o644),
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, (data, mode) in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 499_162_500
            tf.addfile(info, io.BytesIO(data))
    return gz(buf.getvalue())


def sri512(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def publish_npm(
    server: FakeHTTPServer, version: str = VERSION, tarballs: dict[str, bytes] | None = None
) -> dict[str, bytes]:
    """The four platform versions on a fake registry at ``{server.url}/npm/``; tarballs by
    target."""
    tarballs = tarballs or {t: npm_tarball(version, t) for t in ALL_TARGETS}
    versions: dict[str, object] = {version: {"version": version, "dist": {}}}
    for target, data in tarballs.items():
        full = f"{version}-{NPM_PLATFORMS[target]}"
        path = f"/npm/@openai/codex/-/codex-{full}.tgz"
        server.add(path, data, Content_Type="application/octet-stream")
        versions[full] = {
            "version": full,
            "dist": {"tarball": server.url + path, "integrity": sri512(data)},
        }
    doc = {"name": "@openai/codex", "dist-tags": {"latest": version}, "versions": versions}
    server.add("/npm/@openai%2fcodex", json.dumps(doc), Content_Type="application/json")
    return tarballs


def npm_path(version: str, target: str) -> str:
    return f"/npm/@openai/codex/-/codex-{version}-{NPM_PLATFORMS[target]}.tgz"


def release_manifest(server: FakeHTTPServer, rel: FakeRelease) -> Manifest:
    """What ``manifest generate`` should write for ``rel`` published on ``server``."""
    entries = []
    for name, data in rel.files.items():
        if name == "codex-package_SHA256SUMS":
            continue
        target = next(t for t in ALL_TARGETS if t in name)
        layout = "package" if name.startswith("codex-package-") else "legacy"
        entries.append(
            ManifestAsset(
                target, layout, name, server.url + download_path(rel, name), len(data), sha256(data)
            )
        )
    return build_manifest(rel.version, entries)


def npm_manifest(
    server: FakeHTTPServer, tarballs: dict[str, bytes], version: str = VERSION
) -> Manifest:
    return build_manifest(
        version,
        [
            ManifestAsset(
                t,
                "package",
                f"codex-{version}-{NPM_PLATFORMS[t]}.tgz",
                server.url + npm_path(version, t),
                len(data),
                sha256(data),
                integrity=sri512(data),
                npm_spec=f"@openai/codex@{version}-{NPM_PLATFORMS[t]}",
            )
            for t, data in tarballs.items()
        ],
    )


def write(manifest: Manifest, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_manifest(manifest), encoding="utf-8")
    return path


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj={"env": env}, catch_exceptions=False)


def install(env: dict[str, str], *args: str) -> Result:
    return run(env, "install", "--no-login", "--target", TARGET, *args)


def installed(env: dict[str, str]) -> list[str]:
    root = Path(env["CODEX_HOME"]) / "packages/standalone/releases"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def metadata_requests(server: FakeHTTPServer) -> list[str]:
    return [
        r.path
        for r in server.log
        if r.path.startswith(("/repos/", "/npm/@openai%2f"))
        or r.path.endswith(("release.json", "channels/latest", "_SHA256SUMS"))
    ]


def archive_requests(server: FakeHTTPServer) -> list[str]:
    return [r.path for r in server.log if r.path.endswith((".tar.zst", ".tar.gz", ".tgz"))]


@pytest.fixture
def npm_env(env: dict[str, str], server: FakeHTTPServer) -> dict[str, str]:
    return {**env, "NPM_CONFIG_REGISTRY": server.url + "/npm/"}


# --- manifest generate -----------------------------------------------------------------------


def test_generate_pins_every_archive_of_every_target(env, server, tmp_path):
    rel = full_release(VERSION, legacy=True)
    rel.publish_github(server)
    out = tmp_path / "manifests"
    result = run(env, "manifest", "generate", "--version", VERSION, "--output", str(out), "--json")
    assert result.exit_code == 0, result.output
    path = out / f"codex-{VERSION}.toml"
    assert json.loads(result.stdout)["path"] == str(path)
    assert load_manifest(path) == release_manifest(server, rel)
    assert len(load_manifest(path).assets) == 12  # zst + gz + legacy for 4 targets
    assert [p.name for p in out.iterdir()] == [path.name]  # atomic: no temp file left
    assert f"wrote {path} (12 archives for 4 targets)" in result.stderr


def test_generate_into_an_unwritable_place_fails_before_downloading(env, server, tmp_path):
    full_release(VERSION, legacy=True).publish_github(server)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run(env, "manifest", "generate", "--version", VERSION, "--output", str(blocker / "m"))
    assert result.exit_code == 7
    assert archive_requests(server) == []  # not a dozen archives hashed for nothing


def test_generate_is_deterministic_and_keeps_no_archive(env, server, tmp_path):
    full_release(VERSION, legacy=True).publish_github(server)
    first, second = tmp_path / "out" / "a", tmp_path / "out" / "b"
    for out in (first, second):
        assert run(env, "manifest", "generate", "--output", str(out)).exit_code == 0
    name = f"codex-{VERSION}.toml"
    assert (first / name).read_bytes() == (second / name).read_bytes()
    files = sorted(p.name for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert files == [name, name]
    assert not [p for p in tmp_path.rglob("*.tar.*") if p.is_file()]


def test_generate_selected_targets_pins_only_those(env, server, tmp_path):
    full_release(VERSION, legacy=True).publish_github(server)
    result = run(env, "manifest", "generate", "--output", str(tmp_path), "--target", TARGET)
    assert result.exit_code == 0, result.output
    manifest = load_manifest(tmp_path / f"codex-{VERSION}.toml")
    assert manifest.targets == (TARGET,)
    assert sorted(a.name for a in manifest.assets) == sorted(
        [
            f"codex-package-{TARGET}.tar.gz",
            f"codex-package-{TARGET}.tar.zst",
            f"codex-{TARGET}.tar.gz",
        ]
    )


def test_generate_refuses_bytes_that_do_not_match_the_remote_digest(env, server, tmp_path):
    rel = full_release(VERSION, legacy=True)
    rel.publish_github(server)
    server.fault(download_path(rel, f"codex-package-{TARGET}.tar.gz"), "flip:40")
    result = run(env, "manifest", "generate", "--output", str(tmp_path / "m"))
    assert result.exit_code == 5
    assert f"codex-package-{TARGET}.tar.gz: sha256 mismatch" in result.stderr
    assert not (tmp_path / "m").exists()


def test_generate_refuses_a_release_whose_digest_and_sums_disagree(env, server, tmp_path):
    rel = full_release(VERSION, legacy=True)
    rel.digests[f"codex-package-{TARGET}.tar.zst"] = "sha256:" + "0" * 64
    rel.publish_github(server)
    result = run(env, "manifest", "generate", "--output", str(tmp_path / "m"))
    assert result.exit_code == 5
    assert "the release disagrees with itself" in result.stderr
    assert not (tmp_path / "m").exists()


def test_generate_refuses_an_archive_nothing_vouches_for(env, server, tmp_path):
    rel = full_release(VERSION, legacy=True)
    rel.digests[f"codex-{TARGET}.tar.gz"] = None  # a legacy archive has no SUMS line
    rel.publish_github(server)
    result = run(env, "manifest", "generate", "--output", str(tmp_path), "--target", TARGET)
    assert result.exit_code == 5
    assert "publishes no digest" in result.stderr


def test_generate_from_a_mirror_pins_the_mirror_urls(env, server, tmp_path):
    rel = full_release(VERSION, legacy=True)
    base = rel.publish_mirror(server)
    result = run(
        env,
        "manifest",
        "generate",
        "--source",
        "mirror",
        "--mirror",
        base,
        "--output",
        str(tmp_path),
        "--target",
        TARGET,
    )
    assert result.exit_code == 0, result.output
    manifest = load_manifest(tmp_path / f"codex-{VERSION}.toml")
    for asset in manifest.assets:
        assert asset.url == f"{base}/releases/{VERSION}/{asset.name}"
        assert asset.sha256 == sha256(rel.files[asset.name])


def test_generate_from_npm_pins_tarballs_with_integrity(npm_env, server, tmp_path):
    tarballs = publish_npm(server)
    result = run(npm_env, "manifest", "generate", "--source", "npm", "--output", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert load_manifest(tmp_path / f"codex-{VERSION}.toml") == npm_manifest(server, tarballs)


def test_generate_from_github_and_npm_merges_both(npm_env, server, tmp_path):
    rel = full_release(VERSION, legacy=True)
    rel.publish_github(server)
    tarballs = publish_npm(server)
    result = run(
        npm_env,
        "manifest",
        "generate",
        "--source",
        "github",
        "--source",
        "npm",
        "--output",
        str(tmp_path),
        "--json",
    )
    assert result.exit_code == 0, result.output
    manifest = load_manifest(tmp_path / f"codex-{VERSION}.toml")
    want = release_manifest(server, rel).assets + npm_manifest(server, tarballs).assets
    assert manifest == build_manifest(VERSION, want)


def test_generate_from_npm_refuses_a_tarball_that_fails_integrity(npm_env, server, tmp_path):
    publish_npm(server)
    server.fault(npm_path(VERSION, TARGET), "flip:100")
    out = tmp_path / "m"
    result = run(npm_env, "manifest", "generate", "--source", "npm", "--output", str(out))
    assert result.exit_code == 5
    assert "sha512 integrity mismatch" in result.stderr
    assert not out.exists()


# --- manifest verify -------------------------------------------------------------------------


@pytest.fixture
def generated(env, server, tmp_path) -> tuple[FakeRelease, Path]:
    rel = full_release(VERSION, legacy=True)
    rel.publish_github(server)
    assert (
        run(env, "manifest", "generate", "--output", str(tmp_path), "--target", TARGET).exit_code
        == 0
    )
    return rel, tmp_path / f"codex-{VERSION}.toml"


def test_verify_of_an_unchanged_release_is_one_ok_line(env, generated):
    _, path = generated
    result = run(env, "manifest", "verify", str(path))
    assert result.exit_code == 0, result.output
    assert result.stderr == f"codex-install: {path}: all 3 archives match the manifest\n"


def test_verify_detects_a_changed_byte_and_names_the_archive(env, server, generated):
    rel, path = generated
    name = f"codex-package-{TARGET}.tar.zst"
    server.fault(download_path(rel, name), "flip:7")
    result = run(env, "manifest", "verify", str(path), "--json")
    assert result.exit_code == 5
    data = json.loads(result.stdout)
    assert (data["ok"], data["checked"], len(data["problems"])) == (False, 3, 1)
    assert data["problems"][0].startswith(f"{name} ({TARGET}, package): downloaded sha256 ")
    assert "differs from the manifest's" in data["problems"][0]
    assert f"{path}: 1 problems:\n  - {name}" in result.stderr


def test_verify_reports_a_vanished_archive_and_a_size_change(env, server, generated):
    rel, path = generated
    server.routes.pop(download_path(rel, f"codex-{TARGET}.tar.gz"))
    grown = rel.files[f"codex-package-{TARGET}.tar.gz"] + b"x"
    server.add(download_path(rel, f"codex-package-{TARGET}.tar.gz"), grown)
    result = run(env, "manifest", "verify", str(path), "--json")
    assert result.exit_code == 5
    problems = json.loads(result.stdout)["problems"]
    assert len(problems) == 2
    assert any("HTTP 404" in p and f"codex-{TARGET}.tar.gz" in p for p in problems)
    assert any("server says" in p and f"codex-package-{TARGET}.tar.gz" in p for p in problems)


def test_verify_checks_npm_integrity(npm_env, server, tmp_path):
    tarballs = publish_npm(server)
    one = {TARGET: tarballs[TARGET]}
    path = write(npm_manifest(server, one), tmp_path / "m.toml")
    assert run(npm_env, "manifest", "verify", str(path)).exit_code == 0
    server.fault(npm_path(VERSION, TARGET), "flip:3")
    result = run(npm_env, "manifest", "verify", str(path), "--json")
    assert result.exit_code == 5
    problems = json.loads(result.stdout)["problems"]
    assert [p.split(": ", 1)[1].split(" ")[:2] for p in problems] == [
        ["downloaded", "sha256"],
        ["downloaded", "integrity"],
    ]


def test_verify_of_a_bad_manifest_exits_2(env, tmp_path):
    bad = tmp_path / "m.toml"
    bad.write_text("schema = 1\nversion = [\n", encoding="utf-8")
    result = run(env, "manifest", "verify", str(bad))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"codex-install: error: manifest {bad}: not valid TOML")


# --- install --manifest ----------------------------------------------------------------------


def test_install_pinned_by_a_manifest_makes_no_metadata_request(env, server, tmp_path):
    rel = full_release(VERSION, legacy=True)
    rel.publish_github(server)
    path = write(release_manifest(server, rel), tmp_path / "m.toml")
    result = install(env, "--manifest", str(path), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["version"], data["source"], data["pinned_by"]) == (VERSION, "manifest", "manifest")
    assert data["manifest"] == {"file": str(path), "shipped": False, "version": VERSION}
    assert data["sha256"] == sha256(rel.files[f"codex-package-{TARGET}.tar.zst"])
    assert metadata_requests(server) == []
    assert archive_requests(server) == [download_path(rel, f"codex-package-{TARGET}.tar.zst")]
    assert installed(env) == [f"{VERSION}-{TARGET}"]


def test_reinstall_pinned_by_a_manifest_touches_no_network(env, server, tmp_path):
    rel = full_release(VERSION, legacy=True)
    rel.publish_github(server)
    path = write(release_manifest(server, rel), tmp_path / "m.toml")
    assert install(env, "--manifest", str(path)).exit_code == 0
    before = len(server.log)
    result = install(env, "--manifest", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reused"] is True
    assert len(server.log) == before


def test_manifest_with_other_bytes_than_served_exits_5_and_installs_nothing(env, server, tmp_path):
    rel = full_release(VERSION, legacy=True)
    rel.publish_github(server)
    pinned = release_manifest(server, rel)
    name = f"codex-package-{TARGET}.tar.zst"
    other = build_manifest(
        VERSION,
        [
            ManifestAsset(a.target, a.layout, a.name, a.url, a.size, "ab" * 32)
            if a.name == name
            else a
            for a in pinned.assets
        ],
    )
    result = install(env, "--manifest", str(write(other, tmp_path / "m.toml")))
    assert result.exit_code == 5
    assert f"{name}: sha256 mismatch (expected abababab" in result.stderr
    assert installed(env) == []


@pytest.mark.parametrize("source", [("--source", "github"), ()])
def test_remote_digest_that_disagrees_with_the_manifest_exits_5_before_download(
    env, server, tmp_path, source
):
    rel = full_release(VERSION, legacy=True)
    pinned = release_manifest(server, rel)  # the bytes the manifest saw
    name = f"codex-package-{TARGET}.tar.zst"
    rel.digests[name] = "sha256:" + "cd" * 32  # what GitHub says now
    rel.publish_github(server)
    args = ["--manifest", str(write(pinned, tmp_path / "m.toml")), *source]
    result = install(env, *args)
    if not source:  # the default source never asks GitHub: the pin alone decides
        assert result.exit_code == 0, result.output
        assert metadata_requests(server) == []
        return
    assert result.exit_code == 5
    assert f"{name} ({TARGET}, package): github release sha256 {'cd' * 8}… differs" in (
        result.stderr
    )
    assert "nothing was downloaded" in result.stderr
    assert archive_requests(server) == []
    assert installed(env) == []


def test_sums_that_disagree_with_the_manifest_exit_5_before_download(env, server, tmp_path):
    rel = full_release(VERSION, legacy=True)
    pinned = release_manifest(server, rel)
    name = f"codex-package-{TARGET}.tar.zst"
    rel.files[name] = zst(package_tar(VERSION, TARGET, script=b"#!/bin/sh\necho evil\n"))
    rel.digests[name] = f"sha256:{pinned.asset_named(name).sha256}"  # only SUMS tells
    rel.omit_sizes = True
    rel.with_sums().publish_github(server)
    result = install(
        env, "--manifest", str(write(pinned, tmp_path / "m.toml")), "--source", "github"
    )
    assert result.exit_code == 5
    assert f"{name} ({TARGET}, package): codex-package_SHA256SUMS sha256 " in result.stderr
    assert archive_requests(server) == []


def test_explicit_source_downloads_from_the_source_and_checks_the_pin(env, server, tmp_path):
    rel = full_release(VERSION, legacy=True)
    base = rel.publish_mirror(server)
    pinned = release_manifest(server, rel)  # urls point at GitHub paths nobody serves
    result = install(
        env, "--manifest", str(write(pinned, tmp_path / "m.toml")), "--mirror", base, "--json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["source"] == "mirror"
    assert archive_requests(server) == [
        f"/mirror/releases/{VERSION}/codex-package-{TARGET}.tar.zst"
    ]


def test_explicit_source_matches_the_pinned_archive_by_name(env, server, tmp_path):
    rel = full_release(VERSION, legacy=True)
    rel.publish_github(server)
    gz_only = build_manifest(
        VERSION,
        [
            a
            for a in release_manifest(server, rel).assets
            if a.name == f"codex-package-{TARGET}.tar.gz"
        ],
    )
    result = install(
        env, "--manifest", str(write(gz_only, tmp_path / "m.toml")), "--source", "github"
    )
    assert result.exit_code == 0, result.output
    assert archive_requests(server) == [download_path(rel, f"codex-package-{TARGET}.tar.gz")]


def test_manifest_version_and_version_flag_must_agree(env, server, tmp_path):
    rel = full_release(VERSION, legacy=True)
    path = write(release_manifest(server, rel), tmp_path / "m.toml")
    result = install(env, "--manifest", str(path), "--version", "0.170.0")
    assert result.exit_code == 2
    assert result.stderr == (
        f"codex-install: error: --version 0.170.0 does not match the manifest {path}, "
        f"which pins Codex {VERSION}\n"
    )
    assert server.log == []


def _without_target(manifest: Manifest) -> str:
    return render_manifest(
        build_manifest(manifest.version, [a for a in manifest.assets if a.target != TARGET])
    )


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda m: render_manifest(m).replace("[[assets]]", "[[assets]", 1), "not valid TOML"),
        (
            lambda m: render_manifest(m).replace("schema = 1", "schema = 9"),
            "unsupported manifest schema 9; this codex-install reads schema 1",
        ),
        (_without_target, f"has no archive for {TARGET}; it covers aarch64-apple-darwin"),
    ],
    ids=["bad toml", "unknown schema", "missing target"],
)
def test_bad_manifest_exits_2_with_one_clear_line(env, server, tmp_path, mutate, message):
    rel = full_release(VERSION, legacy=True)
    path = tmp_path / "m.toml"
    path.write_text(mutate(release_manifest(server, rel)), encoding="utf-8")
    result = install(env, "--manifest", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith("codex-install: error: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert server.log == []


def test_manifest_of_npm_tarballs_only_cannot_be_served_by_github(env, server, tmp_path):
    tarballs = {TARGET: npm_tarball(VERSION, TARGET)}
    path = write(npm_manifest(server, tarballs), tmp_path / "m.toml")
    result = install(env, "--manifest", str(path), "--source", "github")
    assert result.exit_code == 2
    assert "pins only npm tarballs" in result.stderr and "--source npm" in result.stderr


# --- npm entries -----------------------------------------------------------------------------


def test_npm_entry_installs_from_its_url_and_checks_integrity(env, server, tmp_path):
    tarballs = publish_npm(server)
    path = write(npm_manifest(server, tarballs), tmp_path / "m.toml")
    result = install(env, "--manifest", str(path), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["source"], data["layout"]) == ("manifest", "package")
    assert data["sha256"] == sha256(tarballs[TARGET])
    release = Path(data["paths"]["release"])
    assert (release / "codex-path" / "rg").is_file() and not (release / "package").exists()
    assert metadata_requests(server) == []


def test_npm_entry_with_wrong_integrity_exits_5(env, server, tmp_path):
    tarballs = publish_npm(server)
    pinned = npm_manifest(server, {TARGET: tarballs[TARGET]})
    (asset,) = pinned.assets
    evil = npm_tarball(VERSION, TARGET, script=b"#!/bin/sh\necho evil\n")
    forged = ManifestAsset(
        asset.target,
        asset.layout,
        asset.name,
        asset.url,
        len(evil),
        sha256(evil),
        integrity=asset.integrity,
        npm_spec=asset.npm_spec,
    )
    server.add(npm_path(VERSION, TARGET), evil)
    result = install(
        env, "--manifest", str(write(build_manifest(VERSION, [forged]), tmp_path / "m.toml"))
    )
    assert result.exit_code == 5
    assert "sha512 integrity mismatch" in result.stderr
    assert installed(env) == []


def test_npm_source_checks_the_registry_integrity_before_download(npm_env, server, tmp_path):
    tarballs = publish_npm(server)
    pinned = npm_manifest(server, tarballs)
    path = write(pinned, tmp_path / "m.toml")
    result = install(npm_env, "--manifest", str(path), "--source", "npm", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["source"] == "npm"

    other = {t: npm_tarball(VERSION, t, script=b"#!/bin/sh\necho other\n") for t in ALL_TARGETS}
    publish_npm(server, tarballs=other)  # the registry now publishes other bytes
    server.log.clear()
    result = install(npm_env, "--manifest", str(path), "--source", "npm", "--force")
    assert result.exit_code == 5
    assert "npm registry integrity" in result.stderr
    assert archive_requests(server) == []


# --- --archive --manifest ----------------------------------------------------------------------


def test_local_archive_is_verified_against_the_manifest_entry_of_its_name(env, server, tmp_path):
    rel = full_release(VERSION, legacy=True)
    manifest = release_manifest(server, rel)
    path = write(manifest, tmp_path / "m.toml")
    name = f"codex-package-{TARGET}.tar.gz"
    archive = tmp_path / name
    archive.write_bytes(rel.files[name])
    result = install(env, "--archive", str(archive), "--manifest", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pinned_by"] == "manifest"
    assert server.log == []

    archive.write_bytes(rel.files[f"codex-package-{TARGET}.tar.zst"][:10] + rel.files[name][10:])
    result = install(env, "--archive", str(archive), "--manifest", str(path), "--force")
    assert result.exit_code == 5


def test_local_archive_not_in_the_manifest_exits_2(env, server, tmp_path):
    rel = full_release(VERSION, legacy=True)
    path = write(release_manifest(server, rel), tmp_path / "m.toml")
    archive = tmp_path / f"codex-package-{TARGET}.tar.xz"
    archive.write_bytes(b"x")
    result = install(env, "--archive", str(archive), "--manifest", str(path))
    assert result.exit_code == 2
    assert f"pins no archive named {archive.name}" in result.stderr


# --- shipped manifests -----------------------------------------------------------------------


@pytest.fixture
def shipped_env(env, tmp_path) -> dict[str, str]:
    """GitHub left at its default (shipped manifests pin the official release) and the
    shipped-manifest directory pointed at a test dir."""
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    out = {k: v for k, v in env.items() if k != "GITHUB_API_URL"}
    out["CODEX_INSTALL_MANIFEST_DIR"] = str(shipped)
    return out


def test_shipped_manifest_pins_a_versioned_install(shipped_env, server):
    rel = full_release(VERSION, legacy=True)
    rel.publish_github(server)
    shipped = Path(shipped_env["CODEX_INSTALL_MANIFEST_DIR"])
    write(release_manifest(server, rel), shipped / f"codex-{VERSION}.toml")
    result = install(shipped_env, "--version", VERSION, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["pinned_by"], data["source"]) == ("manifest", "manifest")
    assert data["manifest"] == {
        "file": f"{shipped}/codex-{VERSION}.toml",
        "shipped": True,
        "version": VERSION,
    }
    assert metadata_requests(server) == []
    assert "pinned to Codex 0.169.0 by the manifest" in result.stderr

    server.log.clear()
    again = install(shipped_env, "--version", VERSION, "--json")
    assert json.loads(again.stdout)["reused"] is True
    assert server.log == []


def test_shipped_npm_manifest_installs_through_the_npm_code_path(shipped_env, server):
    tarballs = publish_npm(server)
    shipped = Path(shipped_env["CODEX_INSTALL_MANIFEST_DIR"])
    write(npm_manifest(server, tarballs), shipped / f"codex-{VERSION}.toml")
    result = install(shipped_env, "--version", VERSION, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["pinned_by"], data["layout"]) == ("manifest", "package")
    assert archive_requests(server) == [npm_path(VERSION, TARGET)]


def _request(**kw: object) -> InstallRequest:
    sources = SourceOptions(
        source=kw.pop("source", "auto"),  # type: ignore[arg-type]
        github=GitHubConfig(api_url=kw.pop("api", DEFAULT_API_URL), repo=kw.pop("repo", REPO)),
        mirror=kw.pop("mirror", None),  # type: ignore[arg-type]
    )
    version = VersionSpec(kw.pop("version", VERSION))  # type: ignore[arg-type]
    return InstallRequest(
        version=version,
        target=kw.pop("target", TARGET),  # type: ignore[arg-type]
        sources=sources,
        **kw,
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("request_kw", "applies"),
    [
        ({}, True),
        ({"api": DEFAULT_API_URL + "/"}, True),
        ({"source": "npm"}, True),  # cross-checked against the configured registry
        ({"version": None}, False),  # latest
        ({"version": "0.168.0"}, False),  # nothing shipped for it
        ({"repo": "someone/fork"}, False),
        ({"api": "https://ghe.example/api/v3"}, False),
        ({"sha256": "ab" * 32}, False),
        ({"archive": Path("codex.tgz")}, False),
        ({"mirror": "https://mirror.example/codex"}, False),
        ({"source": "mirror", "mirror": "https://mirror.example/codex"}, False),
        ({"source": "github"}, False),  # an npm-only manifest has nothing GitHub serves
        ({"target": "aarch64-unknown-linux-gnu"}, False),  # not pinned for that target
    ],
    ids=lambda v: str(v),
)
def test_shipped_manifest_applies_only_to_a_plain_pinned_install(
    server, tmp_path, request_kw, applies
):
    write(
        npm_manifest(server, {TARGET: npm_tarball(VERSION, TARGET)}),
        tmp_path / f"codex-{VERSION}.toml",
    )
    pin = shipped_pin(_request(**request_kw), str(tmp_path))
    assert (pin is not None) == applies
    if pin is not None:
        assert (pin.shipped, pin.origin) == (True, f"{tmp_path}/codex-{VERSION}.toml")


def test_the_committed_manifest_is_what_install_pins_0_169_0_to() -> None:
    from codex_install.manifest import manifest_dirs, shipped_manifest

    assert manifest_dirs(None) is None
    manifest = shipped_manifest(VERSION)
    assert manifest is not None
    sel = preferred_asset(manifest, TARGET)
    assert sel.is_npm and sel.url == (
        "https://registry.npmjs.org/@openai/codex/-/codex-0.169.0-linux-x64.tgz"
    )


def _without_urls(manifest: Manifest) -> Manifest:
    return build_manifest(
        manifest.version,
        [
            ManifestAsset(
                a.target, a.layout, a.name, None, a.size, a.sha256, a.integrity, a.npm_spec
            )
            for a in manifest.assets
        ],
    )


def test_npm_entry_pinned_by_spec_only_installs_through_the_configured_registry(
    npm_env, server, tmp_path
):
    tarballs = publish_npm(server)
    path = write(_without_urls(npm_manifest(server, tarballs)), tmp_path / "m.toml")
    result = install(npm_env, "--manifest", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["source"] == "npm"
    assert archive_requests(server) == [npm_path(VERSION, TARGET)]


def test_npm_entry_pinned_by_spec_only_needs_a_registry(env, server, tmp_path):
    tarballs = {TARGET: npm_tarball(VERSION, TARGET)}
    path = write(_without_urls(npm_manifest(server, tarballs)), tmp_path / "m.toml")
    result = install({**env, "PATH": ""}, "--manifest", str(path))
    assert result.exit_code == 2
    assert "by npm_spec only" in result.stderr


def test_verify_finds_spec_only_npm_entries_on_the_configured_registry(npm_env, server, tmp_path):
    tarballs = publish_npm(server)
    path = write(_without_urls(npm_manifest(server, tarballs)), tmp_path / "m.toml")
    result = run(npm_env, "manifest", "verify", str(path))
    assert result.exit_code == 0, result.output
    assert sorted(archive_requests(server)) == sorted(npm_path(VERSION, t) for t in ALL_TARGETS)


def test_unreachable_host_of_a_shipped_manifest_falls_back_to_the_usual_sources(
    env, server, tmp_path
):
    """A shipped manifest speeds up and pins an install; it must not make a network that
    blocks its download host fail where an unpinned install would work."""
    from dataclasses import replace

    from codex_install.errors import NetworkError
    from codex_install.install import Hooks, install
    from codex_install.paths import resolve_paths

    rel = full_release(VERSION, legacy=True)
    rel.publish_github(server)
    dead = release_manifest(server, rel)
    dead_assets = tuple(
        replace(a, url=a.url.replace(server.url, "http://127.0.0.1:9")) for a in dead.assets
    )
    manifest = replace(dead, assets=dead_assets)
    request = replace(
        _request(api=server.url),
        manifest=manifest,
        manifest_optional=True,
    )
    notices: list[str] = []
    paths = resolve_paths(env)
    result = install(request, paths, Hooks(notice=notices.append, sleep=lambda _s: None))
    assert result.fell_back_from == "manifest"
    assert result.source == "github"
    assert any("unreachable" in n for n in notices)
    # an explicit --manifest never falls back
    with pytest.raises(NetworkError):
        install(
            replace(request, manifest_optional=False, force=True),
            paths,
            Hooks(sleep=lambda _s: None),
        )


def test_the_wheels_manifest_is_named_by_its_version_not_by_a_path(server) -> None:
    # manifests/codex-0.169.0.toml is package data: no such file is on the user's disk.
    pin = shipped_pin(_request(), None)
    assert pin is not None
    assert pin.origin == f"shipped for {VERSION}"
    assert pin.to_json()["file"] == f"manifests/codex-{VERSION}.toml"


def test_an_install_pinned_by_the_wheels_manifest_says_so_in_words(env, monkeypatch) -> None:
    from codex_install.http.retry import RetryPolicy

    monkeypatch.setattr(RetryPolicy, "delay", lambda self, attempt, retry_after=None: 0.0)
    wheel = {
        k: v for k, v in env.items() if k not in ("GITHUB_API_URL", "CODEX_INSTALL_MANIFEST_DIR")
    }
    # No network in tests: the pinned host is unreachable, and so is GitHub after it.
    result = install({**wheel, "PATH": "/nonexistent"}, "--version", VERSION)
    assert f"pinned to Codex {VERSION} by the manifest shipped for {VERSION}\n" in result.stderr
    assert "manifests/codex-" not in result.stderr
