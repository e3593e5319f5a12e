"""One trust rule for every request, through the CLI over TLS (issue 20): each of the four CA
variables alone makes a whole install succeed — release JSON and SUMS (requests), the archive
(httpx); with none, the operating system's store decides (truststore), so a certificate it
trusts works and one it does not is exit 4 naming the variables."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from builders import TARGET, package_release
from cli_helpers import REPO, codex_version, install, one_line
from servers.fake_http import FakeHTTPServer
from servers.tls import tls_server

INSTALLER = Path(__file__).resolve().parents[2] / "installer"
TRUST_VARS = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


@pytest.fixture(autouse=True)
def no_trust_or_proxy_in_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*TRUST_VARS, "https_proxy", "http_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def _publish(srv: FakeHTTPServer) -> None:
    package_release("0.169.0").publish_github(srv)


def _all_over_tls(srv: FakeHTTPServer) -> None:
    asked = {r.path for r in srv.log}
    assert f"/repos/{REPO}/releases/latest" in asked  # the metadata (requests)
    tag = "rust-v0.169.0"
    assert f"/{REPO}/releases/download/{tag}/codex-package_SHA256SUMS" in asked  # requests
    assert f"/{REPO}/releases/download/{tag}/codex-package-{TARGET}.tar.zst" in asked  # httpx


def _hashed_dir(cert: Path, where: Path) -> Path:
    """A c_rehash'd directory holding ``cert``, as SSL_CERT_DIR wants."""
    where.mkdir()
    digest = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", str(cert)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    shutil.copy(cert, where / f"{digest}.0")
    return where


@pytest.mark.parametrize("var", TRUST_VARS)
def test_each_trust_variable_alone_carries_a_whole_install(env, tmp_path, var):
    with tls_server(tmp_path) as (srv, cert):
        _publish(srv)
        value = _hashed_dir(cert, tmp_path / "certs") if var == "SSL_CERT_DIR" else cert
        env = {**env, "GITHUB_API_URL": srv.url, var: str(value)}
        result = install(env)
        assert result.exit_code == 0, result.output
        _all_over_tls(srv)
    assert codex_version(env) == "codex-cli 0.169.0"


def test_with_no_variable_an_untrusted_certificate_is_exit_4_naming_them(env, tmp_path):
    with tls_server(tmp_path) as (srv, _cert):
        _publish(srv)
        line = one_line(install({**env, "GITHUB_API_URL": srv.url}, "--source", "github"), 4)
    assert "CERTIFICATE_VERIFY_FAILED" in line
    assert "SSL_CERT_FILE" in line and "REQUESTS_CA_BUNDLE" in line


def _private_mount_namespace() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None or not Path(SYSTEM_BUNDLE).is_file():
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "true"], capture_output=True, check=False, timeout=10
    )
    return probe.returncode == 0


@pytest.mark.skipif(
    not _private_mount_namespace(),
    reason="needs root and unshare to give one process a system store with the test CA",
)
def test_with_no_variable_a_certificate_the_system_store_trusts_works(env, tmp_path):
    """The test CA is added to the operating system's bundle for one child process only (a
    private mount namespace binds a copy with it over the system file): nothing on the machine
    changes, and no variable names it."""
    bundle = tmp_path / "system-with-test-ca.pem"
    with tls_server(tmp_path) as (srv, cert):
        bundle.write_bytes(Path(SYSTEM_BUNDLE).read_bytes() + b"\n" + cert.read_bytes())
        _publish(srv)
        child_env = {
            **{k: v for k, v in env.items() if k not in TRUST_VARS},
            "GITHUB_API_URL": srv.url,
            "PYTHONPATH": str(INSTALLER),
        }
        argv = [sys.executable, "-m", "codex_install", "install", "--no-login", "--target", TARGET]
        script = 'mount --bind "$0" "$1" && shift && exec "$@"'
        done = subprocess.run(
            ["unshare", "--mount", "sh", "-c", script, str(bundle), SYSTEM_BUNDLE, *argv],
            env=child_env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        _all_over_tls(srv)
    assert codex_version(env) == "codex-cli 0.169.0"


@pytest.mark.skipif(
    sys.platform in ("darwin", "win32") or not Path(SYSTEM_BUNDLE).is_file(),
    reason="the system store is OpenSSL's default bundle on Linux only",
)
def test_where_the_system_store_is_the_default_bundle_it_is_loaded_once_per_run():
    """Not truststore's context there, which reloads the bundle on every connection."""
    import ssl

    from codex_install.http.plan import NetworkPlan

    context = NetworkPlan().context()
    assert type(context) is ssl.SSLContext
    assert context.cert_store_stats()["x509_ca"] > 0
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert NetworkPlan().context() is context  # one per trust setting, both libraries share it
