"""A token endpoint that echoes a token back as its error (issue 21 item 6, the auth part): the
refresh token never reaches codex-launch's stderr, `auth status`, `auth serve` or the refresh
ledger, whatever field it comes back in."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codex_install.auth.ledger import LEDGER_FILE
from servers.oauth import FakeTokenEndpoint

from .appserver import talk
from .conftest import auth_env, chatgpt_auth, write_auth

ECHOES: list[tuple[int, Any]] = [
    (400, {"error": {"code": "TOKEN", "message": "TOKEN"}}),  # looks like a permanent code
    (400, {"error": "TOKEN"}),
    (503, {"code": "TOKEN"}),  # transient: its code goes into the message and the backoff
    (429, {"error": {"code": "TOKEN"}}),
]


def said_by(entry: str, env: dict[str, str], tmp_path: Path) -> str:
    if entry == "serve":
        session = talk(
            [sys.executable, "-m", "codex_install", "auth", "serve"],
            env,
            [
                {
                    "id": 1,
                    "method": "getAuthStatus",
                    "params": {"includeToken": True, "refreshToken": True},
                }
            ],
        )
        return session.stderr + json.dumps(session.answers)
    if entry == "status":
        argv = [sys.executable, "-m", "codex_install", "auth", "status", "--refresh"]
    else:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        (bin_dir / "codex").write_text("#!/bin/sh\nexit 0\n")
        (bin_dir / "codex").chmod(0o755)
        env = {**env, "PATH": f"{bin_dir}:/usr/bin:/bin"}
        argv = [sys.executable, "-m", "codex_install.launcher", "exec", "hi"]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30, check=False)
    return proc.stdout + proc.stderr


@pytest.mark.parametrize("entry", ["launcher", "status", "serve"])
@pytest.mark.parametrize("echo", range(len(ECHOES)))
def test_an_echoed_refresh_token_is_never_shown_or_kept(
    tmp_path: Path, home: Path, oauth: FakeTokenEndpoint, entry: str, echo: int
) -> None:
    token = oauth.issue_refresh_token()
    write_auth(home, chatgpt_auth(token, exp_in=60))
    status, body = ECHOES[echo]
    oauth.respond(status, json.loads(json.dumps(body).replace("TOKEN", token)))
    said = said_by(entry, auth_env(home, oauth), tmp_path)
    assert oauth.count == 1
    assert token not in said
    assert token not in (home / LEDGER_FILE).read_text()
