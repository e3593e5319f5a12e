"""Many processes against one CODEX_HOME and one fake token endpoint: the storms of SPEC §9 must
not happen. Every process is a real interpreter (driver.py or the CLI)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from codex_install.auth.ledger import read_ledger
from servers.oauth import FakeTokenEndpoint

from .conftest import auth_env, chatgpt_auth, read_auth, start_drivers, write_auth

POISONED_STATUS = {"authMethod": "chatgpt", "authToken": None, "requiresOpenaiAuth": True}
PROCESSES = 8


@pytest.mark.slow
def test_8_processes_polling_after_a_permanent_failure_make_exactly_one_request(
    home: Path, oauth: FakeTokenEndpoint, tmp_path: Path
) -> None:
    write_auth(home, chatgpt_auth(oauth.issue_refresh_token(), exp_in=60))
    oauth.respond(401, {"error": {"code": "refresh_token_reused"}})
    drivers = start_drivers(PROCESSES, ["poll", "--count", "25"], home, oauth, tmp_path / "sync")
    results = drivers.go_and_wait()

    assert oauth.count == 1
    for result in results:
        assert result["polls"] == 25
        assert [json.loads(answer) for answer in result["answers"]] == [POISONED_STATUS]
    assert read_ledger(home).poison is not None


@pytest.mark.slow
def test_8_processes_refreshing_a_stale_token_make_one_request_and_share_the_result(
    home: Path, oauth: FakeTokenEndpoint, tmp_path: Path
) -> None:
    write_auth(home, chatgpt_auth(oauth.issue_refresh_token(), exp_in=120, custom="kept"))
    oauth.delay = 0.3  # every other process arrives while the one request is in flight
    drivers = start_drivers(PROCESSES, ["refresh"], home, oauth, tmp_path / "sync")
    results = drivers.go_and_wait()

    assert oauth.count == 1
    assert oauth.reused == 0
    assert {json.dumps(r, sort_keys=True) for r in results} == {
        json.dumps(
            {"access": results[0]["access"], "kind": "chatgpt", "stale": False}, sort_keys=True
        )
    }
    after = read_auth(home)
    assert after["custom"] == "kept"
    assert after["tokens"]["refresh_token"] != oauth.requests[0]["refresh_token"]


@pytest.mark.slow
def test_8_processes_polling_through_5s_of_500s_follow_the_shared_backoff(
    home: Path, oauth: FakeTokenEndpoint, tmp_path: Path
) -> None:
    write_auth(home, chatgpt_auth(oauth.issue_refresh_token(), exp_in=120))
    oauth.respond(500, {"error": "server_error"})
    args = ["poll", "--duration", "5", "--interval", "0.02"]
    results = start_drivers(PROCESSES, args, home, oauth, tmp_path / "sync").go_and_wait()

    # Backoff steps 1, 2, 4 s with equal jitter wait at least 0.5, 1, 2, 4 s: requests at
    # t=0, ≥0.5, ≥1.5, ≥3.5 and the next not before 7.5 — at most 4 in 5 s, whatever the number
    # of processes; at most 1+2+4 = 7 s of waiting means at least 3.
    assert 3 <= oauth.count <= 4
    polls = sum(r["polls"] for r in results)
    assert polls > 100 * oauth.count
    for result in results:
        for answer in result["answers"]:
            status = json.loads(answer)
            assert status["authMethod"] == "chatgpt"
            assert status["authToken"] is not None  # stale but still valid: handed out
    assert read_ledger(home).backoff is not None


@pytest.mark.slow
def test_8_processes_honour_retry_after(
    home: Path, oauth: FakeTokenEndpoint, tmp_path: Path
) -> None:
    write_auth(home, chatgpt_auth(oauth.issue_refresh_token(), exp_in=120))
    oauth.respond(429, {"error": "rate_limited"}, {"Retry-After": "10"})
    args = ["poll", "--duration", "2", "--interval", "0.02"]
    start_drivers(PROCESSES, args, home, oauth, tmp_path / "sync").go_and_wait()
    assert oauth.count == 1


@pytest.mark.slow
def test_repeated_cli_runs_after_a_permanent_failure_make_one_request(
    home: Path, oauth: FakeTokenEndpoint
) -> None:
    data = chatgpt_auth(oauth.issue_refresh_token(), exp_in=60)
    write_auth(home, data)
    oauth.respond(401, {"error": "invalid_grant"})
    command = [
        sys.executable,
        "-m",
        "codex_install",
        "auth",
        "status",
        "--json",
        "--include-token",
        "--refresh",
    ]
    for _ in range(5):
        run = subprocess.run(
            command, env=auth_env(home, oauth), capture_output=True, text=True, timeout=30
        )
        assert run.returncode == 8, run.stderr  # poisoned: not signed in
        assert json.loads(run.stdout) == POISONED_STATUS
        for secret in (data["tokens"]["access_token"], data["tokens"]["refresh_token"]):
            assert secret not in run.stdout + run.stderr
    assert oauth.count == 1
