"""check, update and prune through the CLI against the fake GitHub API on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from builders import TARGET, package_release
from cli_helpers import codex_version, current, install, run
from codex_install.commands.prune import to_remove
from codex_install.layout import InstalledRelease


def _publish(server, *versions: str, latest: str) -> None:
    for v in versions:
        package_release(v).publish_github(server, latest=v == latest)


def test_check_exits_10_when_an_update_exists_and_0_when_current(env, server):
    _publish(server, "0.169.0", "0.171.0", latest="0.171.0")
    assert install(env, "--version", "0.169.0").exit_code == 0
    behind = run(env, "check")
    assert behind.exit_code == 10
    assert "codex 0.169.0 is installed; 0.171.0 is available" in behind.stderr
    assert "codex-install update" in behind.stderr
    data = json.loads(run(env, "check", "--json").stdout)
    assert data == {
        "ok": True,
        "exit_code": 10,
        "installed": "0.169.0",
        "latest": "0.171.0",
        "target": TARGET,
        "source": "github",
        "update_available": True,
        "checked": True,
        "unchecked_because": None,
    }
    assert install(env).exit_code == 0
    up = run(env, "check")
    assert (up.exit_code, up.stderr.strip()) == (
        0,
        "codex 0.171.0 is up to date (latest 0.171.0 from github)",
    )


def test_check_with_nothing_installed_says_how_to_install_and_exits_10(env, server):
    _publish(server, "0.171.0", latest="0.171.0")
    result = run(env, "check", "--target", TARGET, "--json")
    assert result.exit_code == 10
    assert json.loads(result.stdout)["installed"] is None


def test_check_when_github_is_unreachable_is_exit_4_with_one_line(env, server):
    env = {**env, "GITHUB_API_URL": "http://127.0.0.1:9"}
    result = run(env, "check", "--target", TARGET, "--source", "github")
    assert result.exit_code == 4
    assert len(result.stderr.strip().splitlines()) == 1


def test_update_upgrades_and_says_from_what_to_what(env, server):
    _publish(server, "0.169.0", "0.171.0", latest="0.171.0")
    install(env, "--version", "0.169.0")
    result = run(env, "update", "--json")
    assert result.exit_code == 0, result.output
    assert "upgraded codex 0.169.0 → 0.171.0" in result.stderr
    data = json.loads(result.stdout)
    assert (data["version"], data["previous"], data["updated"]) == ("0.171.0", "0.169.0", True)
    assert codex_version(env) == "codex-cli 0.171.0"
    again = run(env, "update", "--json")
    assert "codex 0.171.0 (" in again.stderr and "already installed" in again.stderr
    assert json.loads(again.stdout)["updated"] is False


def _installed(env, server, *versions: str) -> None:
    _publish(server, *versions, latest=versions[-1])
    for v in versions:
        assert install(env, "--version", v).exit_code == 0


def test_prune_removes_every_release_but_current_and_nothing_else(env, server):
    _installed(env, server, "0.168.0", "0.169.0", "0.171.0")
    assert run(env, "use", "0.169.0").exit_code == 0
    home = Path(env["CODEX_HOME"])
    (home / "auth.json").write_text("{}")
    (home / "sessions").mkdir()
    stray = home / "packages/standalone/releases/notes-by-hand"
    stray.mkdir()
    result = run(env, "prune")
    assert result.exit_code == 0, result.output
    assert "removed codex 0.168.0" in result.stderr and "removed codex 0.171.0" in result.stderr
    listed = json.loads(run(env, "list", "--json").stdout)["releases"]
    assert [r["version"] for r in listed] == ["0.169.0"]
    assert current(env) == f"releases/0.169.0-{TARGET}"
    assert (home / "auth.json").exists() and (home / "sessions").is_dir() and stray.is_dir()
    assert codex_version(env) == "codex-cli 0.169.0"
    assert run(env, "prune").stderr.strip() == "nothing to prune"


def test_prune_keep_and_dry_run(env, server):
    _installed(env, server, "0.168.0", "0.169.0", "0.171.0")
    dry = run(env, "prune", "--keep", "1", "--dry-run", "--json")
    assert json.loads(dry.stdout)["removed"] == [{"version": "0.168.0", "target": TARGET}]
    assert len(json.loads(run(env, "list", "--json").stdout)["releases"]) == 3
    assert run(env, "prune", "--keep", "1").exit_code == 0
    listed = json.loads(run(env, "list", "--json").stdout)["releases"]
    assert [r["version"] for r in listed] == ["0.169.0", "0.171.0"]
    assert run(env, "prune", "--keep", "-1").exit_code == 2


def test_prune_with_no_current_release_removes_nothing(env, server):
    _installed(env, server, "0.169.0")
    (Path(env["CODEX_HOME"]) / "packages/standalone/current").unlink()
    result = run(env, "prune")
    assert result.exit_code == 2
    assert "no release is current" in result.stderr


@pytest.mark.parametrize(
    ("current_index", "keep", "removed"),
    [(2, 0, ["a", "b"]), (0, 0, ["b", "c"]), (1, 1, ["a"]), (2, 5, [])],
)
def test_to_remove_keeps_current_and_the_newest_others(current_index, keep, removed):
    releases = [
        InstalledRelease(v, TARGET, Path(v), current=i == current_index)
        for i, v in enumerate(["a", "b", "c"])
    ]
    assert [r.version for r in to_remove(releases, keep)] == removed
