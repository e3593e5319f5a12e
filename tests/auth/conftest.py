"""Fixtures for the auth tests: a temp CODEX_HOME, the fake token endpoint, auth.json writers and
a launcher for concurrent driver processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from servers import chatgpt
from servers.oauth import FakeTokenEndpoint, id_token, make_jwt, running

DRIVER = Path(__file__).with_name("driver.py")


@pytest.fixture
def oauth() -> Iterator[FakeTokenEndpoint]:
    with running() as endpoint:
        yield endpoint


# What the fake ChatGPT backend routes acct-1 to by default, and so what account/read answers.
WORKSPACE_ORIGIN = "https://workspace.example"
ROUTED = {
    "chatgptAccountId": "acct-1",
    "backendOrigin": WORKSPACE_ORIGIN,
    "accountRoutingOverride": "us",
}


@pytest.fixture
def backend() -> Iterator[chatgpt.FakeChatGPT]:
    """The loopback ChatGPT backend every CODEX_HOME of these tests points at (config.toml's
    chatgpt_base_url, as Codex reads it): acct-1 is routed to WORKSPACE_ORIGIN."""
    with chatgpt.running(body=chatgpt.accounts(origin=WORKSPACE_ORIGIN, override="us")) as b:
        yield b


@pytest.fixture
def home(tmp_path: Path, backend: chatgpt.FakeChatGPT) -> Path:
    path = tmp_path / "codex-home"
    path.mkdir()
    (path / "config.toml").write_text(f'chatgpt_base_url = "{backend.base_url}"\n')
    return path


def access_token(exp_in: float | None, now: float | None = None) -> str:
    claims: dict[str, Any] = {"sub": "user-1"}
    if exp_in is not None:
        claims["exp"] = int((time.time() if now is None else now) + exp_in)
    return make_jwt(claims)


def chatgpt_auth(
    refresh_token: str = "rt-unknown",
    *,
    exp_in: float | None = 3600,
    now: float | None = None,
    email: str = "dev@example.com",
    plan: str = "plus",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "auth_mode": "chatgpt",
        "OPENAI_API_KEY": None,
        "tokens": {
            "id_token": id_token(email=email, plan=plan),
            "access_token": access_token(exp_in, now),
            "refresh_token": refresh_token,
            "account_id": "acct-1",
        },
        "last_refresh": "2026-11-20T10:00:00Z",
        **extra,
    }


def write_auth(home: Path, data: Mapping[str, Any] | str) -> Path:
    path = home / "auth.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2))
    path.chmod(0o600)
    return path


def read_auth(home: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((home / "auth.json").read_text())
    return data


def auth_env(home: Path, endpoint: FakeTokenEndpoint) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODEX_", "OPENAI_"))}
    env.update(CODEX_HOME=str(home), CODEX_REFRESH_TOKEN_URL_OVERRIDE=endpoint.url)
    return env


@dataclass
class Drivers:
    """N driver processes started together: each says it is ready, then all start on one go."""

    procs: list[subprocess.Popen[str]]
    sync: Path

    def go_and_wait(self, timeout: float = 60) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(list(self.sync.glob("ready-*"))) < len(self.procs):
            if any(p.poll() is not None for p in self.procs):
                break
            assert time.monotonic() < deadline, "drivers never became ready"
            time.sleep(0.01)
        (self.sync / "go").touch()
        results = []
        for proc in self.procs:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            assert proc.returncode == 0, err
            results.append(json.loads(out))
        return results


def start_drivers(
    n: int, args: list[str], home: Path, endpoint: FakeTokenEndpoint, sync: Path
) -> Drivers:
    sync.mkdir()
    env = auth_env(home, endpoint)
    procs = [
        subprocess.Popen(
            [sys.executable, str(DRIVER), "--sync", str(sync), "--name", str(i), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(n)
    ]
    return Drivers(procs, sync)
