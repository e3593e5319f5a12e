"""config.toml's forced_login_method / forced_chatgpt_workspace_id in front of codex (issue 22
item 2): Codex 0.171.0 treats refused credentials as signed out (and `codex exec` deletes
auth.json); codex-launch exits 8 with one line saying why, or offers the sign-in on a terminal —
and never deletes or rewrites the user's file itself."""

from __future__ import annotations

import pytest

from terminal_screen import Terminal

from .conftest import API_KEY, Sandbox, launcher_cmd, run_launcher


def configure(sandbox: Sandbox, text: str) -> None:
    (sandbox.codex_home / "config.toml").write_text(text)


@pytest.mark.parametrize(
    ("sign_in", "config", "args", "said"),
    [
        ("key", 'forced_login_method = "chatgpt"\n', [], "API key login is disabled"),
        ("chatgpt", 'forced_login_method = "api"\n', [], "ChatGPT login is disabled"),
        (
            "chatgpt",
            'forced_chatgpt_workspace_id = ["other"]\n',
            [],
            "restricted to workspace(s) other",
        ),
        # The same settings given on codex's own command line, as Codex applies `-c`.
        ("key", "", ["-c", 'forced_login_method="chatgpt"'], "API key login is disabled"),
        (
            "chatgpt",
            "",
            ["-c", "forced_chatgpt_workspace_id=other"],
            "restricted to workspace(s) other",
        ),
    ],
)
def test_refused_credentials_exit_8_with_one_line_and_the_file_kept(
    sandbox: Sandbox, sign_in: str, config: str, args: list[str], said: str
) -> None:
    if sign_in == "key":
        sandbox.sign_in_api_key()
    else:
        sandbox.sign_in_chatgpt()
    configure(sandbox, config)
    before = sandbox.auth_file.read_bytes()
    proc = run_launcher(sandbox, *args, "exec", "hi")
    assert proc.returncode == 8, proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith("codex-launch: Not signed in: ") and said in line
    assert "Sign in with `codex login`" in line
    assert API_KEY not in proc.stderr
    assert sandbox.runs() == []
    assert sandbox.auth_file.read_bytes() == before


@pytest.mark.parametrize(
    ("sign_in", "config"),
    [
        ("key", 'forced_login_method = "api"\n'),
        ("chatgpt", 'forced_login_method = "chatgpt"\n'),
        ("chatgpt", 'forced_chatgpt_workspace_id = ["other", "acct-9"]\n'),
        ("key", 'forced_chatgpt_workspace_id = "other"\n'),  # an API key has no workspace
        ("key", 'forced_login_method = "bogus"\n'),  # codex itself reports its broken config
    ],
)
def test_allowed_credentials_run_codex(sandbox: Sandbox, sign_in: str, config: str) -> None:
    if sign_in == "key":
        sandbox.sign_in_api_key()
    else:
        sandbox.sign_in_chatgpt()
    configure(sandbox, config)
    proc = run_launcher(sandbox, "exec", "hi")
    assert proc.returncode == 0, proc.stderr
    assert [r["argv"] for r in sandbox.runs()] == [["exec", "hi"]]


def test_a_remote_session_is_not_held_to_local_restrictions(sandbox: Sandbox) -> None:
    sandbox.sign_in_api_key()
    configure(sandbox, 'forced_login_method = "chatgpt"\n')
    proc = run_launcher(sandbox, "exec", "--remote", "ws://127.0.0.1:4500", "hi")
    assert proc.returncode == 0, proc.stderr


def test_interactive_refused_credentials_say_why_and_offer_the_sign_in(sandbox: Sandbox) -> None:
    sandbox.sign_in_api_key()
    configure(sandbox, 'forced_login_method = "chatgpt"\n')
    p = Terminal(launcher_cmd("hi"), sandbox.env)
    p.expect("Choose 1-3 [1]")  # the API key is not offered: Codex would refuse it
    assert "API key login is disabled" in p.raw and "API key (" not in p.raw
    assert "Paste an API key" not in p.raw
    p.send("n\n")
    assert p.finish() == 8
    assert sandbox.runs() == []
    assert sandbox.auth_file.exists()
