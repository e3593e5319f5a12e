"""The npm source through the CLI against a fake npm registry on 127.0.0.1: installs,
retries, credentials, the --source auto fallback, resolve, and --archive with an npm tarball."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from builders import TARGET, package_release, sha256
from servers.fake_http import FakeHTTPServer
from sources.npm_helpers import (
    PACKUMENT,
    REPO,
    SECRET,
    FakeRegistry,
    closed_port,
    codex_version,
    install,
    npm_tarball,
    releases,
    run,
    sri512,
)

# --- installs through the CLI --------------------------------------------------------------


def test_latest_installs_from_npm_via_dist_tags(npm_env, server, registry):
    registry.publish("0.168.0", latest=False).publish("0.169.0")
    result = install(npm_env, "--source", "npm", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["version"], data["source"], data["layout"]) == ("0.169.0", "npm", "package")
    assert data["fell_back_from"] is None
    assert codex_version(npm_env) == "codex-cli 0.169.0"
    release = Path(data["paths"]["release"])
    assert (release / "codex-path" / "rg").is_file()
    assert (release / "codex-resources" / "bwrap").is_file()
    assert json.loads((release / "codex-package.json").read_text())["target"] == TARGET
    assert not (release / "package.json").exists()  # only package/vendor/<T>/ is installed
    packuments = server.requests_to(PACKUMENT)
    assert len(packuments) == 1
    assert packuments[0].headers["accept"].startswith("application/vnd.npm.install-v1+json")
    assert [r.path for r in server.log if r.path.endswith(".tgz")] == [
        registry.tarball_path("0.169.0-linux-x64")
    ]
    assert not any(r.path.startswith("/repos/") for r in server.log)


def test_pinned_version_installs_from_npm(npm_env, registry):
    registry.publish("0.168.0", latest=False).publish("0.169.0")
    result = install(npm_env, "--source", "npm", "--version", "v0.168.0")
    assert result.exit_code == 0, result.output
    assert codex_version(npm_env) == "codex-cli 0.168.0"


def test_registry_flag_and_scoped_registry_in_user_npmrc(env, server, home, registry):
    registry.publish("0.169.0")
    (home / ".npmrc").write_text(
        f"registry=http://127.0.0.1:1/unused/\n@openai:registry={registry.url}\n"
    )
    assert install(env, "--source", "npm").exit_code == 0
    (home / ".npmrc").write_text("@openai:registry=http://127.0.0.1:1/unused/\n")
    result = install(env, "--source", "npm", "--npm-registry", registry.url, "--force")
    assert result.exit_code == 0, result.output
    assert len(server.requests_to(PACKUMENT)) == 2


def test_integrity_mismatch_exits_5_and_installs_nothing(npm_env, registry):
    registry.publish("0.169.0", integrity=sri512(b"something else"))
    result = install(npm_env, "--source", "npm")
    assert result.exit_code == 5, result.output
    assert "integrity mismatch" in result.stderr
    assert releases(npm_env) == []
    assert not (Path(npm_env["CODEX_INSTALL_DIR"]) / "codex").exists()
    assert "Traceback" not in result.output


def test_sha1_fallback_installs_and_says_so(npm_env, registry):
    registry.publish("0.169.0", integrity=None)
    result = install(npm_env, "--source", "npm")
    assert result.exit_code == 0, result.output
    assert "sha1 shasum" in result.stderr
    assert codex_version(npm_env) == "codex-cli 0.169.0"


def test_sha1_fallback_still_catches_a_corrupted_tarball(npm_env, server, registry):
    registry.publish("0.169.0", integrity=None)
    server.fault(registry.tarball_path("0.169.0-linux-x64"), "flip:40")
    assert install(npm_env, "--source", "npm").exit_code == 5
    assert releases(npm_env) == []


def test_missing_platform_version_exits_3_naming_it(npm_env, registry):
    registry.publish("0.169.0", platforms=("darwin-arm64",))
    result = install(npm_env, "--source", "npm")
    assert result.exit_code == 3
    assert "@openai/codex@0.169.0-linux-x64 not found" in result.stderr


def test_malformed_packument_exits_4_without_traceback(npm_env, server):
    server.add(PACKUMENT, "<html>proxy login</html>")
    result = install(npm_env, "--source", "npm")
    assert result.exit_code == 4
    assert "malformed @openai/codex metadata" in result.stderr
    assert "Traceback" not in result.output


def test_transient_registry_errors_are_retried(npm_env, server, registry, fast_retries):
    registry.publish("0.169.0")
    server.fault(PACKUMENT, "503", "429:0")
    assert install(npm_env, "--source", "npm").exit_code == 0
    assert len(server.requests_to(PACKUMENT)) == 3


def test_unreachable_registry_exits_4(env, fast_retries):
    env = {**env, "NPM_CONFIG_REGISTRY": f"http://127.0.0.1:{closed_port()}/"}
    result = install(env, "--source", "npm")
    assert result.exit_code == 4
    assert "cannot fetch the @openai/codex metadata from the npm registry" in result.stderr


def test_sha256_pin_is_checked_on_top_of_the_integrity(npm_env, registry):
    registry.publish("0.169.0")
    assert install(npm_env, "--source", "npm", "--sha256", "d" * 64).exit_code == 5
    assert releases(npm_env) == []
    good = sha256(registry.tarballs["0.169.0-linux-x64"])
    assert install(npm_env, "--source", "npm", "--sha256", good).exit_code == 0


def test_username_and_password_from_npmrc_go_to_the_registry_as_basic_auth(
    env, server, home, registry
):
    import base64

    registry.publish("0.169.0")
    encoded = base64.b64encode(SECRET.encode()).decode()
    prefix = f"//127.0.0.1:{server.port}/npm/"
    (home / ".npmrc").write_text(
        f"registry={registry.url}\n{prefix}:username=ci\n{prefix}:_password={encoded}\n"
    )
    result = install(env, "--source", "npm", "--json")
    assert result.exit_code == 0, result.output
    want = "Basic " + base64.b64encode(f"ci:{SECRET}".encode()).decode()
    assert server.requests_to(PACKUMENT)[0].headers["authorization"] == want
    assert SECRET not in result.output and encoded not in result.output


def test_unknown_package_on_registry_exits_3(npm_env):
    result = install(npm_env, "--source", "npm")
    assert result.exit_code == 3
    assert "not found on the npm registry" in result.stderr


def test_auth_token_goes_to_the_registry_and_is_never_printed(env, server, home, registry):
    registry.publish("0.169.0")
    (home / ".npmrc").write_text(
        f"registry={registry.url}\n//127.0.0.1:{server.port}/npm/:_authToken=${{NPM_TOKEN}}\n"
    )
    env = {**env, "NPM_TOKEN": SECRET}
    result = install(env, "--source", "npm", "--json", "--verbose")
    assert result.exit_code == 0, result.output
    assert server.requests_to(PACKUMENT)[0].headers["authorization"] == f"Bearer {SECRET}"
    tgz = server.requests_to(registry.tarball_path("0.169.0-linux-x64"))
    assert tgz[0].headers["authorization"] == f"Bearer {SECRET}"
    assert SECRET not in result.output
    resolved = run(env, "resolve", "--source", "npm", "--target", TARGET, "--json")
    assert resolved.exit_code == 0 and SECRET not in resolved.output


def test_refused_token_is_reported_without_printing_it(env, server, home):
    server.add(PACKUMENT, '{"error": "unauthorized"}', status=401)
    (home / ".npmrc").write_text(
        f"registry={server.url}/npm/\n//127.0.0.1:{server.port}/:_authToken={SECRET}\n"
    )
    result = install(env, "--source", "npm")
    assert result.exit_code == 4
    assert "credentials were refused" in result.stderr
    assert SECRET not in result.output


def test_auth_token_is_not_sent_to_a_tarball_on_another_host(env, server, home):
    cdn = FakeHTTPServer().start()
    try:
        registry = FakeRegistry(server, tarball_host=cdn).publish("0.169.0")
        (home / ".npmrc").write_text(
            f"registry={registry.url}\n//127.0.0.1:{server.port}/:_authToken={SECRET}\n"
        )
        result = install(env, "--source", "npm")
        assert result.exit_code == 0, result.output
        assert server.requests_to(PACKUMENT)[0].headers["authorization"] == f"Bearer {SECRET}"
        assert cdn.log and all("authorization" not in r.headers for r in cdn.log)
    finally:
        cdn.stop()


def test_auth_token_is_dropped_when_the_registry_redirects_elsewhere(env, server, home):
    cdn = FakeHTTPServer().start()
    try:
        registry = FakeRegistry(server).publish("0.169.0")
        full = "0.169.0-linux-x64"
        cdn.add("/blob.tgz", registry.tarballs[full])
        server.redirect(registry.tarball_path(full), cdn.url + "/blob.tgz")
        (home / ".npmrc").write_text(
            f"registry={registry.url}\n//127.0.0.1:{server.port}/:_authToken={SECRET}\n"
        )
        assert install(env, "--source", "npm").exit_code == 0
        assert server.requests_to(registry.tarball_path(full))[0].headers["authorization"]
        assert "authorization" not in cdn.requests_to("/blob.tgz")[0].headers
    finally:
        cdn.stop()


# --- --source auto -------------------------------------------------------------------------


def test_auto_falls_back_to_npm_when_github_refuses_connections(npm_env, registry, fast_retries):
    registry.publish("0.169.0")
    env = {**npm_env, "GITHUB_API_URL": f"http://127.0.0.1:{closed_port()}"}
    result = install(env, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["source"], data["fell_back_from"]) == ("npm", "github")
    fallback_lines = [ln for ln in result.stderr.splitlines() if "falling back" in ln]
    assert len(fallback_lines) == 1 and "npm" in fallback_lines[0]
    assert codex_version(env) == "codex-cli 0.169.0"


def test_no_fallback_on_a_github_404(npm_env, server, registry):
    registry.publish("0.169.0")
    result = install(npm_env, "--version", "0.169.0")
    assert result.exit_code == 3
    assert "not found" in result.stderr
    assert server.requests_to(PACKUMENT) == []


def test_no_fallback_on_a_github_digest_mismatch(npm_env, server, registry):
    registry.publish("0.169.0")
    rel = package_release("0.169.0")
    rel.digests[f"codex-package-{TARGET}.tar.zst"] = "sha256:" + "0" * 64
    rel.publish_github(server)
    assert install(npm_env, "--version", "0.169.0").exit_code == 5
    assert server.requests_to(PACKUMENT) == []


def test_unreachable_github_without_any_npm_registry_is_exit_4(env, fast_retries):
    env = {**env, "GITHUB_API_URL": f"http://127.0.0.1:{closed_port()}", "PATH": "/nonexistent"}
    result = install(env, "--version", "0.169.0")
    assert result.exit_code == 4
    assert "falling back" not in result.stderr


# --- resolve -------------------------------------------------------------------------------


def resolve_json(env: dict[str, str], *args: str) -> dict[str, Any]:
    result = run(env, "resolve", "--target", TARGET, "--json", *args)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def no_archive_downloaded(server: FakeHTTPServer) -> bool:
    return not any(r.path.endswith((".tgz", ".tar.gz", ".tar.zst")) for r in server.log)


def test_resolve_json_for_github(env, server):
    rel = package_release("0.169.0")
    rel.publish_github(server)
    data = resolve_json(env, "--version", "0.169.0", "--source", "github")
    name = f"codex-package-{TARGET}.tar.zst"
    assert data == {
        "version": "0.169.0",
        "target": TARGET,
        "layout": "package",
        "asset": name,
        "url": f"{server.url}/{REPO}/releases/download/{rel.tag}/{name}",
        "size": len(rel.files[name]),
        "sha256": sha256(rel.files[name]),
        "integrity": None,
        "source": "github",
        "fell_back_from": None,
        "manifest": None,
    }
    assert no_archive_downloaded(server)


def test_resolve_json_for_a_mirror(env, server):
    rel = package_release("0.169.0")
    base = rel.publish_mirror(server)
    data = resolve_json(env, "--mirror", base)
    name = f"codex-package-{TARGET}.tar.zst"
    assert (data["source"], data["asset"], data["sha256"]) == (
        "mirror",
        name,
        sha256(rel.files[name]),
    )
    assert data["url"] == f"{server.url}/mirror/releases/0.169.0/{name}"
    assert no_archive_downloaded(server)


def test_resolve_json_for_npm(npm_env, server, registry):
    registry.publish("0.169.0")
    data = resolve_json(npm_env, "--source", "npm")
    full = "0.169.0-linux-x64"
    assert data == {
        "version": "0.169.0",
        "target": TARGET,
        "layout": "package",
        "asset": f"codex-{full}.tgz",
        "url": server.url + registry.tarball_path(full),
        "size": None,
        "sha256": None,
        "integrity": sri512(registry.tarballs[full]),
        "source": "npm",
        "fell_back_from": None,
        "manifest": None,
    }
    assert no_archive_downloaded(server)


def test_resolve_for_npm_fills_sha256_and_size_from_the_shipped_manifest(
    npm_env, server, registry, tmp_path
):
    from codex_install.manifest import build_manifest, write_manifest
    from codex_install.models import ManifestAsset

    registry.publish("0.169.0")
    full = "0.169.0-linux-x64"
    tgz = registry.tarballs[full]
    asset = ManifestAsset(
        target=TARGET,
        layout="package",
        name=f"codex-{full}.tgz",
        url=server.url + registry.tarball_path(full),
        size=len(tgz),
        sha256=sha256(tgz),
        integrity=sri512(tgz),
        npm_spec=f"@openai/codex@{full}",
    )
    shipped = tmp_path / "shipped"
    write_manifest(build_manifest("0.169.0", [asset]), shipped / "codex-0.169.0.toml")
    env = {**npm_env, "CODEX_INSTALL_MANIFEST_DIR": str(shipped)}
    data = resolve_json(env, "--source", "npm", "--version", "0.169.0")
    assert (data["sha256"], data["size"]) == (sha256(tgz), len(tgz))
    assert data["manifest"].endswith("codex-0.169.0.toml")
    assert no_archive_downloaded(server)


def test_resolve_falls_back_too(npm_env, registry, fast_retries):
    registry.publish("0.169.0")
    env = {**npm_env, "GITHUB_API_URL": f"http://127.0.0.1:{closed_port()}"}
    data = resolve_json(env)
    assert (data["source"], data["fell_back_from"]) == ("npm", "github")


def test_resolve_text_prints_the_integrity(npm_env, registry):
    registry.publish("0.169.0")
    result = run(npm_env, "resolve", "--source", "npm", "--target", TARGET)
    assert result.exit_code == 0, result.output
    assert f"integrity: {sri512(registry.tarballs['0.169.0-linux-x64'])}" in result.stdout


# --- --archive with an npm tarball ---------------------------------------------------------


@pytest.fixture
def npm_tgz(tmp_path: Path) -> Iterator[tuple[Path, bytes]]:
    data = npm_tarball("0.169.0")
    path = tmp_path / "codex-0.169.0-linux-x64.tgz"
    path.write_bytes(data)
    yield path, data


def test_archive_accepts_an_npm_platform_tarball(env, server, npm_tgz):
    path, data = npm_tgz
    result = install(env, "--archive", str(path), "--sha256", sha256(data), "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["source"], out["version"], out["layout"]) == ("archive", "0.169.0", "package")
    assert codex_version(env) == "codex-cli 0.169.0"
    assert (Path(out["paths"]["release"]) / "codex-path" / "rg").is_file()
    assert server.log == []  # no network at all


def test_archive_npm_tarball_with_the_wrong_sha256_exits_5(env, npm_tgz):
    path, _ = npm_tgz
    result = install(env, "--archive", str(path), "--sha256", "c" * 64)
    assert result.exit_code == 5
    assert releases(env) == []


def test_archive_npm_tarball_for_another_target_is_refused(env, tmp_path):
    data = npm_tarball("0.169.0", "aarch64-apple-darwin", "darwin-arm64")
    path = tmp_path / "codex-0.169.0-darwin-arm64.tgz"
    path.write_bytes(data)
    result = install(env, "--archive", str(path), "--sha256", sha256(data))
    assert result.exit_code == 5
    assert releases(env) == []
