"""`--remote` (Codex 0.171.0, issue 22): a session on a remote app-server runs with that server's
credential, so codex-launch passes it through from a signed-out CODEX_HOME, wherever the flag
stands, through the real entry point."""

from __future__ import annotations

import pytest

from .conftest import Sandbox, run_launcher

REMOTE_RUNS = [
    ["exec", "--remote", "ws://127.0.0.1:4500", "hi"],
    ["--remote", "ws://127.0.0.1:4500", "exec", "hi"],
    ["e", "--remote=unix://", "hi"],
    ["--remote", "ws://127.0.0.1:4500", "a prompt for the TUI"],
    ["exec", "review", "--remote", "ws://h:1", "--remote-auth-token-env", "TOKEN"],
]


@pytest.mark.parametrize("args", REMOTE_RUNS)
def test_remote_session_from_a_signed_out_home_runs_codex(
    sandbox: Sandbox, args: list[str]
) -> None:
    assert not sandbox.auth_file.exists()
    proc = run_launcher(sandbox, *args)
    assert proc.returncode == 0, proc.stderr
    assert [run["argv"] for run in sandbox.runs()] == [args]
    assert proc.stderr == ""


def test_the_same_run_without_remote_still_needs_a_sign_in(sandbox: Sandbox) -> None:
    proc = run_launcher(sandbox, "exec", "--", "--remote", "ws://h:1")
    assert proc.returncode == 8
    assert sandbox.runs() == []
    assert proc.stderr.count("\n") == 1
