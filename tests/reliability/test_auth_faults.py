"""The auth manager under faults (SPEC §9): a refresher killed at any step, auth.json replaced by
another process mid-refresh, a token endpoint slower than the timeout. The lock is never left
held, auth.json is never torn or clobbered, and a dead snapshot costs at most one request."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from codex_install.auth import store
from codex_install.auth.ledger import read_ledger
from codex_install.auth.lock import refresh_lock
from codex_install.auth.manager import AuthManager
from codex_install.errors import RefreshError
from servers.oauth import FakeTokenEndpoint, id_token, make_jwt, running

from . import install_child
from .helpers import INSTALLER

KILL_TRIALS = 8


@pytest.fixture
def endpoint() -> Iterator[FakeTokenEndpoint]:
    with running() as srv:
        yield srv


def stale_auth(refresh_token: str, email: str = "dev@example.com") -> dict[str, Any]:
    return {
        "auth_mode": "chatgpt",
        "OPENAI_API_KEY": None,
        "tokens": {
            "id_token": id_token(email=email),
            "access_token": make_jwt({"exp": int(time.time()) - 60}),
            "refresh_token": refresh_token,
            "account_id": "acct-1",
        },
        "last_refresh": "2026-11-20T10:00:00Z",
        "codex_keeps_this": {"unknown": True},
    }


def fresh_auth(email: str) -> dict[str, Any]:
    data = stale_auth("rt-new-login", email)
    data["tokens"]["access_token"] = make_jwt({"exp": int(time.time()) + 3600})
    return data


def write(home: Path, data: dict[str, Any]) -> None:
    """As `codex login` writes it: a whole new file renamed into place, no lock taken."""
    tmp = home / "auth.json.codex-tmp"
    tmp.write_text(json.dumps(data))
    tmp.chmod(0o600)
    os.replace(tmp, home / "auth.json")


def read(home: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((home / "auth.json").read_text())
    return data


def manager(home: Path, endpoint: FakeTokenEndpoint, **kw: Any) -> AuthManager:
    return AuthManager(home, env={"CODEX_REFRESH_TOKEN_URL_OVERRIDE": endpoint.url}, **kw)


def lock_is_free(home: Path) -> bool:
    try:
        with refresh_lock(home, timeout=0.2):
            return True
    except RefreshError:
        return False


def debris(home: Path) -> list[str]:
    return sorted(p.name for p in home.iterdir() if p.name.endswith(".tmp"))


def check_after_death(home: Path, endpoint: FakeTokenEndpoint, old: dict[str, Any]) -> str:
    """auth.json whole (old or refreshed), the lock free, and the next refresh settles."""
    data = read(home)  # never torn: always parses
    assert (home / "auth.json").stat().st_mode & 0o777 == 0o600
    refreshed = data != old
    if refreshed:  # the new tokens landed, and nothing else of the file was lost
        assert data["codex_keeps_this"] == old["codex_keeps_this"]
        assert data["tokens"]["refresh_token"] != old["tokens"]["refresh_token"]
    assert lock_is_free(home), "a dead refresher still holds the lock"
    spent = endpoint.count
    with manager(home, endpoint, lock_timeout=5) as mgr:
        state = mgr.ensure_fresh()
    # The next refresher sweeps what the dead one left: temp copies hold token material.
    assert debris(home) == [], "temp files (with token material) left in CODEX_HOME"
    if state.kind == "poisoned":
        # Only the inherent case: the server rotated the token, the refresher died before
        # auth.json had the new one. Exactly one more request found that out, then never again.
        assert not refreshed and spent >= 1 and endpoint.count == spent + 1, state
        with manager(home, endpoint) as mgr:
            assert mgr.ensure_fresh().kind == "poisoned"
        assert endpoint.count == spent + 1
        return "poisoned (token rotated before the kill)"
    assert state.kind == "chatgpt" and not state.stale, state
    return "refreshed" if refreshed else "refreshed by the next process"


def _die_at(crash_at: int, home: Path, endpoint: FakeTokenEndpoint) -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns into pytest
        code = 99
        try:
            install_child.instrument(None, crash_at=crash_at, root=str(home))
            # trust_env=False: no system-proxy lookup in a forked child (not fork-safe on macOS)
            with httpx.Client(trust_env=False) as client:
                manager(home, endpoint, client=client).ensure_fresh()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_refresher_dying_before_each_filesystem_step_tears_nothing(endpoint, tmp_path):
    outcomes: dict[str, int] = {}
    crash_at = 0
    while True:
        crash_at += 1
        home = tmp_path / f"crash-{crash_at}"
        home.mkdir()
        old = stale_auth(endpoint.issue_refresh_token())
        write(home, old)
        code = _die_at(crash_at, home, endpoint)
        if code == 0:
            break
        assert code == 137, f"crash {crash_at}: exit {code}"
        try:
            outcome = check_after_death(home, endpoint, old)
        except AssertionError as err:
            raise AssertionError(f"died before mutation {crash_at}: {err}") from err
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert crash_at > 3, "the refresher never reached its writes"
    print(f"auth crash points: {crash_at - 1}: {outcomes}")


REFRESH_CHILD = """
import os, sys
from pathlib import Path
from codex_install.auth.manager import AuthManager
open(sys.argv[1], "w").close()
AuthManager(Path(os.environ["CODEX_HOME"])).ensure_fresh()
"""


@pytest.mark.slow
def test_sigkill_mid_refresh_releases_the_lock_and_tears_nothing(endpoint, tmp_path):
    """Random kills while the token request is in flight (the endpoint answers slowly)."""
    rng = random.Random(9)
    endpoint.delay = 0.4
    outcomes: dict[str, int] = {}
    for trial in range(KILL_TRIALS):
        home = tmp_path / f"kill-{trial}"
        home.mkdir()
        old = stale_auth(endpoint.issue_refresh_token())
        write(home, old)
        started = tmp_path / f"started-{trial}"
        env = {
            **os.environ,
            "CODEX_HOME": str(home),
            "PYTHONPATH": str(INSTALLER),
            "CODEX_REFRESH_TOKEN_URL_OVERRIDE": endpoint.url,
        }
        before = endpoint.count
        proc = subprocess.Popen(
            [sys.executable, "-c", REFRESH_CHILD, str(started)], env=env, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 30
        while endpoint.count == before and proc.poll() is None:  # the request is in flight
            assert time.monotonic() < deadline
            time.sleep(0.002)
        time.sleep(rng.uniform(0, endpoint.delay * 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        endpoint.delay, delay = 0.0, endpoint.delay
        try:
            outcome = check_after_death(home, endpoint, old)
        finally:
            endpoint.delay = delay
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    print(f"auth kill trials: {KILL_TRIALS}: {outcomes}")


def _refresh_in_background(mgr: AuthManager) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["state"] = mgr.ensure_fresh()
        except RefreshError as err:
            out["error"] = err

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


@pytest.mark.parametrize("reply", ["tokens", "refresh_token_reused", "logout"])
def test_auth_json_replaced_during_a_refresh_is_never_clobbered(endpoint, tmp_path, reply):
    """Another process (a new `codex login`, a logout) changes auth.json while our token
    request is in flight: its file wins, and a failure of the old snapshot does not poison it."""
    home = tmp_path
    old = stale_auth(endpoint.issue_refresh_token())
    write(home, old)
    if reply == "refresh_token_reused":
        endpoint.respond(401, {"error": {"code": "refresh_token_reused"}})
    endpoint.delay = 0.5
    mgr = manager(home, endpoint)
    thread, _ = _refresh_in_background(mgr)
    deadline = time.monotonic() + 10
    while endpoint.count == 0:
        assert time.monotonic() < deadline
        time.sleep(0.002)
    new = fresh_auth("other@example.com")
    if reply == "logout":
        (home / "auth.json").unlink()
    else:
        write(home, new)
    thread.join(10)
    mgr.close()
    assert not thread.is_alive()
    if reply == "logout":
        assert not (home / "auth.json").exists(), "a logout was undone by the refresh"
        return
    assert read(home) == new, "the refresh overwrote the newer login"
    assert read_ledger(home).poison_for(store.snapshot_digest(new)) is None
    with manager(home, endpoint) as fresh:
        status = fresh.get_auth_status(include_token=True)
        account = fresh.account_read(discover=False)  # who: routing is tests/auth's
    assert status["authToken"] == new["tokens"]["access_token"]
    assert account["account"] == {
        "type": "chatgpt",
        "email": "other@example.com",
        "planType": "plus",
        "workspaceName": None,
    }
    assert endpoint.count == 1  # the new login is fresh: nothing more to ask


def test_token_endpoint_slower_than_the_timeout_backs_off_for_everyone(endpoint, tmp_path):
    home = tmp_path
    old = stale_auth(endpoint.issue_refresh_token())
    write(home, old)
    endpoint.delay = 3.0  # far beyond the client's timeout below
    timeout = httpx.Timeout(0.3)
    with httpx.Client(timeout=timeout) as client:
        mgr = manager(home, endpoint, client=client)
        t0 = time.monotonic()
        with pytest.raises(RefreshError) as caught:
            mgr.ensure_fresh()
        took = time.monotonic() - t0
    assert not caught.value.permanent
    assert took < 2.0, f"waited {took:.1f}s for a 0.3s timeout"
    assert read(home) == old  # untouched, not poisoned
    assert lock_is_free(home)
    ledger = read_ledger(home)
    assert ledger.poison is None and ledger.backoff is not None
    # Another process in the same backoff window fails fast and sends nothing.
    with manager(home, endpoint) as other:
        t0 = time.monotonic()
        with pytest.raises(RefreshError):
            other.ensure_fresh()
        assert time.monotonic() - t0 < 0.5
        status = other.get_auth_status(include_token=True, refresh_token=True)
    assert endpoint.count == 1
    assert status["authMethod"] == "chatgpt"
    # During an outage the cached token is handed out, as Codex does: null means "sign in again".
    assert status["authToken"] == old["tokens"]["access_token"]
