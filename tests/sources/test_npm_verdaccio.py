"""The npm source against a real npm registry: Verdaccio on 127.0.0.1, uplink disabled,
synthetic ``@openai/codex`` platform packages published with ``npm publish``. The same cases
the fake registry covers where a real server behaves the same: a fresh install with an
``.npmrc`` token, a scoped registry, ls-remote, an integrity mismatch (a tarball changed in the
registry's storage), a missing platform package, a refused token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from builders import TARGET
from servers.verdaccio import Verdaccio, main_package, platform_package, verdaccio
from sources.npm_helpers import codex_version, install, releases, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Verdaccio]:
    """One server for the module: 0.168.0 and 0.169.0 (latest) with linux-x64 and linux-arm64,
    and 0.170.0 (dist-tag next) whose linux-x64 package was never published."""
    work = tmp_path_factory.mktemp("verdaccio")
    with verdaccio(work / "server") as server:
        packages = work / "packages"
        for version in ("0.168.0", "0.169.0"):
            for platform in ("linux-x64", "linux-arm64"):
                server.publish(platform_package(packages, version, platform), platform)
        server.publish(main_package(packages, "0.168.0"), "old")
        server.publish(main_package(packages, "0.169.0"), "latest")
        server.publish(platform_package(packages, "0.170.0", "linux-arm64"), "linux-arm64")
        server.publish(main_package(packages, "0.170.0"), "next")
        yield server


def npmrc(
    home: Path, registry: Verdaccio, *, scoped: bool = False, token: str | None = None
) -> None:
    where = (
        f"@openai:registry={registry.url}\nregistry=http://127.0.0.1:9/unused/\n"
        if scoped
        else (f"registry={registry.url}\n")
    )
    auth = f"//127.0.0.1:{registry.port}/:_authToken={token or registry.token}\n"
    (home / ".npmrc").write_text(where + auth)


def test_a_fresh_install_with_an_npmrc_token(env, home, registry):
    npmrc(home, registry)
    result = install(env, "--source", "npm", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["version"], data["source"], data["layout"]) == ("0.169.0", "npm", "package")
    assert codex_version(env) == "codex-cli 0.169.0"
    assert registry.token not in result.output


def test_a_scoped_registry_and_a_pinned_version(env, home, registry):
    npmrc(home, registry, scoped=True)
    result = install(env, "--source", "npm", "--version", "0.168.0")
    assert result.exit_code == 0, result.output
    assert codex_version(env) == "codex-cli 0.168.0"
    listed = run(env, "ls-remote", "--source", "npm", "--target", TARGET, "--json")
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout)["versions"][:2] == ["0.169.0", "0.168.0"]


def test_a_missing_platform_package_exits_3_naming_it(env, home, registry):
    npmrc(home, registry)
    result = install(env, "--source", "npm", "--version", "0.170.0")
    assert result.exit_code == 3, result.output
    assert "its linux-x64 package (@openai/codex@0.170.0-linux-x64)" in result.stderr
    assert releases(env) == []


def test_a_refused_token_exits_4_without_printing_it(env, home, registry):
    npmrc(home, registry, token="npm_not-the-right-token")
    result = install(env, "--source", "npm")
    assert result.exit_code == 4, result.output
    assert "npm_not-the-right-token" not in result.output
    assert releases(env) == []


def test_a_tarball_changed_in_storage_fails_its_integrity(env, home, registry):
    # Last: it spoils 0.168.0's linux-x64 tarball for the rest of the module.
    npmrc(home, registry)
    tarball = registry.tarball("0.168.0-linux-x64")
    data = bytearray(tarball.read_bytes())
    data[len(data) // 2] ^= 0xFF
    tarball.write_bytes(bytes(data))
    result = install(env, "--source", "npm", "--version", "0.168.0")
    assert result.exit_code == 5, result.output
    assert "integrity" in result.stderr
    assert releases(env) == []
    assert not (Path(env["CODEX_INSTALL_DIR"]) / "codex").exists()
