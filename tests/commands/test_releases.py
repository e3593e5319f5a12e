"""`list`, `use` and `uninstall` through the CLI (SPEC §5)."""

from __future__ import annotations

from pathlib import Path

from builders import TARGET, package_release
from cli_helpers import codex_version, current, install, run


def test_use_and_uninstall_round_trip(env, server):
    package_release("0.168.0").publish_github(server, latest=False)
    package_release("0.169.0").publish_github(server)
    assert install(env, "--version", "0.168.0").exit_code == 0
    assert install(env, "--version", "0.169.0").exit_code == 0
    listing = run(env, "list")
    rows = [line.split() for line in listing.stdout.splitlines()]
    assert [r[0] for r in rows] == ["0.169.0", "0.168.0"]  # newest first
    assert rows[0][-1] == "current" and rows[1][-1] != "current"
    assert run(env, "use", "0.168.0", "--target", TARGET).exit_code == 0
    assert codex_version(env) == "codex-cli 0.168.0"
    # the current release can't be removed on its own
    assert run(env, "uninstall", "0.168.0", "--target", TARGET).exit_code == 2
    assert run(env, "uninstall", "0.169.0", "--target", TARGET).exit_code == 0
    assert "0.169.0" not in run(env, "list").stdout
    assert run(env, "use", "0.169.0").exit_code == 3
    auth = Path(env["CODEX_HOME"]) / "auth.json"
    auth.write_text("{}")
    assert run(env, "uninstall").exit_code == 0
    assert not (Path(env["CODEX_INSTALL_DIR"]) / "codex").exists()
    assert auth.exists()  # credentials are never touched
    assert run(env, "list").stdout == ""


def test_use_refuses_a_foreign_codex_before_switching_and_force_replaces_it(env, server):
    package_release("0.168.0").publish_github(server, latest=False)
    package_release("0.169.0").publish_github(server)
    assert install(env, "--version", "0.168.0").exit_code == 0
    assert install(env, "--version", "0.169.0").exit_code == 0
    link = Path(env["CODEX_INSTALL_DIR"]) / "codex"
    link.unlink()
    link.write_text("#!/bin/sh\necho someone else's codex\n")
    result = run(env, "use", "0.168.0", "--target", TARGET)
    assert result.exit_code == 7
    assert "--force" in result.stderr
    assert current(env) == f"releases/0.169.0-{TARGET}"  # nothing moved
    # the hint names an option `use` really has
    assert run(env, "use", "0.168.0", "--target", TARGET, "--force").exit_code == 0
    assert current(env) == f"releases/0.168.0-{TARGET}"
    assert codex_version(env) == "codex-cli 0.168.0"


def test_uninstall_latest_is_refused_and_removes_nothing(env, server):
    package_release("0.169.0").publish_github(server)
    assert install(env, "--version", "0.169.0").exit_code == 0
    result = run(env, "uninstall", "latest")
    assert result.exit_code == 2
    assert codex_version(env) == "codex-cli 0.169.0"  # not "everything" by accident


def test_uninstall_of_a_version_is_exit_3_even_when_nothing_is_installed(env):
    result = run(env, "uninstall", "0.1.0")
    assert result.exit_code == 3
    assert "not installed" in result.stderr
    assert not Path(env["CODEX_HOME"]).exists()  # and it created nothing


def test_an_explicit_target_never_matches_a_release_of_another_target(env, server):
    package_release("0.168.0").publish_github(server, latest=False)
    package_release("0.169.0").publish_github(server)
    assert install(env, "--version", "0.168.0").exit_code == 0
    assert install(env, "--version", "0.169.0").exit_code == 0
    other = "aarch64-apple-darwin" if TARGET != "aarch64-apple-darwin" else "x86_64-apple-darwin"
    result = run(env, "uninstall", "0.168.0", "--target", other)
    assert result.exit_code == 3
    assert f"not installed for {other}" in result.stderr
    result = run(env, "use", "0.168.0", "--target", other)
    assert result.exit_code == 3
    listing = run(env, "list").stdout
    # nothing removed, nothing switched
    assert [line.split()[0] for line in listing.splitlines()] == ["0.169.0", "0.168.0"]
    assert listing.splitlines()[0].endswith("current")


def test_uninstall_removes_our_links_left_on_path_by_another_bin_dir(env, server, tmp_path):
    package_release("0.169.0").publish_github(server)
    other_bin = tmp_path / "usr-local-bin"
    assert install(env, "--version", "0.169.0", "--bin-dir", str(other_bin)).exit_code == 0
    assert install(env, "--version", "0.169.0").exit_code == 0  # and the default bin dir
    foreign = tmp_path / "elsewhere"
    foreign.mkdir()
    (foreign / "codex").symlink_to(tmp_path / "some-other-codex")  # dangling, but not ours
    env = {**env, "PATH": f"{foreign}:{other_bin}:{env['PATH']}"}
    result = run(env, "uninstall")
    assert result.exit_code == 0
    assert not (other_bin / "codex").is_symlink()  # it would point nowhere now
    assert f"removed {other_bin / 'codex'}" in result.stderr
    assert (foreign / "codex").is_symlink()
