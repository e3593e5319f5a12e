"""A GitHub that accepts connections and never answers (a black-holing firewall): --source auto
reaches the npm registry within 15 s, saying on stderr that it is waiting (issue 13)."""

from __future__ import annotations

import json
import time

import pytest

from cli_helpers import codex_version, install
from network.hostile import hostile_server
from servers.fake_http import FakeHTTPServer
from sources.npm_helpers import FakeRegistry


@pytest.mark.slow
@pytest.mark.parametrize("version", [(), ("--version", "0.169.0")], ids=["latest", "pinned"])
def test_a_black_holed_github_falls_back_to_npm_within_15_s(
    env: dict[str, str],
    server: FakeHTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path,
    version: tuple[str, ...],
) -> None:
    # Both get two 5 s tries (a host that never answered), then the npm registry.
    monkeypatch.chdir(tmp_path)  # no project .npmrc
    registry = FakeRegistry(server)
    registry.publish("0.169.0")
    with hostile_server("blackhole") as github:
        env = {**env, "NPM_CONFIG_REGISTRY": registry.url, "GITHUB_API_URL": github}
        env.pop("CODEX_INSTALL_TIMEOUT", None)
        start = time.monotonic()
        result = install(env, "--json", *version)
        took = time.monotonic() - start
    assert result.exit_code == 0, result.output
    assert took < 15, f"fell back after {took:.1f} s"
    data = json.loads(result.stdout)
    assert (data["source"], data["fell_back_from"]) == ("npm", "github")
    said = result.stderr.splitlines()
    what = "release rust-v0.169.0" if version else "the latest release"
    host = github.removeprefix("http://")
    assert said[0] == (
        f"warning: GitHub is unreachable: cannot fetch {what} from GitHub after 2 attempts: "
        f"{host} did not answer within 5 s; falling back to the npm registry"
    )
    assert any("falling back to the npm registry" in ln for ln in result.stderr.splitlines())
    assert codex_version(env) == "codex-cli 0.169.0"
    print(f"black-hole fallback: {took:.1f} s")
