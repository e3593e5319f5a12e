"""npm publish lag: ``latest`` (or a pinned version) whose platform package is not out yet."""

from __future__ import annotations

import json
from typing import Any

import pytest

from builders import TARGET
from codex_install.errors import NotFoundError
from codex_install.sources.npm import Registry, select_from_packument
from codex_install.sources.npm.packument import platform_versions
from codex_install.versions import VersionSpec
from sources.npm_helpers import closed_port, codex_version, install, run

REG = Registry(url="https://registry.example/", origin="test")
DIST = {
    "dist": {"tarball": "https://registry.example/x.tgz", "integrity": "sha512-" + "A" * 86 + "=="}
}


def _packument(latest: str, *keys: str) -> dict[str, Any]:
    return {"dist-tags": {"latest": latest}, "versions": {k: DIST for k in keys}}


LAGGING = _packument(
    "0.171.0",
    "0.169.0",
    "0.169.0-linux-x64",
    "0.170.0",
    "0.170.0-linux-x64",
    "0.171.0-alpha.1",
    "0.171.0-alpha.1-linux-x64",
    "0.171.0",
    "0.171.0-darwin-arm64",
)


def test_platform_versions_are_the_main_versions_with_that_platform_newest_first():
    assert platform_versions(LAGGING["versions"], "linux-x64") == [
        "0.171.0-alpha.1",
        "0.170.0",
        "0.169.0",
    ]
    assert platform_versions(LAGGING["versions"], "darwin-arm64") == ["0.171.0"]


def test_latest_without_a_platform_package_installs_the_newest_release_that_has_one():
    choice = select_from_packument(LAGGING, VersionSpec(None), TARGET, REG)
    assert choice.selection.version == "0.170.0"  # not the prerelease
    (notice,) = choice.notices
    assert "@openai/codex@latest is 0.171.0, but its linux-x64 package is not published" in notice
    assert "installing 0.170.0" in notice


def test_a_pinned_version_without_a_platform_package_says_so_and_how_to_pin_the_previous():
    with pytest.raises(NotFoundError) as caught:
        select_from_packument(LAGGING, VersionSpec("0.171.0"), TARGET, REG)
    text = str(caught.value)
    assert "@openai/codex@0.171.0 is on https://registry.example/" in text
    assert "linux-x64 package (@openai/codex@0.171.0-linux-x64) is not published yet" in text
    assert "pin the previous one with --version 0.170.0" in text


def test_publish_lag_through_the_cli(npm_env, registry):
    registry.publish("0.170.0").publish("0.171.0", platforms=("darwin-arm64",))
    result = install(npm_env, "--source", "npm", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["version"] == "0.170.0"
    assert "installing 0.170.0, the newest version that has one" in result.stderr
    assert codex_version(npm_env) == "codex-cli 0.170.0"
    pinned = install(npm_env, "--source", "npm", "--version", "0.171.0")
    assert pinned.exit_code == 3
    assert "pin the previous one with --version 0.170.0" in pinned.stderr


def test_ls_remote_lists_only_versions_with_a_platform_package(npm_env, registry):
    registry.publish("0.169.0").publish("0.170.0").publish("0.171.0", platforms=("darwin-arm64",))
    result = run(npm_env, "ls-remote", "--source", "npm", "--target", TARGET)
    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["0.170.0", "0.169.0"]


def test_ls_remote_falls_back_to_npm_when_github_is_unreachable(npm_env, registry, fast_retries):
    registry.publish("0.169.0")
    env = {**npm_env, "GITHUB_API_URL": f"http://127.0.0.1:{closed_port()}"}
    result = run(env, "ls-remote", "--target", TARGET, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["source"] == "npm"
    assert "falling back to the npm registry" in result.stderr  # as install says it
