"""End-to-end installs through the CLI against the fake GitHub API and mirror on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from builders import (
    TARGET,
    FakeRelease,
    codex_script,
    gz,
    legacy_tar,
    package_release,
    package_tar,
    sha256,
)
from cli_helpers import REPO, asset_path, codex_version, current, install, run
from servers.fake_http import FakeHTTPServer

# --- happy paths ---------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["0.169.0", "v0.169.0", "rust-v0.169.0"])
def test_pinned_version_in_every_spelling_installs(env, server, spelling):
    package_release("0.169.0").publish_github(server)
    result = install(env, "--version", spelling)
    assert result.exit_code == 0, result.output
    assert codex_version(env) == "codex-cli 0.169.0"
    assert current(env) == f"releases/0.169.0-{TARGET}"


def test_latest_installs_the_release_github_calls_latest(env, server):
    package_release("0.170.0").publish_github(server)
    result = install(env, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["version"] == "0.170.0"
    assert [r.path for r in server.log if r.path.startswith("/repos/")] == [
        f"/repos/{REPO}/releases/latest"
    ]


@pytest.mark.parametrize(
    ("formats", "legacy", "want_asset", "want_layout"),
    [
        (("tar.zst", "tar.gz"), True, f"codex-package-{TARGET}.tar.zst", "package"),
        (("tar.gz",), True, f"codex-package-{TARGET}.tar.gz", "package"),
        ((), True, f"codex-{TARGET}.tar.gz", "legacy"),
    ],
)
def test_preferred_layout_is_downloaded_and_installed(
    env, server, formats, legacy, want_asset, want_layout
):
    rel = package_release("0.169.0", formats=formats, legacy=legacy)
    rel.publish_github(server)
    result = install(env, "--version", "0.169.0", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["layout"] == want_layout
    assert data["sha256"] == sha256(rel.files[want_asset])
    downloads = [r.path for r in server.log if "/releases/download/" in r.path]
    assert asset_path(rel, want_asset) in downloads
    release = Path(data["paths"]["release"])
    assert (release / "bin" / "codex").is_file()
    assert json.loads((release / "codex-package.json").read_text())["version"] == "0.169.0"
    if want_layout == "package":
        assert (release / "codex-path" / "rg").is_file()
    assert codex_version(env) == "codex-cli 0.169.0"


def test_json_output_shape(env, server):
    package_release("0.169.0").publish_github(server)
    result = install(env, "--version", "0.169.0", "--json")
    data = json.loads(result.stdout)
    assert {
        "version",
        "target",
        "layout",
        "source",
        "sha256",
        "paths",
        "timings",
        "sign_in",
        "ok",
        "reused",
    } <= set(data)
    assert data["source"] == "github"
    assert data["target"] == TARGET
    assert data["sign_in"]["state"] == "skipped"
    assert data["paths"]["bin"].endswith("/bin/codex")


def test_mirror_source_installs_with_relative_urls(env, server):
    rel = package_release("0.169.0")
    base = rel.publish_mirror(server)
    result = install(env, "--mirror", base, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["source"] == "mirror" and data["version"] == "0.169.0"
    assert not any(r.path.startswith("/repos/") for r in server.log)


def test_mirror_pinned_version_and_env_variable(env, server):
    rel = package_release("0.168.0")
    base = rel.publish_mirror(server, latest=False)
    env = {**env, "CODEX_INSTALL_MIRROR": base}
    result = install(env, "--version", "0.168.0")
    assert result.exit_code == 0, result.output
    assert codex_version(env) == "codex-cli 0.168.0"


def test_a_mirror_failure_names_the_file_that_failed(env, server):
    server.add("/mirror/channels/latest", "denied", status=403)
    result = install(env, "--mirror", server.url + "/mirror")
    assert result.exit_code == 4
    assert "cannot fetch channels/latest from mirror" in result.stderr  # no release.json asked


def test_file_url_mirror_installs_offline(env, tmp_path):
    rel = package_release("0.169.0")
    root = tmp_path / "mirror"
    (root / "releases/0.169.0").mkdir(parents=True)
    (root / "channels").mkdir()
    for name, data in rel.files.items():
        (root / "releases/0.169.0" / name).write_bytes(data)
    (root / "releases/0.169.0/release.json").write_text(
        json.dumps(rel.release_json({n: n for n in rel.files}))
    )
    (root / "channels/latest").write_text(
        json.dumps(rel.release_json({n: f"../releases/0.169.0/{n}" for n in rel.files}))
    )
    result = install(env, "--mirror", root.as_uri())
    assert result.exit_code == 0, result.output
    assert codex_version(env) == "codex-cli 0.169.0"


def test_reinstall_of_installed_version_downloads_nothing(env, server):
    package_release("0.169.0").publish_github(server)
    assert install(env, "--version", "0.169.0").exit_code == 0
    before = len(server.log)
    result = install(env, "--version", "0.169.0", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["reused"] is True
    assert len(server.log) == before  # not even a metadata request


def test_force_reinstalls(env, server):
    rel = package_release("0.169.0")
    rel.publish_github(server)
    install(env, "--version", "0.169.0")
    result = install(env, "--version", "0.169.0", "--force", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reused"] is False


def test_prerelease_version_installs(env, server):
    package_release("0.170.0-alpha.2").publish_github(server, latest=False)
    result = install(env, "--version", "0.170.0-alpha.2")
    assert result.exit_code == 0, result.output
    assert codex_version(env) == "codex-cli 0.170.0-alpha.2"


def test_bare_command_with_version_option_installs(env, server):
    package_release("0.169.0").publish_github(server)
    result = run(env, "--version", "0.169.0", "--no-login", "--target", TARGET, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["version"] == "0.169.0"


def test_version_flag_alone_prints_tool_version(env):
    result = run(env, "--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("codex-install ")


# --- verification failures: exit 5, nothing installed, previous install intact ---------------


def _install_old(env, server):
    package_release("0.168.0").publish_github(server, latest=False)
    assert install(env, "--version", "0.168.0").exit_code == 0
    assert codex_version(env) == "codex-cli 0.168.0"


def _assert_intact(env):
    assert codex_version(env) == "codex-cli 0.168.0"
    releases = Path(env["CODEX_HOME"]) / "packages/standalone/releases"
    assert sorted(p.name for p in releases.iterdir()) == [f"0.168.0-{TARGET}"]


def test_archive_digest_mismatch_exits_5_and_keeps_previous(env, server):
    _install_old(env, server)
    rel = package_release("0.169.0")
    rel.digests[f"codex-package-{TARGET}.tar.zst"] = "sha256:" + "0" * 64
    rel.publish_github(server)
    result = install(env, "--version", "0.169.0")
    assert result.exit_code == 5
    assert "codex-package_SHA256SUMS says" in result.stderr or "sha256" in result.stderr
    _assert_intact(env)


def test_sums_file_with_wrong_entry_exits_5(env, server):
    _install_old(env, server)
    rel = package_release("0.169.0", legacy=False)
    name = f"codex-package-{TARGET}.tar.zst"
    rel.files["codex-package_SHA256SUMS"] = (
        rel.sums_text().replace(sha256(rel.files[name]), "f" * 64).encode()
    )
    rel.publish_github(server)
    result = install(env, "--version", "0.169.0")
    assert result.exit_code == 5, result.output
    _assert_intact(env)


def test_sums_file_not_matching_its_digest_exits_5(env, server):
    _install_old(env, server)
    rel = package_release("0.169.0")
    rel.digests["codex-package_SHA256SUMS"] = "sha256:" + "1" * 64
    rel.publish_github(server)
    result = install(env, "--version", "0.169.0")
    assert result.exit_code == 5
    assert "SHA256SUMS" in result.stderr
    _assert_intact(env)


def test_bytes_flipped_in_transit_exit_5(env, server):
    _install_old(env, server)
    rel = package_release("0.169.0", formats=("tar.gz",))
    rel.publish_github(server)
    name = f"codex-package-{TARGET}.tar.gz"
    server.fault(asset_path(rel, name), "flip:200")
    result = install(env, "--version", "0.169.0")
    assert result.exit_code == 5, result.output
    _assert_intact(env)


def test_html_error_page_with_status_200_exits_5(env, server):
    _install_old(env, server)
    rel = package_release("0.169.0")
    rel.omit_sizes = True
    rel.publish_github(server)
    server.fault(asset_path(rel, f"codex-package-{TARGET}.tar.zst"), "html")
    result = install(env, "--version", "0.169.0")
    assert result.exit_code == 5
    assert "HTML" in result.stderr
    _assert_intact(env)


def test_legacy_archive_digest_mismatch_exits_5(env, server):
    _install_old(env, server)
    rel = package_release("0.169.0", formats=())
    rel.digests[f"codex-{TARGET}.tar.gz"] = "sha256:" + "2" * 64
    rel.publish_github(server)
    assert install(env, "--version", "0.169.0").exit_code == 5
    _assert_intact(env)


def test_smoke_test_failure_exits_5(env, server):
    _install_old(env, server)
    package_release("0.169.0", script=b"#!/bin/sh\necho 'codex-cli 9.9.9'\n").publish_github(server)
    result = install(env, "--version", "0.169.0")
    assert result.exit_code == 5
    assert "smoke test" in result.stderr
    _assert_intact(env)


@pytest.mark.slow
def test_truncated_download_that_never_completes_exits_5(env, server):
    _install_old(env, server)
    rel = package_release("0.169.0", formats=("tar.gz",))
    rel.publish_github(server)
    path = asset_path(rel, f"codex-package-{TARGET}.tar.gz")
    server.fault(path, *(["drop:100"] * 10))
    result = install(env, "--version", "0.169.0")
    # every attempt delivers 100 more bytes via Range; the archive is small, so this may even
    # succeed — what matters is that a failure is exit 4/5 and the old install survives
    assert result.exit_code in (0, 4, 5), result.output
    if result.exit_code:
        _assert_intact(env)


# --- network behaviour ---------------------------------------------------------------------


def test_dropped_connection_resumes_with_range(env, server):
    rel = package_release("0.169.0", formats=("tar.gz",))
    rel.publish_github(server)
    path = asset_path(rel, f"codex-package-{TARGET}.tar.gz")
    server.fault(path, "drop:150")
    result = install(env, "--version", "0.169.0")
    assert result.exit_code == 0, result.output
    reqs = server.requests_to(path)
    assert len(reqs) == 2
    assert "range" not in reqs[0].headers
    assert reqs[1].headers["range"] == "bytes=150-"


def test_server_ignoring_range_still_gives_a_clean_stream(env, server):
    rel = package_release("0.169.0", formats=("tar.gz",))
    rel.publish_github(server)
    path = asset_path(rel, f"codex-package-{TARGET}.tar.gz")
    server.fault(path, "drop:150", "norange")
    assert install(env, "--version", "0.169.0").exit_code == 0
    assert codex_version(env) == "codex-cli 0.169.0"


@pytest.mark.slow
def test_5xx_then_success_is_retried(env, server):
    rel = package_release("0.169.0")
    rel.publish_github(server)
    server.fault(f"/repos/{REPO}/releases/tags/{rel.tag}", "503")
    server.fault(asset_path(rel, f"codex-package-{TARGET}.tar.zst"), "500", "502", "429:0")
    result = install(env, "--version", "0.169.0")
    assert result.exit_code == 0, result.output
    assert len(server.requests_to(asset_path(rel, f"codex-package-{TARGET}.tar.zst"))) == 4


@pytest.mark.slow
def test_5xx_storm_exhausts_retries_with_exit_4(env, server):
    rel = package_release("0.169.0")
    rel.publish_github(server)
    server.fault(f"/repos/{REPO}/releases/tags/{rel.tag}", *(["500"] * 10))
    result = install(env, "--version", "0.169.0")
    assert result.exit_code == 4
    assert "HTTP 500" in result.stderr


def test_missing_release_is_exit_3_without_retries(env, server):
    result = install(env, "--version", "9.9.9")
    assert result.exit_code == 3
    assert "rust-v9.9.9 not found" in result.stderr
    assert len(server.requests_to(f"/repos/{REPO}/releases/tags/rust-v9.9.9")) == 1


def test_missing_asset_for_target_is_exit_3(env, server):
    package_release("0.169.0", target="aarch64-apple-darwin").publish_github(server)
    result = install(env, "--version", "0.169.0")
    assert result.exit_code == 3
    assert TARGET in result.stderr


def test_rate_limit_is_reported_with_reset_time_and_token_hint(env, server):
    server.add(
        f"/repos/{REPO}/releases/latest",
        '{"message": "API rate limit exceeded"}',
        status=403,
        x_ratelimit_remaining="0",
        x_ratelimit_reset="1900000000",
    )
    result = install(env)
    assert result.exit_code == 4
    assert "rate limit" in result.stderr
    assert "resets at" in result.stderr
    assert "GITHUB_TOKEN" in result.stderr
    assert "not found" not in result.stderr


def test_github_token_goes_to_api_host_only_and_is_never_printed(env, server):
    cdn = FakeHTTPServer().start()
    try:
        rel = package_release("0.169.0")
        # the API answers with download URLs on another host, like github.com → CDN
        urls = {}
        for name, data in rel.files.items():
            cdn.add(f"/dl/{name}", data)
            urls[name] = f"{cdn.url}/dl/{name}"
        server.add(f"/repos/{REPO}/releases/tags/{rel.tag}", json.dumps(rel.release_json(urls)))
        secret = "ghp_supersecrettokenvalue123"
        result = install(
            {**env, "GITHUB_TOKEN": secret}, "--version", "0.169.0", "--json", "--verbose"
        )
        assert result.exit_code == 0, result.output
        api = server.requests_to(f"/repos/{REPO}/releases/tags/{rel.tag}")
        assert api[0].headers["authorization"] == f"Bearer {secret}"
        assert all("authorization" not in r.headers for r in cdn.log)
        assert secret not in result.output
    finally:
        cdn.stop()


def test_unreachable_github_is_exit_4(env):
    env = {**env, "GITHUB_API_URL": "http://127.0.0.1:9"}
    result = install(env, "--version", "0.169.0", "--source", "github")
    assert result.exit_code == 4
    assert "cannot" in result.stderr


@pytest.fixture
def tls_server(tmp_path: Path):
    from servers.tls import tls_server

    with tls_server(tmp_path) as srv:
        yield srv


def test_ssl_cert_file_is_trusted_for_the_api_and_the_downloads(env, tls_server, monkeypatch):
    # SPEC §4: behind a TLS-inspecting proxy SSL_CERT_FILE names the CA; the GitHub API call
    # (requests) must honour it as well as the downloads (httpx).
    srv, cert = tls_server
    package_release("0.169.0").publish_github(srv)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # httpx reads the process environment
    env = {**env, "GITHUB_API_URL": srv.url, "SSL_CERT_FILE": str(cert)}
    result = install(env, "--version", "0.169.0", "--source", "github")
    assert result.exit_code == 0, result.output
    assert codex_version(env) == "codex-cli 0.169.0"


def test_a_corrupt_metadata_cache_does_not_stop_an_install(env, server):
    # The cache only saves API requests; a killed writer or a full disk must not turn every
    # later install into "unexpected DatabaseError".
    rel = package_release("0.169.0")
    rel.publish_github(server)
    cache = Path(env["CODEX_INSTALL_CACHE_DIR"]) / "metadata.sqlite"
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"not a database\n")
    result = install(env, "--version", "0.169.0")
    assert result.exit_code == 0, result.output
    assert cache.read_bytes().startswith(b"SQLite format 3")  # rebuilt, so caching goes on


def test_a_metadata_cache_with_broken_pages_does_not_stop_an_install(env, server):
    rel = package_release("0.169.0")
    rel.publish_github(server)
    assert install(env, "--version", "0.169.0").exit_code == 0
    cache = Path(env["CODEX_INSTALL_CACHE_DIR"]) / "metadata.sqlite"
    data = bytearray(cache.read_bytes())
    data[4096:] = b"\xab" * (len(data) - 4096)  # the header survives, the pages do not
    cache.write_bytes(bytes(data))
    result = install(env, "--version", "0.169.0", "--force")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("bypass", [False, True])
def test_proxy_variables_are_honoured_by_the_api_call_and_the_downloads(env, monkeypatch, bypass):
    # SPEC §4: the GitHub API call (requests) and the SUMS/archive downloads (httpx) both go
    # through HTTP_PROXY; NO_PROXY sends them direct (to a host that does not resolve here).
    origin = "http://codex.example.invalid"
    proxy = FakeHTTPServer().start()
    try:
        rel = package_release("0.169.0")
        urls = {name: f"{origin}/dl/{name}" for name in rel.files}
        for name, data in rel.files.items():
            proxy.add(urls[name], data)
        proxy.add(
            f"{origin}/repos/{REPO}/releases/tags/{rel.tag}", json.dumps(rel.release_json(urls))
        )
        for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "codex.example.invalid" if bypass else "localhost")
        env = {**env, "GITHUB_API_URL": origin}
        result = install(env, "--version", "0.169.0", "--source", "github")
        if bypass:
            assert result.exit_code == 4
            assert proxy.log == []
            return
        assert result.exit_code == 0, result.output
        assert codex_version(env) == "codex-cli 0.169.0"
        asked = {r.path for r in proxy.log}
        assert f"{origin}/repos/{REPO}/releases/tags/{rel.tag}" in asked
        assert f"{origin}/dl/codex-package_SHA256SUMS" in asked
        assert f"{origin}/dl/codex-package-{TARGET}.tar.zst" in asked
    finally:
        proxy.stop()


def test_malformed_release_json_is_a_clean_error(env, server):
    server.add(f"/repos/{REPO}/releases/latest", "<html>oops</html>")
    result = install(env)
    assert result.exit_code == 4
    assert "malformed JSON" in result.stderr
    assert "Traceback" not in result.output


def test_metadata_is_revalidated_with_etag(env, server):
    rel = package_release("0.169.0")
    rel.publish_github(server)
    assert install(env).exit_code == 0
    assert install(env).exit_code == 0
    reqs = server.requests_to(f"/repos/{REPO}/releases/latest")
    assert len(reqs) == 2
    assert "if-none-match" in reqs[1].headers


# --- hostile archives ----------------------------------------------------------------------


def _hostile(name: str, kind: str) -> bytes:
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        good = tarfile.TarInfo("bin/codex")
        script = b'#!/bin/sh\necho "codex-cli 0.169.0"\n'
        good.size = len(script)
        good.mode = 0o755
        tf.addfile(good, io.BytesIO(script))
        bad = tarfile.TarInfo(name)
        if kind == "file":
            bad.size = 3
            tf.addfile(bad, io.BytesIO(b"bad"))
        elif kind == "symlink":
            bad.type = tarfile.SYMTYPE
            bad.linkname = "/etc/passwd"
            tf.addfile(bad)
        elif kind == "hardlink":
            bad.type = tarfile.LNKTYPE
            bad.linkname = "../../outside"
            tf.addfile(bad)
        elif kind == "device":
            bad.type = tarfile.CHRTYPE
            bad.devmajor, bad.devminor = 1, 3
            tf.addfile(bad)
        elif kind == "duplicate":
            bad.size = len(script)
            tf.addfile(bad, io.BytesIO(script))
    return buf.getvalue()


@pytest.mark.parametrize(
    ("entry", "kind"),
    [
        ("/tmp/evil", "file"),
        ("bin/../../evil", "file"),
        ("codex-resources/link", "symlink"),
        ("codex-resources/hard", "hardlink"),
        ("codex-resources/null", "device"),
        ("bin/codex", "duplicate"),
    ],
)
def test_hostile_archive_is_refused_with_exit_5(env, server, tmp_path, entry, kind):
    rel = FakeRelease("0.169.0")
    rel.files[f"codex-package-{TARGET}.tar.gz"] = gz(_hostile(entry, kind))
    rel.with_sums().publish_github(server)
    result = install(env, "--version", "0.169.0")
    assert result.exit_code == 5, result.output
    assert not (tmp_path / "evil").exists()
    releases = Path(env["CODEX_HOME"]) / "packages/standalone/releases"
    assert not releases.exists() or list(releases.iterdir()) == []


# --- local archives ------------------------------------------------------------------------


def test_local_archive_with_sha256_installs_offline(env, tmp_path):
    data = gz(package_tar("0.169.0"))
    archive = tmp_path / f"codex-package-{TARGET}.tar.gz"
    archive.write_bytes(data)
    result = install(env, "--archive", str(archive), "--sha256", sha256(data), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["source"] == "archive"
    assert codex_version(env) == "codex-cli 0.169.0"


@pytest.mark.parametrize(
    ("package_json", "says"),
    [
        ({"version": "../../../evil"}, "which is no Codex version"),
        ({"version": "latest"}, "which is no Codex version"),
        ({"version": "v0.169.0"}, "which is no Codex version"),
        ({"version": 169}, "which is no Codex version"),
        ({"entrypoint": "/bin/sh"}, "entrypoint '/bin/sh': not a relative path"),
        ({"pathDir": "../../.ssh"}, "pathDir '../../.ssh': not a relative path"),
        ({"resourcesDir": ["x"]}, "resourcesDir ['x']: not a relative path"),
    ],
)
def test_a_local_archive_must_say_a_valid_version_and_paths_inside_it(
    env, tmp_path, package_json, says
):
    data = gz(package_tar("0.169.0", package_json=package_json))
    archive = tmp_path / f"codex-package-{TARGET}.tar.gz"
    archive.write_bytes(data)
    result = install(env, "--archive", str(archive), "--sha256", sha256(data))
    assert result.exit_code == 5, result.output
    assert says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    releases = Path(env["CODEX_HOME"]) / "packages/standalone/releases"
    assert not releases.exists() or list(releases.iterdir()) == []


@pytest.mark.parametrize("source", ["github", "mirror"])
@pytest.mark.parametrize("scheme_url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "data:,x"])
def test_remote_metadata_cannot_point_a_download_at_the_local_disk(env, server, source, scheme_url):
    rel = package_release("0.169.0")
    urls = {name: scheme_url for name in rel.files}
    body = json.dumps(rel.release_json(urls))
    server.add(f"/repos/{REPO}/releases/tags/{rel.tag}", body)
    server.add(f"/mirror/releases/{rel.version}/release.json", body)
    args = ["--source", "mirror", "--mirror", f"{server.url}/mirror"] if source == "mirror" else []
    result = install(env, "--version", "0.169.0", *args)
    assert result.exit_code == 4, result.output
    assert "download URL; only http or https may come from there" in result.stderr
    assert current_or_none(env) is None


def test_the_smoke_test_sees_no_token_or_api_key(env, tmp_path, monkeypatch):
    seen = tmp_path / "smoke-env"
    script = codex_script("0.169.0", extra=f"env > {seen}\n")
    data = gz(package_tar("0.169.0", script=script))
    archive = tmp_path / f"codex-package-{TARGET}.tar.gz"
    archive.write_bytes(data)
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "NPM_TOKEN", "OPENAI_API_KEY", "CODEX_API_KEY"):
        monkeypatch.setenv(name, "s3cret-" + name)
    result = install(env, "--archive", str(archive), "--sha256", sha256(data))
    assert result.exit_code == 0, result.output
    smoke_env = seen.read_text()
    assert "PATH=" in smoke_env and "s3cret-" not in smoke_env


def current_or_none(env: dict[str, str]) -> str | None:
    try:
        return current(env)
    except OSError:
        return None


def test_local_legacy_archive_needs_version_and_is_renamed(env, tmp_path):
    data = gz(legacy_tar("0.169.0"))
    archive = tmp_path / f"codex-{TARGET}.tar.gz"
    archive.write_bytes(data)
    assert install(env, "--archive", str(archive), "--sha256", sha256(data)).exit_code == 2
    result = install(
        env, "--archive", str(archive), "--sha256", sha256(data), "--version", "0.169.0"
    )
    assert result.exit_code == 0, result.output
    assert codex_version(env) == "codex-cli 0.169.0"


def test_local_archive_wrong_sha256_exits_5(env, tmp_path):
    data = gz(package_tar("0.169.0"))
    archive = tmp_path / f"codex-package-{TARGET}.tar.gz"
    archive.write_bytes(data)
    result = install(env, "--archive", str(archive), "--sha256", "a" * 64)
    assert result.exit_code == 5
    assert not (Path(env["CODEX_HOME"]) / "packages/standalone/current").exists()


def test_sha256_pin_overrides_remote_digest_and_must_match(env, server):
    rel = package_release("0.169.0")
    rel.publish_github(server)
    assert install(env, "--version", "0.169.0", "--sha256", "b" * 64).exit_code == 5
    good = sha256(rel.files[f"codex-package-{TARGET}.tar.zst"])
    assert install(env, "--version", "0.169.0", "--sha256", good).exit_code == 0


# --- usage errors --------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["1", "rust-1.2.3", "v1.2.3-rc.1", "latest!", "1.2.3.4"])
def test_bad_version_string_is_exit_2(env, bad):
    result = install(env, "--version", bad)
    assert result.exit_code == 2
    assert "invalid version" in result.stderr


def test_unknown_target_is_exit_6(env):
    result = run(env, "install", "--no-login", "--target", "riscv64-unknown-linux-gnu")
    assert result.exit_code == 6


# --- list / use / uninstall ----------------------------------------------------------------


def test_relative_codex_home_and_bin_dir_give_a_working_link(env, server, tmp_path, monkeypatch):
    # `--codex-home ch --bin-dir b` must not leave b/codex -> ch/... (relative to b/: nowhere).
    package_release("0.169.0").publish_github(server)
    monkeypatch.chdir(tmp_path)
    result = install(env, "--version", "0.169.0", "--codex-home", "ch", "--bin-dir", "b")
    assert result.exit_code == 0, result.output
    out = subprocess.run(
        [str(tmp_path / "b" / "codex"), "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "codex-cli 0.169.0"
    assert "0.169.0" in run({**env, "CODEX_HOME": "ch"}, "list").stdout


def test_a_link_to_an_npm_codex_in_the_bin_dir_is_not_hijacked(env, server, tmp_path):
    # e.g. --bin-dir /usr/local/bin where npm -g put its codex: replace it only with --force.
    rel = package_release("0.169.0")
    rel.publish_github(server)
    npm_codex = tmp_path / "lib/node_modules/@openai/codex/bin/codex.js"
    npm_codex.parent.mkdir(parents=True)
    npm_codex.write_text("#!/bin/sh\n")
    link = Path(env["CODEX_INSTALL_DIR"]) / "codex"
    link.parent.mkdir(parents=True)
    link.symlink_to(npm_codex)
    result = install(env, "--version", "0.169.0")
    assert result.exit_code == 7
    assert "npm uninstall -g @openai/codex" in result.stderr and "--force" in result.stderr
    assert link.resolve() == npm_codex.resolve()
    assert server.count(f"/{REPO}/releases/download/") == 0  # refused before any download
    assert install(env, "--version", "0.169.0", "--force").exit_code == 0
    assert codex_version(env) == "codex-cli 0.169.0"


def test_a_dangling_or_standalone_link_in_the_bin_dir_is_simply_replaced(env, server, tmp_path):
    package_release("0.169.0").publish_github(server)
    link = Path(env["CODEX_INSTALL_DIR"]) / "codex"
    link.parent.mkdir(parents=True)
    link.symlink_to(tmp_path / "gone")
    assert install(env, "--version", "0.169.0").exit_code == 0
    other_home = tmp_path / "other/.codex/packages/standalone/current/bin/codex"
    other_home.parent.mkdir(parents=True)
    other_home.write_text("#!/bin/sh\n")
    link.unlink()
    link.symlink_to(other_home)  # what Codex's own installer makes
    assert install(env, "--version", "0.169.0").exit_code == 0
    assert codex_version(env) == "codex-cli 0.169.0"


def test_path_hint_and_github_path(env, server, tmp_path):
    package_release("0.169.0").publish_github(server)
    gh_path = tmp_path / "github_path"
    result = install({**env, "GITHUB_PATH": str(gh_path)}, "--version", "0.169.0")
    assert result.exit_code == 0
    assert gh_path.read_text() == env["CODEX_INSTALL_DIR"] + "\n"
    assert "is not on your PATH" in result.stderr


def test_in_github_actions_no_shell_profile_advice_is_given(env, server, tmp_path):
    package_release("0.169.0").publish_github(server)
    gh_path = tmp_path / "github_path"
    env = {**env, "GITHUB_PATH": str(gh_path)}
    for _ in range(2):  # the second run finds the bin dir in GITHUB_PATH already
        result = install(env, "--version", "0.169.0")
        assert result.exit_code == 0
        assert "later steps get it from GITHUB_PATH" in result.stderr
        assert "--modify-path" not in result.stderr and "export PATH" not in result.stderr
    assert gh_path.read_text() == env["CODEX_INSTALL_DIR"] + "\n"


def test_a_codex_on_path_while_ours_is_not_is_not_said_to_come_first(env, server, tmp_path):
    package_release("0.169.0").publish_github(server)
    npm_bin = tmp_path / "node_modules" / ".bin"
    npm_bin.mkdir(parents=True)
    (npm_bin / "codex").write_text("#!/bin/sh\n")
    (npm_bin / "codex").chmod(0o755)
    result = install({**env, "PATH": f"{npm_bin}:/usr/bin:/bin"}, "--version", "0.169.0")
    assert f"another codex at {npm_bin / 'codex'} (installed by npm) is on PATH;" in result.stderr


def test_modify_path_appends_marked_block_once(env, server, home):
    package_release("0.169.0").publish_github(server)
    env = {**env, "SHELL": "/bin/zsh"}
    install(env, "--version", "0.169.0", "--modify-path")
    install(env, "--version", "0.169.0", "--modify-path")
    text = (home / ".zshrc").read_text()
    assert text.count("# >>> codex-install >>>") == 1
    assert env["CODEX_INSTALL_DIR"] in text


def test_conflicting_codex_earlier_on_path_is_named(env, server, tmp_path):
    package_release("0.169.0").publish_github(server)
    npm_bin = tmp_path / "node_modules" / ".bin"
    npm_bin.mkdir(parents=True)
    (npm_bin / "codex").write_text("#!/bin/sh\n")
    (npm_bin / "codex").chmod(0o755)
    env = {**env, "PATH": f"{npm_bin}:{env['CODEX_INSTALL_DIR']}:{env['PATH']}"}
    result = install(env, "--version", "0.169.0")
    assert "npm uninstall -g @openai/codex" in result.stderr


# --- concurrency ---------------------------------------------------------------------------


def test_two_concurrent_installs_serialise_on_the_lock(env, server):
    package_release("0.169.0").publish_github(server)
    cmd = [
        sys.executable,
        "-m",
        "codex_install",
        "install",
        "--no-login",
        "--target",
        TARGET,
        "--version",
        "0.169.0",
        "--json",
    ]
    penv = {**env, "PYTHONPATH": str(Path(__file__).parents[1] / "installer")}
    procs = [
        subprocess.Popen(cmd, env=penv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    reused = sorted(json.loads(o[0])["reused"] for o in outs)
    assert reused == [False, True]  # the second waited, then found it complete
    assert codex_version(env) == "codex-cli 0.169.0"


# --- the last resort of the CLI ------------------------------------------------------------
