"""`codex-launch` end to end: the real launcher process in front of the fake codex."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from servers.oauth import FakeTokenEndpoint
from terminal_screen import Terminal

from .conftest import API_KEY, Sandbox, launcher_cmd, run_launcher

HEAVY_MODULES = ("httpx", "httpcore", "requests", "requests_cache", "click")


def test_exec_passes_args_stdout_and_exit_code_through_unchanged(sandbox: Sandbox) -> None:
    sandbox.sign_in_api_key()
    args = ["exec", "--model", "o3", "a b  c", "--", "--help", "", "ünïcode"]
    proc = run_launcher(sandbox, *args, env={**sandbox.env, "FAKE_CODEX_EXIT": "7"})
    assert proc.returncode == 7, proc.stderr
    assert proc.stdout == "codex ran: " + json.dumps(args) + "\n"
    assert proc.stderr == ""
    [run] = sandbox.runs()
    assert run["argv"] == args


def test_exec_replaces_the_launcher_process(sandbox: Sandbox) -> None:
    sandbox.sign_in_api_key()
    proc = subprocess.Popen(
        launcher_cmd("hello"), env=sandbox.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE
    )
    proc.communicate(timeout=30)
    [run] = sandbox.runs()
    assert run["pid"] == proc.pid


def test_signals_reach_codex(sandbox: Sandbox) -> None:
    sandbox.sign_in_api_key()
    proc = subprocess.Popen(
        launcher_cmd("wait-for-signal"),
        env=sandbox.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "codex waiting\n"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 42  # codex's own handler decided the exit status
    assert proc.stdout.read() == f"codex got signal {signal.SIGTERM.value}\n"


def imported_modules(stderr: str) -> set[str]:
    """Top-level names of the modules a ``python -X importtime`` run listed."""
    return {
        m.group(1).strip().split(".")[0]
        for m in re.finditer(r"^import time:\s+\d+ \|\s+\d+ \|\s*(.+)$", stderr, re.M)
    }


def test_hot_path_imports_no_http_or_cli_library(sandbox: Sandbox) -> None:
    sandbox.sign_in_chatgpt()  # fresh token: read one file, exec
    proc = run_launcher(sandbox, "hello", python_flags=["-X", "importtime"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("codex ran:")
    imported = imported_modules(proc.stderr)
    assert "codex_install" in imported  # the check looked at the right process
    assert imported.isdisjoint(HEAVY_MODULES), sorted(imported & set(HEAVY_MODULES))


def test_hot_path_does_not_import_typing(sandbox: Sandbox) -> None:
    # typing alone costs ~3 ms a launch; only what the bare interpreter loads itself is excused.
    sandbox.sign_in_api_key()
    proc = run_launcher(sandbox, "hello", python_flags=["-X", "importtime"])
    assert proc.returncode == 0, proc.stderr
    bare = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "pass"],
        env=sandbox.env,
        capture_output=True,
        text=True,
        check=True,
    )
    added = imported_modules(proc.stderr) - imported_modules(bare.stderr)
    assert "typing" not in added


SCRIPT = Path(__file__).resolve().parents[2] / "installer" / "scripts" / "codex-launch"
# All the hot path may import beyond the bare interpreter (issue 12): no re, json, pathlib,
# dataclasses, typing or collections, which were most of the launcher's old overhead.
HOT_PATH_ALLOWED = {"__future__", "_json", "binascii", "codex_install"}


@pytest.mark.parametrize(
    ("login", "args"),
    [(None, ["--version"]), ("apikey", ["exec", "hello"]), ("chatgpt", ["exec", "hello"])],
)
def test_installed_script_hot_path_imports_only_os_level_modules(
    sandbox: Sandbox, login: str | None, args: list[str]
) -> None:
    if login == "apikey":
        sandbox.sign_in_api_key()
    elif login == "chatgpt":
        sandbox.sign_in_chatgpt()
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", str(SCRIPT), *args],
        env=sandbox.env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(("codex ran:", "codex-cli"))
    bare = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "pass"],
        env=sandbox.env,
        capture_output=True,
        text=True,
        check=True,
    )
    added = imported_modules(proc.stderr) - imported_modules(bare.stderr)
    assert "codex_install" in added
    assert added <= HOT_PATH_ALLOWED, sorted(added - HOT_PATH_ALLOWED)


def test_signed_out_non_interactive_exits_8_without_starting_codex(sandbox: Sandbox) -> None:
    proc = run_launcher(sandbox, "exec", "hi")
    assert proc.returncode == 8
    assert proc.stdout == ""
    assert "Not signed in." in proc.stderr and "codex login" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert sandbox.runs() == []


def test_codex_non_interactive_env_counts_as_non_interactive(sandbox: Sandbox) -> None:
    p = Terminal(launcher_cmd("hi"), {**sandbox.env, "CODEX_NON_INTERACTIVE": "1"})
    assert p.finish() == 8
    assert "Not signed in." in p.raw
    assert sandbox.runs() == []


def test_malformed_auth_json_is_one_line_and_exit_2(sandbox: Sandbox) -> None:
    sandbox.auth_file.write_text("{oops")
    proc = run_launcher(sandbox, "hi")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert sandbox.runs() == []


@pytest.mark.parametrize(
    "args",
    [["--version"], ["--help"], ["login", "status"], ["logout"], ["completion", "bash"], ["help"]],
)
def test_commands_that_need_no_auth_pass_straight_through(
    sandbox: Sandbox, args: list[str]
) -> None:
    sandbox.auth_file.write_text("{not even read")
    proc = run_launcher(sandbox, *args, env={**sandbox.env, "FAKE_CODEX_LOGGED_IN": "1"})
    assert proc.returncode == 0, proc.stderr
    assert [r["argv"] for r in sandbox.runs()] == [args]


def test_codex_missing_is_exit_3_with_install_hint(sandbox: Sandbox) -> None:
    (sandbox.bin_dir / "codex").unlink()
    (sandbox.codex_home / "packages" / "standalone" / "current").unlink()
    proc = run_launcher(sandbox, "--version")
    assert proc.returncode == 3
    assert "codex-install" in proc.stderr


def test_codex_the_kernel_cannot_run_is_one_line_and_exit_7(sandbox: Sandbox) -> None:
    # An executable file built for another machine: execv fails with ENOEXEC.
    sandbox.codex.write_bytes(b"\x7fELF not for this machine")
    proc = run_launcher(sandbox, "--version")
    assert proc.returncode == 7
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("codex-launch: error: cannot run ")
    assert "Exec format error" in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_codex_is_found_on_path_when_not_installed_here(sandbox: Sandbox, tmp_path: Path) -> None:
    (sandbox.bin_dir / "codex").unlink()
    (sandbox.codex_home / "packages" / "standalone" / "current").unlink()
    elsewhere = tmp_path / "npm-global" / "bin"
    elsewhere.mkdir(parents=True)
    (elsewhere / "codex").symlink_to(sandbox.codex)
    env = {**sandbox.env, "PATH": f"{elsewhere}{os.pathsep}{sandbox.env['PATH']}"}
    proc = run_launcher(sandbox, "--version", env=env)
    assert (proc.returncode, proc.stdout) == (0, "codex-cli 0.169.0\n")


def test_current_is_used_when_the_bin_link_is_missing(sandbox: Sandbox) -> None:
    (sandbox.bin_dir / "codex").unlink()
    proc = run_launcher(sandbox, "--version")
    assert (proc.returncode, proc.stdout) == (0, "codex-cli 0.169.0\n")


def test_console_script_runs_codex(sandbox: Sandbox) -> None:
    script = Path(sys.executable).with_name("codex-launch")
    if not script.exists():
        pytest.skip("codex-launch console script not installed in this environment")
    sandbox.sign_in_api_key()
    proc = subprocess.run(
        [str(script), "hello"], env=sandbox.env, capture_output=True, text=True, timeout=30
    )
    assert (proc.returncode, proc.stdout) == (0, 'codex ran: ["hello"]\n'), proc.stderr


# --- signed out, with a key in the environment (CI) ---


def test_openai_api_key_alone_is_not_a_sign_in_and_nothing_is_written(sandbox: Sandbox) -> None:
    # Codex does not use OPENAI_API_KEY without a login; the launcher never logs in behind the
    # user's back (only `codex-install login` and the install's first sign-in do, when asked).
    for extra in ({}, {"CODEX_NON_INTERACTIVE": "1"}):
        env = {**sandbox.env, "OPENAI_API_KEY": API_KEY, **extra}
        proc = run_launcher(sandbox, "exec", "hi", env=env)
        assert proc.returncode == 8, proc.stderr
        assert "`codex-install login`" in proc.stderr
        assert "OPENAI_API_KEY is set" in proc.stderr
        assert len(proc.stderr.splitlines()) == 1
        assert API_KEY not in proc.stdout + proc.stderr
    assert sandbox.runs() == []
    assert not sandbox.auth_file.exists()


def test_codex_api_key_is_signed_in_without_reading_or_writing_anything(sandbox: Sandbox) -> None:
    sandbox.auth_file.write_text("[]")  # would be exit 2 if it were read
    env = {**sandbox.env, "CODEX_API_KEY": API_KEY, "CODEX_NON_INTERACTIVE": "1"}
    proc = run_launcher(sandbox, "exec", "hi", env=env)
    assert proc.returncode == 0, proc.stderr
    assert [r["argv"] for r in sandbox.runs()] == [["exec", "hi"]]
    assert sandbox.auth_file.read_text() == "[]"
    assert sorted(p.name for p in sandbox.codex_home.iterdir()) == ["auth.json", "packages"]


# --- stale tokens and poison (§9) ---


def test_stale_token_is_refreshed_before_exec(
    sandbox: Sandbox, token_server: FakeTokenEndpoint
) -> None:
    old = token_server.issue_refresh_token()
    sandbox.sign_in_chatgpt(expires_in=60, refresh_token=old)
    before = json.loads(sandbox.auth_file.read_text())["tokens"]["access_token"]
    proc = run_launcher(sandbox, "hi")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == 'codex ran: ["hi"]\n'
    assert [r["refresh_token"] for r in token_server.requests] == [old]
    data = json.loads(sandbox.auth_file.read_text())
    assert data["tokens"]["access_token"] != before
    assert data["tokens"]["refresh_token"] not in (old, None)
    assert data["unknown_field_kept"] == {"x": 1}
    assert old not in proc.stderr and data["tokens"]["access_token"] not in proc.stderr
    # The refreshed token is fresh: the next run execs without a request.
    assert run_launcher(sandbox, "again").returncode == 0
    assert token_server.count == 1


def test_fresh_token_makes_no_request(sandbox: Sandbox, token_server: FakeTokenEndpoint) -> None:
    sandbox.sign_in_chatgpt(expires_in=3600)
    proc = run_launcher(sandbox, "hi")
    assert proc.returncode == 0
    assert token_server.requests == []


def test_permanent_refresh_failure_exits_8_and_never_retries(
    sandbox: Sandbox, token_server: FakeTokenEndpoint
) -> None:
    sandbox.sign_in_chatgpt(expires_in=60)
    token_server.respond(401, {"error": {"code": "refresh_token_reused"}})
    first = run_launcher(sandbox, "hi")
    assert first.returncode == 8
    assert "your refresh token was already used" in first.stderr
    assert len(token_server.requests) == 1
    # Poisoned: every later run fails fast with the stored reason and makes no request.
    for _ in range(2):
        again = run_launcher(sandbox, "hi")
        assert again.returncode == 8
        assert "your refresh token was already used" in again.stderr
        assert "Sign in again with `codex login`" in again.stderr
        assert len(again.stderr.strip().splitlines()) == 1
    assert len(token_server.requests) == 1
    assert sandbox.runs() == []


def test_transient_refresh_failure_warns_and_still_starts_codex(
    sandbox: Sandbox, token_server: FakeTokenEndpoint
) -> None:
    sandbox.sign_in_chatgpt(expires_in=120)
    token_server.respond(503, {"error": "temporarily_unavailable"})
    proc = run_launcher(sandbox, "hi")
    assert proc.returncode == 0, proc.stderr
    assert "could not refresh" in proc.stderr
    assert proc.stdout == 'codex ran: ["hi"]\n'


def test_refresh_that_cannot_lock_codex_home_warns_and_still_starts_codex(
    sandbox: Sandbox, token_server: FakeTokenEndpoint
) -> None:
    # As with a read-only CODEX_HOME: the refresh lock cannot be opened. The token is stale but
    # not expired, so codex must still start rather than the launcher failing with exit 7.
    sandbox.sign_in_chatgpt(expires_in=120)
    (sandbox.codex_home / "codex-install-auth.lock").mkdir()
    proc = run_launcher(sandbox, "hi")
    assert proc.returncode == 0, proc.stderr
    assert "warning: could not refresh" in proc.stderr
    assert proc.stdout == 'codex ran: ["hi"]\n'
    assert token_server.requests == []


# --- interactive (pseudo-terminal) ---


def test_interactive_signed_out_offers_sign_in_then_runs_codex(sandbox: Sandbox) -> None:
    p = Terminal(launcher_cmd("exec", "hi"), sandbox.env)
    p.expect("Choose 1-4")
    p.send("y\n")
    assert p.finish() == 0, p.raw
    assert "Opening a browser" in p.raw
    assert 'codex ran: ["exec", "hi"]' in p.raw
    runs = sandbox.runs()
    assert [r["argv"] for r in runs] == [["login"], ["exec", "hi"]]
    assert runs[0]["stdin_isatty"] is True  # codex login got the terminal


def test_interactive_over_ssh_uses_device_auth(sandbox: Sandbox) -> None:
    env = {**sandbox.env, "SSH_TTY": "/dev/pts/9"}
    p = Terminal(launcher_cmd("hi"), env)
    p.expect("code to enter")
    p.send("\n")
    assert p.finish() == 0, p.raw
    assert "ABCD-1234" in p.raw
    assert [r["argv"] for r in sandbox.runs()] == [["login", "--device-auth"], ["hi"]]


def test_interactive_declined_exits_8_without_codex(sandbox: Sandbox) -> None:
    p = Terminal(launcher_cmd("hi"), sandbox.env)
    p.expect("Choose 1-4")
    p.send("n\n")
    assert p.finish() == 8
    assert "codex was not started" in p.raw
    assert sandbox.runs() == []


def test_interactive_poisoned_explains_and_offers_sign_in(
    sandbox: Sandbox, token_server: FakeTokenEndpoint
) -> None:
    sandbox.sign_in_chatgpt(expires_in=60)
    token_server.respond(400, {"error": "invalid_grant"})
    assert run_launcher(sandbox, "hi").returncode == 8
    p = Terminal(launcher_cmd("hi"), sandbox.env)
    p.expect("Choose 1-4")
    assert "could not be refreshed" in p.raw
    p.send("y\n")
    assert p.finish() == 0, p.raw
    assert [r["argv"] for r in sandbox.runs()] == [["login"], ["hi"]]
    assert len(token_server.requests) == 1
