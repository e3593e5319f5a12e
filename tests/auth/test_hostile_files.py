"""Every file the auth commands and the launcher read from CODEX_HOME — auth.json, the refresh
ledger, config.toml — opened without blocking, a regular file only, read up to a cap (issue 21
item 5): a FIFO, a symlink to /dev/zero or an oversized file answers at once with one line,
never a hang, a MemoryError or a traceback. Each through the real entry point, as a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codex_install.auth.quick import AUTH_CAP, CONFIG_CAP, LEDGER_CAP, LEDGER_FILE
from servers.oauth import FakeTokenEndpoint

from .appserver import talk
from .conftest import auth_env, chatgpt_auth, write_auth

CAPS = {"auth.json": AUTH_CAP, LEDGER_FILE: LEDGER_CAP, "config.toml": CONFIG_CAP}
KINDS = ("fifo", "dev-zero", "oversized")
CLI = [sys.executable, "-m", "codex_install"]
LAUNCHER = [sys.executable, "-m", "codex_install.launcher"]


def plant(home: Path, name: str, kind: str) -> None:
    path = home / name
    path.unlink(missing_ok=True)
    if kind == "fifo":
        os.mkfifo(path)  # nobody writes: a blocking open would wait for ever
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    else:
        path.write_bytes(b" " * (CAPS[name] + 1))


@pytest.fixture
def launch_env(tmp_path: Path, home: Path, oauth: FakeTokenEndpoint) -> dict[str, str]:
    """The auth environment with a stand-in codex on PATH that records that it ran."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    codex = bin_dir / "codex"
    codex.write_text(f"#!/bin/sh\necho ran > {tmp_path / 'ran'}\n")
    codex.chmod(0o755)
    return {**auth_env(home, oauth), "PATH": f"{bin_dir}:/usr/bin:/bin"}


def run(argv: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    proc = subprocess.run(
        argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30
    )
    return proc, time.monotonic() - start


@pytest.mark.parametrize("kind", KINDS)
def test_auth_json_that_is_no_small_regular_file_is_signed_out_with_one_line(
    home: Path, oauth: FakeTokenEndpoint, launch_env: dict[str, str], kind: str
) -> None:
    plant(home, "auth.json", kind)
    env = launch_env
    proc, took = run([*CLI, "auth", "status", "--json", "--include-token", "--refresh"], env)
    assert took < 10 and proc.returncode == 8, proc.stderr  # signed out
    assert json.loads(proc.stdout)["authMethod"] is None
    (line,) = proc.stderr.splitlines()
    assert "auth.json" in line and "Traceback" not in proc.stderr
    session = talk([*CLI, "auth", "serve"], env, [{"id": 1, "method": "getAuthStatus"}])
    assert session.result(1)["authMethod"] is None
    assert len(session.stderr.splitlines()) == 1
    # The launcher: one line, the exit code of bad input, codex not started.
    proc, took = run([*LAUNCHER, "exec", "hi"], env)
    assert took < 10 and proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith("codex-launch: error: ") and "auth.json" in line
    assert not (home.parent / "ran").exists()
    assert oauth.count == 0


@pytest.mark.parametrize("name", [LEDGER_FILE, "config.toml"])
@pytest.mark.parametrize("kind", KINDS)
def test_ledger_or_config_that_is_no_small_regular_file_is_ignored(
    home: Path, oauth: FakeTokenEndpoint, launch_env: dict[str, str], name: str, kind: str
) -> None:
    data = chatgpt_auth(exp_in=3600)
    write_auth(home, data)
    plant(home, name, kind)
    env = launch_env
    proc, took = run([*CLI, "auth", "status", "--json", "--include-token"], env)
    assert took < 10 and proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["authToken"] == data["tokens"]["access_token"]
    assert "Traceback" not in proc.stderr
    proc, took = run([*LAUNCHER, "exec", "hi"], env)
    assert took < 10 and proc.returncode == 0, proc.stderr
    assert (home.parent / "ran").exists()  # usable credentials: codex started
    assert oauth.count == 0
