"""commands.install through the CLI: the stable ``--json`` object, per-step timings, the words
an install reports, and GitHub Actions step outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auth.conftest import chatgpt_auth, write_auth
from builders import TARGET, package_release, sha256
from cli_helpers import install, run
from codex_install.commands.install import promotion_notice
from codex_install.install import TIMING_STEPS
from sources.npm_helpers import FakeRegistry

PACKAGE = f"codex-package-{TARGET}.tar.zst"


def _keys(data: dict[str, object], prefix: str = "") -> set[str]:
    keys = set()
    for key, value in data.items():
        keys.add(prefix + key)
        if isinstance(value, dict) and key != "sign_in":
            keys |= _keys(value, f"{prefix}{key}.")
    return keys


def test_json_has_the_same_keys_on_a_fresh_install_and_a_no_op_reinstall(env, server):
    rel = package_release("0.169.0")
    rel.publish_github(server)
    fresh = json.loads(install(env, "--version", "0.169.0", "--json").stdout)
    again = install(env, "--version", "0.169.0", "--json")
    assert again.exit_code == 0, again.output
    reused = json.loads(again.stdout)
    assert _keys(fresh) == _keys(reused)
    assert reused["reused"] is True and fresh["reused"] is False
    # The no-op reinstall reports the digest recorded when the release was installed.
    assert reused["sha256"] == fresh["sha256"] == sha256(rel.files[PACKAGE])
    assert (reused["ok"], reused["exit_code"], reused["previous"]) == (True, 0, "0.169.0")


def test_timings_are_per_step_durations_with_every_step_named(env, server):
    package_release("0.169.0").publish_github(server)
    timings = json.loads(install(env, "--version", "0.169.0", "--json").stdout)["timings"]
    assert list(timings) == list(TIMING_STEPS)
    steps = [timings[k] for k in TIMING_STEPS if k != "total"]
    assert all(t >= 0 for t in steps) and timings["download_extract"] > 0
    assert sum(steps) <= timings["total"] + 0.001  # durations, not offsets from the start
    reused = json.loads(install(env, "--version", "0.169.0", "--json").stdout)["timings"]
    assert list(reused) == list(TIMING_STEPS)
    assert reused["download_extract"] == reused["smoke_test"] == 0


def test_the_words_say_installed_upgraded_already_installed_and_switched(env, server):
    package_release("0.169.0").publish_github(server, latest=False)
    package_release("0.171.0").publish_github(server)
    first = install(env, "--version", "0.169.0")
    assert first.exit_code == 0
    assert f"installed codex 0.169.0 ({TARGET}, package layout, from github)" in first.stderr
    upgraded = install(env)
    assert "upgraded codex 0.169.0 → 0.171.0" in upgraded.stderr, upgraded.stderr
    again = install(env, "--version", "0.171.0")
    assert f"codex 0.171.0 ({TARGET}) is already installed; nothing to download" in again.stderr
    back = install(env, "--version", "0.169.0")
    assert "switched to codex 0.169.0" in back.stderr


def test_in_github_actions_step_outputs_and_a_summary_line_are_written(env, server, tmp_path):
    rel = package_release("0.169.0")
    rel.publish_github(server)
    output, summary = tmp_path / "out", tmp_path / "summary.md"
    output.write_text("earlier=1\n")
    env = {**env, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
    result = install(env, "--version", "0.169.0", "--json")
    assert result.exit_code == 0, result.output
    bin_link = Path(env["CODEX_INSTALL_DIR"]) / "codex"
    digest = sha256(rel.files[PACKAGE])
    assert output.read_text().splitlines() == [
        "earlier=1",
        "codex-version=0.169.0",
        f"codex-path={bin_link}",
        f"sha256={digest}",
    ]
    assert summary.read_text() == (
        f"Codex `0.169.0` installed (`{TARGET}`, from `github`) at `{bin_link}`, "
        f"sha256 `{digest}`\n"
    )
    assert json.loads(result.stdout)["github_actions"] == ["GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"]


def test_an_unwritable_github_output_is_exit_7_with_one_line(env, server, tmp_path):
    package_release("0.169.0").publish_github(server)
    env = {**env, "GITHUB_OUTPUT": str(tmp_path / "missing-dir" / "out")}
    result = install(env, "--version", "0.169.0")
    assert result.exit_code == 7
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("codex-install: error: cannot write GITHUB_OUTPUT file")
    )


@pytest.mark.parametrize(
    ("target", "machine", "explicit", "said"),
    [
        ("aarch64-apple-darwin", "x86_64", False, True),
        ("aarch64-apple-darwin", "arm64", False, False),
        ("aarch64-apple-darwin", "x86_64", True, False),
        ("x86_64-unknown-linux-musl", "x86_64", False, False),
    ],
)
def test_a_rosetta_promotion_to_arm64_is_said_with_why(target, machine, explicit, said):
    notice = promotion_notice(target, machine, explicit=explicit)
    assert (notice is not None) == said
    if said:
        assert "Rosetta 2" in notice and "--target x86_64-apple-darwin" in notice


def test_off_path_the_hint_names_the_full_path_of_codex(env, server):
    package_release("0.169.0").publish_github(server)
    env = {**env, "PATH": "/usr/bin:/bin"}
    result = install(env, "--version", "0.169.0")
    link = Path(env["CODEX_INSTALL_DIR"]) / "codex"
    assert f"run codex by its full path: {link}" in result.stderr
    assert f"sign in with: {link} login" in result.stderr


def test_a_node_shim_earlier_on_path_is_named_npms_with_npms_removal_command(env, server, tmp_path):
    package_release("0.169.0").publish_github(server)
    npm_bin = tmp_path / "npm-prefix" / "bin"
    npm_bin.mkdir(parents=True)
    shim = npm_bin / "codex"
    shim.write_text("#!/usr/bin/env node\nrequire('../lib/codex.js')\n")
    shim.chmod(0o755)
    env = {**env, "PATH": f"{npm_bin}:{env['CODEX_INSTALL_DIR']}:/usr/bin:/bin"}
    result = install(env, "--version", "0.169.0", "--json")
    assert result.exit_code == 0, result.output
    assert (
        f"warning: another codex at {shim} (installed by npm) comes first on PATH; "
        "remove it with: npm uninstall -g @openai/codex"
    ) in result.stderr
    assert json.loads(result.stdout)["path"]["conflicts"] == [
        {"path": str(shim), "owner": "npm", "remove_with": "npm uninstall -g @openai/codex"}
    ]
    assert shim.exists()  # warned about, never touched


# --- remote strings in the words an install prints (issue 13) ---

FORGED = "installed codex 9.9.9"


def _forged_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith(FORGED)]


def test_a_newline_in_an_npm_tarball_name_cannot_forge_a_line(env, server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no project .npmrc from the working directory
    monkeypatch.setattr("codex_install.ui.LONG_DOWNLOAD", 0)  # announce even this small one
    registry = FakeRegistry(server).publish("0.169.0")
    hostile = "/npm/x%0A" + FORGED.replace(" ", "%20") + "%0D%1B%5B2J" + "y" * 300 + ".tgz"
    server.add(hostile, registry.tarballs["0.169.0-linux-x64"])
    registry.versions["0.169.0-linux-x64"]["dist"]["tarball"] = server.url + hostile
    registry.serve()
    npm_env = {**env, "NPM_CONFIG_REGISTRY": registry.url}
    result = install(npm_env, "--source", "npm", "--version", "0.169.0")
    assert result.exit_code == 0, result.output
    assert _forged_lines(result.stderr) == [], result.stderr
    assert "downloading x\\ninstalled codex 9.9.9\\r\\x1b[2Jyyy" in result.stderr
    assert "\x1b" not in result.stderr
    (announced,) = [line for line in result.stderr.splitlines() if "downloading" in line]
    assert len(announced) < 160, announced


def test_a_newline_in_the_signed_in_email_cannot_forge_a_line(env, server):
    package_release("0.169.0").publish_github(server)
    email = "ada@example.com\n" + FORGED + "\x1b]0;title\x07"
    auth = chatgpt_auth(email=email, plan="pro\ninstalled codex 9.9.9")
    (Path(env["CODEX_HOME"])).mkdir(parents=True)
    write_auth(Path(env["CODEX_HOME"]), auth)
    result = run(env, "install", "--target", TARGET, "--version", "0.169.0", "--json")
    assert result.exit_code == 0, result.output
    assert _forged_lines(result.stderr) == [], result.stderr
    assert "Signed in to Codex as ada@example.com\\ninstalled codex 9.9.9\\x1b]0;title\\x07" in (
        result.stderr
    )
    who = json.loads(result.stdout)["sign_in"]["who"]
    assert "\n" not in who and "\x1b" not in who


def test_resolve_text_output_escapes_a_hostile_asset_name(env, server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    registry = FakeRegistry(server).publish("0.169.0")
    hostile = "/npm/x%0A" + FORGED.replace(" ", "%20") + ".tgz"
    registry.versions["0.169.0-linux-x64"]["dist"]["tarball"] = server.url + hostile
    registry.serve()
    npm_env = {**env, "NPM_CONFIG_REGISTRY": registry.url}
    result = run(npm_env, "resolve", "--source", "npm", "--target", TARGET, "--version", "0.169.0")
    assert result.exit_code == 0, result.output
    assert _forged_lines(result.stdout) == [], result.stdout
    assert "asset: x\\ninstalled codex 9.9.9.tgz" in result.stdout
