"""macOS, with the platform passed in: Apple silicon and Intel Macs and an x86_64 Python under
Rosetta 2 get their build from every source, with the notice saying why; the committed cask
downloads each Mac's tarball. The macOS CI cells run the same code on real Macs."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from builders import package_release, sha256
from cli_helpers import REPO, run
from codex_install.commands.install import promotion_notice
from codex_install.manifest import load_manifest
from codex_install.platforms import NPM_PLATFORMS, host_target
from servers.fake_http import FakeHTTPServer
from sources.npm_helpers import FakeRegistry
from test_homebrew import CASK_STUB, PLATFORMS, _evaluate, needs_ruby

ROOT = Path(__file__).resolve().parents[1]
MACS = ("aarch64-apple-darwin", "x86_64-apple-darwin")
# (uname -s, uname -m, sysctl.proc_translated) of each Mac a user runs codex-install on
HOSTS = {
    "Apple silicon, arm64 Python": ("Darwin", "arm64", None, "aarch64-apple-darwin"),
    "Apple silicon, x86_64 Python under Rosetta 2": (
        "Darwin",
        "x86_64",
        "1\n",
        "aarch64-apple-darwin",
    ),
    "Intel Mac": ("Darwin", "x86_64", "0\n", "x86_64-apple-darwin"),
    # An Intel Mac's kernel has no such sysctl: `sysctl -n` prints nothing and fails.
    "Intel Mac, no proc_translated": ("Darwin", "x86_64", "", "x86_64-apple-darwin"),
}


@pytest.mark.parametrize("host", HOSTS, ids=list(HOSTS))
def test_each_mac_gets_its_target_and_only_an_x86_64_python_asks_sysctl(host: str) -> None:
    system, machine, sysctl, target = HOSTS[host]
    asked: list[list[str]] = []

    def run_sysctl(argv: list[str]) -> str:
        asked.append(argv)
        assert sysctl is not None, "an arm64 process is never translated: sysctl is not asked"
        return sysctl

    assert host_target(system, machine, run_sysctl) == target
    assert asked == ([] if sysctl is None else [["sysctl", "-n", "sysctl.proc_translated"]])


@pytest.mark.parametrize(
    ("target", "machine", "explicit", "says"),
    [
        ("aarch64-apple-darwin", "x86_64", False, True),  # Rosetta 2: the native build instead
        ("aarch64-apple-darwin", "arm64", False, False),
        ("aarch64-apple-darwin", "x86_64", True, False),  # --target asked for it: nothing to say
        ("x86_64-apple-darwin", "x86_64", False, False),
        ("aarch64-unknown-linux-musl", "x86_64", False, False),
    ],
)
def test_the_rosetta_notice_says_why_the_arm64_build_is_installed(
    target: str, machine: str, explicit: bool, says: bool
) -> None:
    notice = promotion_notice(target, machine, explicit=explicit)
    assert (notice is not None) == says
    if notice is not None:
        assert "Rosetta 2" in notice and "--target x86_64-apple-darwin" in notice


def _installed(env: dict[str, str], target: str, version: str) -> None:
    release = Path(env["CODEX_HOME"]) / "packages/standalone/current"
    assert release.resolve().name == f"{version}-{target}"
    manifest = json.loads((release / "codex-package.json").read_text())
    assert manifest["target"] == target
    out = subprocess.run(
        [str(Path(env["CODEX_INSTALL_DIR"]) / "codex"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout == f"codex-cli {version}\n"


@pytest.mark.parametrize("target", MACS)
def test_a_mac_build_installs_from_github_zstd_first(
    env: dict[str, str], server: FakeHTTPServer, target: str
) -> None:
    rel = package_release("0.169.0", target)
    rel.publish_github(server)
    result = run(env, "install", "--no-login", "--json", "--target", target)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["target"], data["layout"], data["source"]) == (target, "package", "github")
    assert data["sha256"] == sha256(rel.files[f"codex-package-{target}.tar.zst"])
    assert server.requests_to(f"/{REPO}/releases/download/{rel.tag}/codex-package-{target}.tar.zst")
    _installed(env, target, "0.169.0")


@pytest.mark.parametrize("target", MACS)
def test_a_mac_build_installs_from_the_npm_platform_package(
    env: dict[str, str], server: FakeHTTPServer, target: str
) -> None:
    platform = NPM_PLATFORMS[target]
    registry = FakeRegistry(server).publish("0.169.0", platforms=(platform,))
    npm_env = {**env, "NPM_CONFIG_REGISTRY": registry.url}
    result = run(npm_env, "install", "--no-login", "--json", "--source", "npm", "--target", target)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["target"], data["source"]) == (target, "npm")
    assert server.requests_to(registry.tarball_path(f"0.169.0-{platform}"))
    _installed(env, target, "0.169.0")


def test_a_mac_build_installs_from_a_mirror(env: dict[str, str], server: FakeHTTPServer) -> None:
    for target in MACS:
        package_release("0.169.0", target).publish_mirror(server)
        mirror = f"{server.url}/mirror"
        result = run(env, "install", "--no-login", "--mirror", mirror, "--target", target)
        assert result.exit_code == 0, result.output
        _installed(env, target, "0.169.0")


@needs_ruby
def test_the_committed_cask_gives_each_mac_its_shipped_tarball(tmp_path: Path) -> None:
    cask = ROOT / "homebrew" / "codex.rb"
    version = re.search(r'^  version "([^"]+)"$', cask.read_text(encoding="utf-8"), re.M)
    assert version is not None
    manifest = load_manifest(ROOT / "manifests" / f"codex-{version[1]}.toml")
    results = _evaluate(CASK_STUB, cask, tmp_path)
    for platform, target in PLATFORMS.items():
        got, (pinned,) = results[platform], manifest.assets_for(target)
        assert (got["url"], got["sha256"]) == (pinned.url, pinned.sha256), platform
        assert got["binary"] == [f"package/vendor/{target}/bin/codex", "codex"]
