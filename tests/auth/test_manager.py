"""AuthManager against the fake token endpoint, in one process (SPEC §9)."""

from __future__ import annotations

import fcntl
import json
import logging
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from codex_install.auth.ledger import LEDGER_FILE, read_ledger
from codex_install.auth.manager import AuthManager
from codex_install.auth.store import load_snapshot
from codex_install.errors import AuthFileError, FilesystemError, RefreshError
from servers.oauth import CLIENT_ID, FakeTokenEndpoint

from .conftest import ROUTED, auth_env, chatgpt_auth, read_auth, write_auth

DAY = 24 * 3600.0
POISONED_STATUS = {"authMethod": "chatgpt", "authToken": None, "requiresOpenaiAuth": True}
SIGNED_OUT_STATUS = {"authMethod": None, "authToken": None, "requiresOpenaiAuth": True}
# Codex 0.169.0's account/read when signed out, measured: every key present, each null.
SIGNED_OUT_ACCOUNT = {
    "account": None,
    "userId": None,
    "requiresOpenaiAuth": True,
    "workspaceRouting": None,
}


class FakeClock:
    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now

    def __call__(self) -> float:
        return self.now


def make_manager(home: Path, oauth: FakeTokenEndpoint, **kwargs: Any) -> AuthManager:
    return AuthManager(home, env=auth_env(home, oauth), **kwargs)


def stale_login(home: Path, oauth: FakeTokenEndpoint, **extra: Any) -> dict[str, Any]:
    data = chatgpt_auth(oauth.issue_refresh_token(), exp_in=60, **extra)
    write_auth(home, data)
    return data


# --- refresh ---


def test_stale_token_is_refreshed_and_every_unknown_field_survives(home: Path, oauth) -> None:
    data = stale_login(home, oauth, custom={"keep": [1, 2]})
    data["tokens"]["extra_token_field"] = "kept"
    write_auth(home, data)
    with make_manager(home, oauth) as manager:
        state = manager.ensure_fresh()

    assert (state.kind, state.stale, state.email, state.plan) == (
        "chatgpt",
        False,
        "dev@example.com",
        "plus",
    )
    after = read_auth(home)
    assert after["custom"] == {"keep": [1, 2]}
    assert after["tokens"]["extra_token_field"] == "kept"
    assert after["tokens"]["account_id"] == "acct-1"
    assert after["tokens"]["refresh_token"] != data["tokens"]["refresh_token"]
    assert after["tokens"]["access_token"] != data["tokens"]["access_token"]
    assert after["last_refresh"] != data["last_refresh"]
    for name in ("auth.json", "codex-install-auth.lock"):
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o600
    assert oauth.requests == [
        {
            "client_id": CLIENT_ID,
            "grant_type": "refresh_token",
            "refresh_token": data["tokens"]["refresh_token"],
            "refresh_reason": "proactive_expiry",
        }
    ]
    assert not list(home.glob(".auth.json.*"))


def test_fresh_token_makes_no_request(home: Path, oauth) -> None:
    write_auth(home, chatgpt_auth(oauth.issue_refresh_token(), exp_in=3600))
    with make_manager(home, oauth) as manager:
        assert manager.ensure_fresh().kind == "chatgpt"
        status = manager.get_auth_status(include_token=True)
        account = manager.account_read()
    assert status["authToken"] == read_auth(home)["tokens"]["access_token"]
    assert account["account"] is not None
    assert oauth.count == 0


def test_token_without_exp_is_refreshed_after_eight_days(home: Path, oauth) -> None:
    data = chatgpt_auth(oauth.issue_refresh_token(), exp_in=None)
    data["last_refresh"] = "2026-11-01T00:00:00.123456789Z"  # Codex writes nanoseconds
    write_auth(home, data)
    last = datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp()
    with make_manager(home, oauth, clock=lambda: last + 7.9 * DAY) as manager:
        assert manager.ensure_fresh().stale is False
    assert oauth.count == 0
    with make_manager(home, oauth, clock=lambda: last + 8 * DAY + 1) as manager:
        assert manager.ensure_fresh().kind == "chatgpt"
    assert oauth.count == 1


# --- the three Codex behaviours ---


def test_two_refreshes_after_refresh_token_reused_make_exactly_one_request(home, oauth) -> None:
    data = stale_login(home, oauth)
    oauth.respond(401, {"error": {"code": "refresh_token_reused"}})
    with make_manager(home, oauth) as manager:
        first = manager.ensure_fresh()
        second = manager.ensure_fresh()
    assert oauth.count == 1
    assert first == second
    assert first.kind == "poisoned"
    assert first.reason is not None
    assert first.reason.endswith(
        "your refresh token was already used. Sign in again with `codex login`."
    )
    assert read_auth(home) == data  # a permanent failure never rewrites auth.json


def test_changed_tokens_on_disk_after_permanent_failure_recover_without_request(
    home, oauth
) -> None:
    stale_login(home, oauth)
    oauth.respond(401, {"error": "invalid_grant"})
    with make_manager(home, oauth) as manager:
        assert manager.ensure_fresh().kind == "poisoned"
        new_login = chatgpt_auth(oauth.issue_refresh_token(), exp_in=3600, email="new@example.com")
        write_auth(home, new_login)
        state = manager.ensure_fresh()
        status = manager.get_auth_status(include_token=True)
    assert (state.kind, state.email) == ("chatgpt", "new@example.com")
    assert status["authToken"] == new_login["tokens"]["access_token"]
    assert oauth.count == 1


def test_failure_recorded_for_snapshot_a_does_not_apply_to_a_prime(home, oauth) -> None:
    stale_login(home, oauth)
    oauth.respond(401, {"error": {"code": "refresh_token_expired"}})
    with make_manager(home, oauth) as manager:
        assert manager.ensure_fresh().kind == "poisoned"
        oauth.rotate()
        stale_login(home, oauth)  # A′: also stale, different refresh token
        state = manager.ensure_fresh()
    assert state.kind == "chatgpt"
    assert oauth.count == 2


def test_a_reformatting_rewrite_of_auth_json_is_not_material_and_keeps_the_poison(
    home, oauth
) -> None:
    # Another writer (Codex, jq, an editor) re-serialises the same content: other key order,
    # other whitespace, escaped non-ASCII. Same snapshot, so still poisoned and no new request.
    data = stale_login(home, oauth, note="caf\u00e9")
    oauth.respond(401, {"error": {"code": "refresh_token_reused"}})
    with make_manager(home, oauth) as manager:
        assert manager.ensure_fresh().kind == "poisoned"
        reordered = {key: data[key] for key in reversed(list(data))}
        reordered["tokens"] = {key: data["tokens"][key] for key in reversed(list(data["tokens"]))}
        write_auth(home, json.dumps(reordered, separators=(",", ":"), ensure_ascii=True))
        assert manager.ensure_fresh().kind == "poisoned"
        status = manager.get_auth_status(include_token=True, refresh_token=True)
        # ...while one changed character is a new snapshot, tried once more.
        write_auth(home, {**data, "note": "cafe"})
        assert manager.ensure_fresh().kind == "poisoned"
    assert status == POISONED_STATUS
    assert oauth.count == 2


# --- status protocol over the manager ---


def test_100_polls_after_permanent_failure_make_one_request_and_never_hand_out_the_token(
    home, oauth
) -> None:
    data = stale_login(home, oauth)
    oauth.respond(401, {"error": {"code": "refresh_token_reused"}})
    with make_manager(home, oauth) as manager:
        answers = [
            manager.get_auth_status(include_token=True, refresh_token=True) for _ in range(100)
        ]
        account = manager.account_read(refresh_token=True)
        assert oauth.count == 1
        assert all(answer == POISONED_STATUS for answer in answers)
        assert account == SIGNED_OUT_ACCOUNT
        assert data["tokens"]["access_token"] not in json.dumps(answers)

        new_login = chatgpt_auth(oauth.issue_refresh_token(), exp_in=3600)
        write_auth(home, new_login)
        status = manager.get_auth_status(include_token=True)
        account = manager.account_read()
    assert status == {
        "authMethod": "chatgpt",
        "authToken": new_login["tokens"]["access_token"],
        "requiresOpenaiAuth": True,
    }
    assert account == {
        "account": {
            "type": "chatgpt",
            "email": "dev@example.com",
            "planType": "plus",
            "workspaceName": None,
        },
        "userId": "user-1",
        "requiresOpenaiAuth": True,
        "workspaceRouting": ROUTED,  # Codex 0.171.0 discovers it for a ChatGPT workspace
    }
    assert oauth.count == 1


def test_api_key_auth_returns_the_key_and_never_calls_the_endpoint(home, oauth) -> None:
    write_auth(home, {"auth_mode": "apikey", "OPENAI_API_KEY": "sk-test-abcd1234"})
    with make_manager(home, oauth) as manager:
        state = manager.ensure_fresh()
        status = manager.get_auth_status(include_token=True, refresh_token=True)
        account = manager.account_read(refresh_token=True)
    assert (state.kind, state.api_key_last4) == ("apikey", "1234")
    assert status == {
        "authMethod": "apikey",
        "authToken": "sk-test-abcd1234",
        "requiresOpenaiAuth": True,
    }
    assert account == {
        "account": {"type": "apiKey"},
        "userId": None,
        "requiresOpenaiAuth": True,
        "workspaceRouting": None,
    }
    assert oauth.count == 0


def test_without_include_token_no_token_is_returned(home, oauth) -> None:
    write_auth(home, {"OPENAI_API_KEY": "sk-test-abcd1234"})  # no auth_mode: the key decides
    with make_manager(home, oauth) as manager:
        assert manager.get_auth_status() == {
            "authMethod": "apikey",
            "authToken": None,
            "requiresOpenaiAuth": True,
        }


def test_no_auth_json_means_signed_out(home, oauth) -> None:
    with make_manager(home, oauth) as manager:
        assert manager.ensure_fresh().kind == "signed_out"
        assert manager.get_auth_status(include_token=True, refresh_token=True) == {
            "authMethod": None,
            "authToken": None,
            "requiresOpenaiAuth": True,
        }
        assert manager.account_read() == SIGNED_OUT_ACCOUNT
    assert oauth.count == 0
    assert not (home / LEDGER_FILE).exists()


@pytest.mark.parametrize(
    "content", ["{not json", "", "  \n", "[1, 2]", '{"tokens": "x"}', '{"tokens": {"a": "rt-x"']
)
def test_malformed_auth_json_is_signed_out_with_one_warning_and_never_rewritten(
    home, oauth, content
) -> None:
    path = write_auth(home, content)
    before = path.stat()
    warnings: list[str] = []
    with make_manager(home, oauth, sleep=lambda _s: None, warn=warnings.append) as manager:
        with pytest.raises(AuthFileError) as err:  # the launcher's and login's own check
            manager.ensure_fresh()
        assert err.value.exit_code == 2
        for _ in range(3):  # a polling client: the same answer, one warning in all
            assert manager.get_auth_status(True, True) == SIGNED_OUT_STATUS
            assert manager.account_read(True) == SIGNED_OUT_ACCOUNT
    assert len(warnings) == 1
    assert str(path) in warnings[0]
    assert "rt-x" not in warnings[0]
    assert path.read_text() == content
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert oauth.count == 0


def test_empty_auth_json_says_empty(home, oauth) -> None:
    write_auth(home, "")
    warnings: list[str] = []
    with make_manager(home, oauth, sleep=lambda _s: None, warn=warnings.append) as manager:
        manager.get_auth_status(True)
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{home / 'auth.json'} is empty (fix or remove")
    assert warnings[0].endswith("; answering as signed out")


def test_unreadable_auth_json_is_an_error_for_refresh_and_signed_out_for_status(
    home, oauth
) -> None:
    (home / "auth.json").mkdir()
    warnings: list[str] = []
    with make_manager(home, oauth, warn=warnings.append) as manager:
        with pytest.raises(AuthFileError, match="is not a regular file"):
            manager.ensure_fresh()
        assert manager.get_auth_status(True, True) == SIGNED_OUT_STATUS
    assert len(warnings) == 1 and "is not a regular file" in warnings[0]


def test_stale_token_without_refresh_token_is_unusable_without_a_request(home, oauth) -> None:
    data = chatgpt_auth(exp_in=-10)
    del data["tokens"]["refresh_token"]
    write_auth(home, data)
    with make_manager(home, oauth) as manager:
        state = manager.ensure_fresh()
    assert state.kind == "poisoned"
    assert oauth.count == 0


# --- failure classification end to end ---

PERMANENT = [
    (401, {"error": "whatever"}, "could not be refreshed"),
    (401, "not json", "could not be refreshed"),
    (400, {"error": {"code": "refresh_token_expired"}}, "your refresh token has expired"),
    (400, {"error": {"code": "refresh_token_reused"}}, "your refresh token was already used"),
    (400, {"error": "refresh_token_invalidated"}, "your refresh token was revoked"),
    (400, {"error": "invalid_grant"}, "could not be refreshed"),
    (403, {"code": "REFRESH_TOKEN_EXPIRED"}, "your refresh token has expired"),
]


@pytest.mark.parametrize(("status", "body", "message"), PERMANENT)
def test_permanent_failures_poison_the_snapshot(home, oauth, status, body, message) -> None:
    stale_login(home, oauth)
    oauth.respond(status, body)
    with make_manager(home, oauth) as manager:
        state = manager.ensure_fresh()
        assert manager.ensure_fresh() == state
    assert state.kind == "poisoned"
    assert state.reason is not None
    assert message in state.reason
    assert state.reason.endswith("Sign in again with `codex login`.")
    ledger = read_ledger(home)
    assert ledger.poison is not None
    assert ledger.snapshot == load_snapshot(home).digest  # type: ignore[union-attr]
    assert oauth.count == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, {"error": "server_error"}),
        (502, "bad gateway"),
        (429, {"error": "rate_limited"}),
        (400, {"error": "invalid_request"}),
        (403, {"error": {"code": "forbidden"}}),
        (200, {"unexpected": True}),
    ],
)
def test_transient_failures_back_off_and_keep_the_snapshot_usable(home, oauth, status, body):
    stale_login(home, oauth)
    oauth.respond(status, body)
    with make_manager(home, oauth) as manager:
        with pytest.raises(RefreshError) as err:
            manager.ensure_fresh()
        assert not err.value.permanent
        with pytest.raises(RefreshError, match="backing off"):
            manager.ensure_fresh()
        assert manager.state().kind == "chatgpt"
        # stale but not yet expired: still handed out while the endpoint is down
        assert manager.get_auth_status(include_token=True, refresh_token=True)["authToken"]
    assert oauth.count == 1
    assert read_ledger(home).poison is None
    assert stat.S_IMODE((home / LEDGER_FILE).stat().st_mode) == 0o600


def test_connection_refused_is_transient(home, oauth) -> None:
    stale_login(home, oauth)
    env = auth_env(home, oauth) | {"CODEX_REFRESH_TOKEN_URL_OVERRIDE": "http://127.0.0.1:9/t"}
    with AuthManager(home, env=env) as manager, pytest.raises(RefreshError) as err:
        manager.ensure_fresh()
    assert not err.value.permanent
    assert read_ledger(home).backoff is not None


@pytest.mark.parametrize("url", ["http://[::1/oauth/token", "http://127.0.0.1:1\x00/t"])
def test_malformed_token_url_override_is_a_transient_refresh_error(home, oauth, url) -> None:
    stale_login(home, oauth)
    env = auth_env(home, oauth) | {"CODEX_REFRESH_TOKEN_URL_OVERRIDE": url}
    with AuthManager(home, env=env) as manager:
        with pytest.raises(RefreshError) as err:
            manager.ensure_fresh()
        assert not err.value.permanent
        # the status protocol still answers, with the not-yet-expired token
        assert manager.get_auth_status(include_token=True, refresh_token=True)["authToken"]


def test_slow_response_times_out_as_transient(home, oauth) -> None:
    stale_login(home, oauth)
    oauth.delay = 1.0
    client = httpx.Client(timeout=0.2)
    with make_manager(home, oauth, client=client) as manager, pytest.raises(RefreshError) as err:
        manager.ensure_fresh()
    client.close()
    assert not err.value.permanent
    assert "Timeout" in str(err.value)


def test_cached_token_is_handed_out_during_a_transient_outage(home, oauth) -> None:
    # As Codex does (measured: 0.169.0 answers the cached token after a 500): `authToken: null`
    # would tell the client to sign in again, which an outage is no reason for.
    data = chatgpt_auth(oauth.issue_refresh_token(), exp_in=-60)
    write_auth(home, data)
    oauth.respond(503, None)
    with make_manager(home, oauth) as manager:
        first = manager.get_auth_status(include_token=True)
        second = manager.get_auth_status(include_token=True, refresh_token=True)
    cached = {**POISONED_STATUS, "authToken": data["tokens"]["access_token"]}
    assert first == second == cached
    assert oauth.count == 1  # the second call falls in the backoff: no request


# --- backoff, with an injected clock ---


def test_backoff_doubles_and_is_shared_through_the_ledger(home, oauth) -> None:
    stale_login(home, oauth)
    oauth.respond(500, {"error": "server_error"})
    clock = FakeClock()
    start = clock.now

    def attempt(at: float) -> None:
        clock.now = start + at
        # a new manager each time: the backoff must come from disk, not memory
        with (
            make_manager(home, oauth, clock=clock, jitter=lambda: 0.0) as manager,
            pytest.raises(RefreshError),
        ):
            manager.ensure_fresh()

    expected = []
    for at in (0, 0.2, 0.49, 0.5, 1.0, 1.49, 1.5, 3.4, 3.5, 7.5):
        attempt(at)
        expected.append(oauth.count)
    # jitter 0 gives delays 0.5, 1, 2, 4: requests at 0, 0.5, 1.5, 3.5, 7.5
    assert expected == [1, 1, 1, 2, 2, 2, 3, 3, 4, 5]
    assert read_ledger(home).backoff.attempts == 5  # type: ignore[union-attr]


def test_retry_after_is_honoured(home, oauth) -> None:
    stale_login(home, oauth)
    oauth.respond(429, {"error": "slow_down"}, {"Retry-After": "30"})
    clock = FakeClock()
    start = clock.now
    with make_manager(home, oauth, clock=clock, jitter=lambda: 0.0) as manager:
        with pytest.raises(RefreshError) as err:
            manager.ensure_fresh()
        assert err.value.retry_after == 30
        clock.now = start + 29.9
        with pytest.raises(RefreshError):
            manager.ensure_fresh()
        assert oauth.count == 1
        oauth.rotate()
        clock.now = start + 30
        assert manager.ensure_fresh().kind == "chatgpt"
    assert oauth.count == 2
    assert read_ledger(home).snapshot is None  # success clears the shared state


# --- concurrent writers ---


def _write_from_another_process(home: Path, data: dict[str, Any]) -> None:
    code = (
        "import json, sys, pathlib; "
        "pathlib.Path(sys.argv[1]).write_text(json.dumps(json.loads(sys.argv[2])))"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(home / "auth.json"), json.dumps(data)], check=True
    )


def _during_request(oauth: FakeTokenEndpoint, action: Callable[[], None]) -> threading.Thread:
    def run() -> None:
        deadline = time.monotonic() + 10
        while oauth.count == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        action()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_permanent_failure_is_not_recorded_when_auth_json_changed_during_the_request(
    home, oauth
) -> None:
    stale_login(home, oauth)
    oauth.respond(401, {"error": {"code": "refresh_token_reused"}})
    oauth.delay = 0.6
    new_login = chatgpt_auth(oauth.issue_refresh_token(), exp_in=3600, email="b@example.com")
    writer = _during_request(oauth, lambda: _write_from_another_process(home, new_login))
    with make_manager(home, oauth) as manager:
        state = manager.ensure_fresh()
        writer.join()
        status = manager.get_auth_status(include_token=True)
    assert (state.kind, state.email) == ("chatgpt", "b@example.com")
    assert status["authToken"] == new_login["tokens"]["access_token"]
    assert read_ledger(home).poison is None
    assert oauth.count == 1


def test_refresh_does_not_clobber_a_login_written_during_the_request(home, oauth) -> None:
    stale_login(home, oauth)
    oauth.delay = 0.6
    new_login = chatgpt_auth(oauth.issue_refresh_token(), exp_in=3600, email="b@example.com")
    writer = _during_request(oauth, lambda: _write_from_another_process(home, new_login))
    with make_manager(home, oauth) as manager:
        state = manager.ensure_fresh()
    writer.join()
    assert state.email == "b@example.com"
    assert read_auth(home) == new_login


# --- secrets ---


def test_no_token_or_key_in_logs_errors_or_the_ledger(home, oauth, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    secrets: list[str] = []
    seen: list[str] = []
    for status, body in [(401, {"error": "invalid_grant"}), (500, "boom"), (None, None)]:
        data = stale_login(home, oauth)
        secrets += [data["tokens"]["refresh_token"], data["tokens"]["access_token"]]
        if status is None:
            oauth.rotate()
        else:
            oauth.respond(status, body)
        with make_manager(home, oauth) as manager:
            try:
                seen.append(repr(manager.ensure_fresh()))
            except RefreshError as err:
                seen += [str(err), repr(err), repr(err.__cause__)]
            seen.append((home / LEDGER_FILE).read_text() if (home / LEDGER_FILE).exists() else "")
    secrets += [
        read_auth(home)["tokens"]["refresh_token"],
        read_auth(home)["tokens"]["access_token"],
    ]
    text = caplog.text + "\n".join(seen)
    for secret in secrets:
        assert secret not in text


def test_threads_in_one_process_also_refresh_once(home, oauth) -> None:
    stale_login(home, oauth)
    oauth.delay = 0.2
    results: list[str] = []

    def refresh() -> None:
        with make_manager(home, oauth) as manager:
            results.append(manager.ensure_fresh().kind)

    threads = [threading.Thread(target=refresh) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["chatgpt"] * 8
    assert (oauth.count, oauth.reused) == (1, 0)


def test_a_refresh_held_up_by_another_process_gives_up_without_a_request(home, oauth) -> None:
    stale_login(home, oauth)
    with open(home / "codex-install-auth.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with (
            make_manager(home, oauth, lock_timeout=0.1) as manager,
            pytest.raises(RefreshError, match="too long") as err,
        ):
            manager.ensure_fresh()
    assert not err.value.permanent
    assert oauth.count == 0
    assert read_ledger(home).backoff is None  # not the endpoint's fault


def test_poison_is_kept_in_memory_when_codex_home_cannot_record_it(
    home, oauth, monkeypatch
) -> None:
    def unwritable(*_args: object) -> None:
        raise FilesystemError("read-only file system")

    monkeypatch.setattr("codex_install.auth.manager.write_ledger", unwritable)
    stale_login(home, oauth)
    oauth.respond(401, None)
    with make_manager(home, oauth) as manager:
        answers = [manager.get_auth_status(True, True) for _ in range(10)]
    assert answers == [POISONED_STATUS] * 10
    assert oauth.count == 1
