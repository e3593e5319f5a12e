"""What a newcomer meets after the install (issue 23), through the CLI: messages that point the
way, offline and flaky networks, the PATH block's life, `env`, and the exit status of a failed
sign-in. The terminal-only parts are in tests/test_first_run_pty.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from builders import TARGET, package_release
from cli_helpers import codex_version, install, one_line, run
from servers.fake_http import FakeHTTPServer
from sources.npm_helpers import closed_port

RELEASES = "/repos/openai/codex/releases"


def _list(*versions: str) -> str:
    return json.dumps(
        [{"tag_name": f"rust-v{v}", "draft": False, "published_at": "2026-11-30T10:00:00Z"}
         for v in versions]
    )  # fmt: skip


# --- messages that point the way ---


def test_a_typod_version_names_the_nearest_that_exist_and_ls_remote(env, server):
    server.add(RELEASES, _list("0.171.0", "0.170.0", "0.169.0"))
    line = one_line(install(env, "--version", "0.17.0"), 3)
    assert "codex 0.17.0 does not exist" in line
    assert "the nearest: 0.171.0, 0.170.0, 0.169.0" in line
    assert "codex-install ls-remote" in line


def test_a_prefix_installs_the_newest_release_under_it(env, server):
    package_release("0.171.1").publish_github(server, latest=False)
    server.add(RELEASES, _list("0.172.0-alpha.1", "0.171.1", "0.171.0", "0.170.0"))
    result = install(env, "--version", "0.171")
    assert result.exit_code == 0, result.output
    assert "0.171 is codex 0.171.1 (the newest 0.171.x)" in result.stderr
    assert codex_version(env) == "codex-cli 0.171.1"


def test_a_prefix_with_no_release_under_it_says_so_with_the_nearest(env, server):
    server.add(RELEASES, _list("0.171.0", "0.170.0"))
    line = one_line(install(env, "--version", "0.173"), 3)
    assert "no codex 0.173.x release exists" in line and "0.171.0" in line


def _published_0_171(server: FakeHTTPServer) -> None:
    package_release("0.171.1").publish_github(server, latest=False)
    server.add(RELEASES, _list("0.172.0-alpha.1", "0.171.1", "0.171.0", "0.170.0"))


@pytest.mark.parametrize(
    "command",
    [
        ["resolve"],
        ["manifest", "generate", "--output", "manifests"],
        ["mirror", "sync", "--output", "mirror"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_every_command_taking_a_version_reads_a_prefix_as_install_does(
    env, server, tmp_path, monkeypatch, command
):
    monkeypatch.chdir(tmp_path)
    _published_0_171(server)
    result = run(env, *command, "--version", "v0.171", "--target", TARGET, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["version"] == "0.171.1"
    assert "v0.171 is codex 0.171.1 (the newest 0.171.x)" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["install", "--no-login", "--target", TARGET],
        ["resolve", "--target", TARGET],
        ["manifest", "generate", "--target", TARGET],
        ["mirror", "sync", "--target", TARGET, "--output", "unused"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_a_prefix_with_nothing_under_it_is_the_same_error_for_every_command(
    env, server, tmp_path, monkeypatch, command
):
    monkeypatch.chdir(tmp_path)
    server.add(RELEASES, _list("0.171.0", "0.170.0"))
    line = one_line(run(env, *command, "--version", "0.173"), 3)
    assert "no codex 0.173.x release exists" in line and "the nearest: 0.171.0" in line
    assert not (tmp_path / "unused").exists()


def test_a_mirror_404_names_the_url_and_asks_if_it_is_a_mirror_sync_tree(env, server):
    line = one_line(install(env, "--mirror", f"{server.url}/not-a-mirror"), 3)
    assert f"{server.url}/not-a-mirror/channels/latest answered 404" in line
    assert "`codex-install mirror sync`" in line


def test_the_npm_fallback_is_one_warning_line_once_per_run(env, server, tmp_path, monkeypatch):
    from sources.npm_helpers import FakeRegistry

    monkeypatch.chdir(tmp_path)
    registry = FakeRegistry(server).publish("0.169.0")
    dead = {
        **env,
        "GITHUB_API_URL": f"http://127.0.0.1:{closed_port()}",
        "NPM_CONFIG_REGISTRY": registry.url,
    }
    result = install(dead, "--version", "0.169.0")
    assert result.exit_code == 0, result.output
    said = [line for line in result.stderr.splitlines() if "npm registry" in line]
    assert len(said) == 1 and said[0].startswith("warning: GitHub is unreachable")


# --- offline and flaky networks ---


def _installed(env: dict[str, str], server: FakeHTTPServer) -> dict[str, str]:
    package_release("0.169.0").publish_github(server)
    assert install(env).exit_code == 0
    return {**env, "GITHUB_API_URL": f"http://127.0.0.1:{closed_port()}"}


@pytest.mark.slow  # GitHub's refused connections are retried: ~2 s
def test_with_no_network_plain_install_keeps_the_installed_release_and_says_so(env, server):
    dead = _installed(env, server)
    result = install(dead)
    assert result.exit_code == 0, result.output
    assert "warning: the latest release could not be checked" in result.stderr
    assert "keeping codex 0.169.0 (installed)" in result.stderr
    assert codex_version(env) == "codex-cli 0.169.0"
    # --force asked for a new download: that it cannot happen is the answer (exit 4).
    assert install(dead, "--force").exit_code == 4
    assert codex_version(env) == "codex-cli 0.169.0"


@pytest.mark.slow  # two checks against a refusing GitHub: ~5 s
def test_with_no_network_check_exits_11_and_json_says_unchecked(env, server):
    dead = _installed(env, server)
    result = run(dead, "check")
    assert result.exit_code == 11
    assert "codex 0.169.0 is installed; the latest could not be checked" in result.stderr
    data = json.loads(run(dead, "check", "--json").stdout)
    assert (data["exit_code"], data["checked"], data["latest"]) == (11, False, None)


def test_offline_makes_no_request_at_all(env, server):
    _installed(env, server)
    before = server.count()
    assert install(env, "--offline").exit_code == 0
    assert install(env, "--offline", "--version", "0.169.0").exit_code == 0
    assert run(env, "check", "--offline").exit_code == 11
    assert run({**env, "CODEX_INSTALL_OFFLINE": "1"}, "check").exit_code == 11
    assert one_line(run(env, "ls-remote", "--offline"), 4).endswith(
        "(`codex-install list` shows the installed ones)"
    )
    assert "--offline forbids" in one_line(install(env, "--offline", "--version", "0.170.0"), 4)
    assert server.count() == before


def test_offline_with_nothing_installed_is_exit_4_before_any_request(env, server):
    assert "--offline forbids" in one_line(install(env, "--offline"), 4)
    assert server.count() == 0


# --- the PATH block's life, uninstall ---


def test_uninstall_takes_out_the_path_block_and_nothing_else(env, server, home):
    package_release("0.169.0").publish_github(server)
    env = {**env, "SHELL": "/bin/bash", "PATH": "/usr/bin:/bin"}
    bashrc = home / ".bashrc"
    bashrc.write_text("alias ll='ls -l'\n")
    assert install(env, "--modify-path").exit_code == 0
    assert "# >>> codex-install >>>" in bashrc.read_text()
    result = run(env, "uninstall")  # no terminal: nobody to ask
    assert result.exit_code == 0, result.output
    assert f"removed the PATH block from {bashrc}" in result.stderr
    assert bashrc.read_text() == "alias ll='ls -l'\n"
    assert "codex-install" not in (home / ".profile").read_text()


def test_install_hints_name_codex_by_its_full_path_when_it_is_not_on_path(env, server):
    package_release("0.169.0").publish_github(server)
    env = {k: v for k, v in env.items() if k != "CODEX_NON_INTERACTIVE"}
    result = run({**env, "PATH": "/usr/bin:/bin"}, "install", "--target", TARGET)
    link = Path(env["CODEX_INSTALL_DIR"]) / "codex"
    assert f"run `{link} login`" in result.stderr
    assert "run `codex login`" not in result.stderr


# --- the exit status of a failed sign-in ---


def test_an_install_whose_sign_in_fails_exits_8_and_says_how_to_retry(env, server):
    # The fake codex exits 0 to `login --with-api-key` but writes no auth.json.
    package_release("0.169.0").publish_github(server)
    result = run({**env, "OPENAI_API_KEY": "sk-test-0123456789"}, "install", "--json")
    assert result.exit_code == 8, result.output
    data = json.loads(result.stdout)
    assert data["exit_code"] == 8 and data["sign_in"]["state"] == "failed"
    assert "to try again, run" in result.stderr and "sk-test" not in result.output
    assert codex_version(env) == "codex-cli 0.169.0"  # the install itself stands


# --- env ---


def test_env_prints_paths_and_settings_and_never_a_secret(env, tmp_path):
    secret_env = {
        **env,
        "GITHUB_TOKEN": "ghp_SECRET1",
        "OPENAI_API_KEY": "sk-SECRET2",
        "HTTPS_PROXY": "http://user:SECRET3@proxy.example:3128",
        "CODEX_INSTALL_MIRROR": "https://u:SECRET4@mirror.example/codex?sig=SECRET5",
        "NPM_CONFIG_REGISTRY": "https://u:SECRET6@npm.example/",
    }
    result = run(secret_env, "env", "-v")
    assert result.exit_code == 0, result.output
    assert "SECRET" not in result.output
    lines = {
        name.strip(): value
        for name, value in (line.split(" = ", 1) for line in result.stdout.splitlines())
    }
    assert lines["codex_home"].startswith(env["CODEX_HOME"] + "  (CODEX_HOME)")
    assert lines["mirror"].startswith("https://***@mirror.example/codex")
    assert lines["https_proxy"].startswith("http://***@proxy.example:3128")
    assert lines["github_token"].startswith("set (not shown)")
    data = json.loads(run(secret_env, "env", "--json").stdout)
    assert "SECRET" not in json.dumps(data)
    assert data["bin_dir"] == env["CODEX_INSTALL_DIR"] and data["source"] == "auto"
    assert data["npm_registry"].startswith("https://") and data["offline"] is False


def test_auth_status_exits_8_when_signed_out(env):
    result = run(env, "auth", "status")
    assert result.exit_code == 8
    assert result.stdout.startswith("Signed out.")
