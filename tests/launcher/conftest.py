"""Fixtures for the launcher and first sign-in tests: a temp CODEX_HOME with a fake ``codex``
installed in the standalone layout, auth.json writers, and helpers to run ``codex-launch``."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from codex_install.paths import Paths
from servers.oauth import FakeTokenEndpoint, running

FAKE_CODEX = Path(__file__).with_name("fake_codex.py")
TARGET = "x86_64-unknown-linux-musl"
API_KEY = "sk-test-SECRETKEY0123456789abcdWXYZ"


def b64url(obj: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def make_jwt(claims: Mapping[str, Any]) -> str:
    return f"{b64url({'alg': 'none'})}.{b64url(dict(claims))}.sig"


@dataclass
class Sandbox:
    root: Path
    home: Path
    codex_home: Path
    bin_dir: Path
    log: Path
    codex: Path  # the real file inside releases/
    env: dict[str, str]

    @property
    def paths(self) -> Paths:
        return Paths(
            codex_home=self.codex_home, bin_dir=self.bin_dir, cache_dir=self.root / "cache"
        )

    @property
    def auth_file(self) -> Path:
        return self.codex_home / "auth.json"

    def runs(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def write_auth(self, data: Mapping[str, Any]) -> None:
        self.auth_file.write_text(json.dumps(data))
        self.auth_file.chmod(0o600)

    def sign_in_api_key(self, key: str = API_KEY) -> None:
        self.write_auth({"auth_mode": "apikey", "OPENAI_API_KEY": key})

    def sign_in_chatgpt(self, *, expires_in: float = 3600, refresh_token: str = "rt-1") -> None:
        now = time.time()
        auth = {"chatgpt_plan_type": "pro", "chatgpt_account_id": "acct-9"}
        self.write_auth(
            {
                "auth_mode": "chatgpt",
                "OPENAI_API_KEY": None,
                "tokens": {
                    "id_token": make_jwt(
                        {"email": "ada@example.com", "https://api.openai.com/auth": auth}
                    ),
                    "access_token": make_jwt({"exp": int(now + expires_in)}),
                    "refresh_token": refresh_token,
                    "account_id": "acct-9",
                },
                "last_refresh": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 86400)),
                "unknown_field_kept": {"x": 1},
            }
        )


def install_fake_codex(codex_home: Path, bin_dir: Path | None) -> Path:
    release = codex_home / "packages" / "standalone" / "releases" / f"0.169.0-{TARGET}"
    (release / "bin").mkdir(parents=True)
    codex = release / "bin" / "codex"
    codex.write_text(f"#!{sys.executable}\n" + FAKE_CODEX.read_text())
    codex.chmod(0o755)
    current = codex_home / "packages" / "standalone" / "current"
    current.symlink_to(release.relative_to(current.parent))
    if bin_dir is not None:
        bin_dir.mkdir(parents=True, exist_ok=True)
        (bin_dir / "codex").symlink_to(current / "bin" / "codex")
    return codex


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    home = tmp_path / "home"
    codex_home = home / ".codex"
    bin_dir = home / ".local" / "bin"
    home.mkdir()
    codex = install_fake_codex(codex_home, bin_dir)
    log = tmp_path / "codex-runs.jsonl"
    env = {
        "HOME": str(home),
        "CODEX_HOME": str(codex_home),
        "CODEX_INSTALL_DIR": str(bin_dir),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PATH": os.pathsep.join(["/usr/bin", "/bin"]),
        "FAKE_CODEX_LOG": str(log),
        "LANG": "C.UTF-8",
        # Not an SSH session, and a display: the browser flow unless a test says otherwise.
        "DISPLAY": ":0",
        # Never let a real token endpoint be reached from a test.
        "CODEX_REFRESH_TOKEN_URL_OVERRIDE": "http://127.0.0.1:9/oauth/token",
    }
    return Sandbox(tmp_path, home, codex_home, bin_dir, log, codex, env)


def launcher_cmd(*args: str, python_flags: Sequence[str] = ()) -> list[str]:
    return [sys.executable, *python_flags, "-m", "codex_install.launcher", *args]


def run_launcher(
    sandbox: Sandbox, *args: str, env: Mapping[str, str] | None = None, **kw: Any
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        launcher_cmd(*args, python_flags=kw.pop("python_flags", ())),
        env=dict(sandbox.env if env is None else env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        **kw,
    )


@pytest.fixture
def token_server(sandbox: Sandbox) -> Iterator[FakeTokenEndpoint]:
    """The shared loopback token endpoint (tests/servers/oauth.py); the sandbox environment
    points refreshes at it."""
    with running() as endpoint:
        sandbox.env["CODEX_REFRESH_TOKEN_URL_OVERRIDE"] = endpoint.url
        yield endpoint
