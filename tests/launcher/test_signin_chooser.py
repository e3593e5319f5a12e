"""The sign-in chooser on a real terminal (issue 23): Codex's own three ways to sign in as a
numbered prompt, the default that fits the machine, an API key read without echo and piped to
`codex login --with-api-key`, and a failure that says why and how to retry."""

from __future__ import annotations

import sys

import pytest

from terminal_screen import Terminal

from .conftest import API_KEY, Sandbox

pytestmark = pytest.mark.slow  # codex-install and the fake codex on a terminal: ~1 s each


def login(sandbox: Sandbox, **extra: str) -> Terminal:
    return Terminal([sys.executable, "-m", "codex_install", "login"], {**sandbox.env, **extra})


def test_the_three_ways_of_codexs_first_screen_with_the_browser_by_default(sandbox: Sandbox):
    term = login(sandbox)
    term.expect("Choose 1-4 [1]: ")
    screen = term.screen()
    assert screen[:5] == [
        "Sign in to Codex:",
        "  1) Sign in with ChatGPT in your browser (opens your browser)",
        "  2) Sign in with ChatGPT by device code (shows a code to enter elsewhere)",
        "  3) Paste an API key (not shown)",
        "  4) Not now",
    ]
    term.send("\n")
    assert term.finish() == 0, term.raw
    assert [r["argv"] for r in sandbox.runs()] == [["login"]]
    assert "Signed in to Codex as dev@example.com (plus plan)." in term.lines()


def test_over_ssh_the_device_code_is_the_default(sandbox: Sandbox):
    term = login(sandbox, SSH_TTY="/dev/pts/9")
    term.expect("Choose 1-4 [2]: ")
    term.send("\n")
    assert term.finish() == 0, term.raw
    assert [r["argv"] for r in sandbox.runs()] == [["login", "--device-auth"]]


def test_a_typed_api_key_is_never_shown_and_goes_to_codex_on_stdin(sandbox: Sandbox):
    term = login(sandbox)
    term.expect("Choose 1-4 [1]: ")
    term.send("3\n")
    term.expect("API key (input is hidden): ")
    term.send(API_KEY + "\n")
    assert term.finish() == 0, term.raw
    assert API_KEY not in term.raw  # the terminal did not echo it, nothing printed it
    [run] = sandbox.runs()
    assert run["argv"] == ["login", "--with-api-key"] and run["stdin"] == API_KEY + "\n"
    assert run["secrets_in_env"] == []
    assert "Signed in to Codex as API key ***WXYZ." in term.lines()


def test_a_wrong_answer_is_asked_again_and_not_now_signs_nobody_in(sandbox: Sandbox):
    term = login(sandbox)
    term.expect("Choose 1-4 [1]: ")
    term.send("7\n")
    term.expect("Please answer a number from 1 to 4.")
    term.expect("Choose 1-4 [1]: ", times=2)  # typed before the prompt, "4" would echo first
    term.send("4\n")
    assert term.finish() == 8, term.raw
    assert sandbox.runs() == []
    assert any(
        line.startswith("Not signed in. To sign in later, run `") for line in term.lines()
    ), term.raw


def test_a_failed_sign_in_says_why_and_how_to_try_again(sandbox: Sandbox):
    term = login(sandbox, FAKE_CODEX_LOGIN_FAIL="1")
    term.expect("Choose 1-4 [1]: ")
    term.send("1\n")
    assert term.finish() == 1
    (said,) = [line for line in term.lines() if "failed (exit 1)" in line]
    assert said.startswith("`codex login` failed (exit 1). Codex is installed; to try again, run `")
    # codex-install as this terminal runs it again: here `python -m codex_install`.
    assert said.endswith(f" login` or `{sys.executable} -m codex_install login`.")
