"""Pure rules of the launcher and sign-in: which invocations need credentials, which login flow
fits the machine, where codex is found."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from codex_install.errors import NotFoundError
from codex_install.launcher import CODEX_SUBCOMMANDS, needs_credentials
from codex_install.paths import Paths, find_codex
from codex_install.signin import SignInResult, api_key_from_env, has_local_browser, login_command


@pytest.mark.parametrize(
    ("args", "needed"),
    [
        ([], True),
        (["exec", "fix the bug"], True),
        (["--model", "o3", "hello"], True),
        (["--version"], False),
        (["-V"], False),
        (["--help"], False),
        (["-h"], False),
        (["exec", "--help"], False),
        (["login"], False),
        (["login", "--device-auth"], False),
        (["logout"], False),
        (["completion", "zsh"], False),
        (["help"], False),
        (["help", "exec"], False),
        # After `--` everything is the prompt, even text that looks like a flag.
        (["exec", "--", "--help"], True),
        # A subcommand name only counts in first position.
        (["exec", "login"], True),
        (["explain --help please"], True),
        # Global options (and their values) may come before the subcommand.
        (["-c", "model=o3", "login", "--with-api-key"], False),
        (["--profile", "work", "logout"], False),
        (["--config=model=o3", "--full-auto", "completion", "bash"], False),
        (["-m", "login"], True),  # "login" is the model's name here, then no prompt: a session
        (["-m", "o3", "fix the login"], True),
        (["--", "login"], True),
        (["-i", "a.png", "login"], True),  # -i takes several values: "login" may be an image
        # A session on a remote app-server runs with that server's credential (Codex 0.171.0),
        # wherever --remote stands.
        (["exec", "--remote", "ws://127.0.0.1:4500", "hi"], False),
        (["--remote", "ws://127.0.0.1:4500", "exec", "hi"], False),
        (["e", "--remote=unix://", "hi"], False),
        (["--remote", "wss://h:1", "a prompt"], False),
        (["exec", "resume", "--last", "--remote", "ws://h:1"], False),
        (["resume", "--remote", "ws://h:1", "--remote-auth-token-env", "TOK"], False),
        (["exec", "--remote-auth-token-env", "TOK", "hi"], True),  # not remote by itself
        (["exec", "--", "--remote", "ws://h:1"], True),  # the prompt's text
        (["exec", "--remotely", "hi"], True),
        # Gone in 0.171.0: the first word is a prompt now.
        (["mcp-server"], True),
        (["stdio-to-uds", "/tmp/s"], True),
        # Hidden in 0.171.0's help, but subcommands.
        (["git-credential", "get"], False),
        (["tcp-tunnel"], False),
        (["cloud-tasks"], True),
        (["-c", "x=1", "execpolicy", "check"], False),
    ],
)
def test_needs_credentials(args: list[str], needed: bool) -> None:
    assert needs_credentials(args) is needed


@pytest.mark.parametrize("name", sorted(CODEX_SUBCOMMANDS))
def test_every_subcommand_of_the_table_is_decided_by_the_table(name: str) -> None:
    assert needs_credentials([name]) is CODEX_SUBCOMMANDS[name]
    assert needs_credentials(["-c", "k=v", name, "--remote", "ws://h:1"]) is False


def test_app_is_a_subcommand_only_where_codex_has_it() -> None:
    # Codex's Linux build has no `app` (it launches the macOS desktop app): there it is a prompt.
    assert ("app" in CODEX_SUBCOMMANDS) is (sys.platform == "darwin")


@pytest.mark.parametrize(
    ("env", "platform", "browser"),
    [
        ({}, "darwin", True),
        ({"SSH_CONNECTION": "10.0.0.1 5000 10.0.0.2 22"}, "darwin", False),
        ({"SSH_TTY": "/dev/pts/3", "DISPLAY": ":0"}, "linux", False),
        ({}, "linux", False),
        ({"DISPLAY": ":0"}, "linux", True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
    ],
)
def test_has_local_browser(env: dict[str, str], platform: str, browser: bool) -> None:
    assert has_local_browser(env, platform) is browser
    argv = login_command(Path("/x/codex"), env, platform)
    assert argv == (["/x/codex", "login"] if browser else ["/x/codex", "login", "--device-auth"])


def test_codex_api_key_wins_over_openai_api_key() -> None:
    assert api_key_from_env({"OPENAI_API_KEY": "sk-a", "CODEX_API_KEY": "sk-b"}) == (
        "CODEX_API_KEY",
        "sk-b",
    )
    assert api_key_from_env({"OPENAI_API_KEY": "sk-a", "CODEX_API_KEY": " "}) == (
        "OPENAI_API_KEY",
        "sk-a",
    )
    assert api_key_from_env({}) is None


def test_sign_in_result_json_has_no_secret_fields() -> None:
    result = SignInResult(
        "api_key_login", "API key ***WXYZ", "Signed in to Codex as API key ***WXYZ."
    )
    assert result.to_json() == {
        "state": "api_key_login",
        "signed_in": True,
        "who": "API key ***WXYZ",
        "message": "Signed in to Codex as API key ***WXYZ.",
    }
    assert not SignInResult("instructions", None, "").signed_in


def _exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def _paths(tmp_path: Path) -> Paths:
    return Paths(codex_home=tmp_path / "ch", bin_dir=tmp_path / "bin", cache_dir=tmp_path / "c")


def test_find_codex_prefers_bin_link_then_current_then_path(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    on_path = _exe(tmp_path / "elsewhere" / "codex")
    env = {"PATH": str(on_path.parent)}
    assert find_codex(paths, env) == on_path
    current = _exe(paths.current / "bin" / "codex")
    assert find_codex(paths, env) == current
    link = _exe(paths.bin_link)
    assert find_codex(paths, env) == link


def test_find_codex_skips_non_executables_and_itself(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    launcher = _exe(tmp_path / "venv" / "codex-launch")
    # A user alias `codex -> codex-launch` in the bin dir must not make the launcher exec itself.
    paths.bin_dir.mkdir()
    paths.bin_link.symlink_to(launcher)
    not_exec = tmp_path / "p1" / "codex"
    not_exec.parent.mkdir()
    not_exec.write_text("")
    real = _exe(tmp_path / "p2" / "codex")
    env = {"PATH": os.pathsep.join([str(not_exec.parent), str(real.parent)])}
    assert find_codex(paths, env, exclude=[str(launcher)]) == real


def test_find_codex_reports_missing_install(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError) as info:
        find_codex(_paths(tmp_path), {"PATH": str(tmp_path)})
    assert info.value.exit_code == 3
    assert "codex-install" in str(info.value)
