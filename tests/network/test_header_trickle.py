"""A server that trickles its status line and headers (one byte a second, never finishing them)
is given up at the request's deadline on every path (issue 13): the GitHub API, a mirror, an
npm registry, the archive download, `resolve` and the token refresh — exit 4, one line,
nothing installed."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
from click.testing import Result

from auth.conftest import chatgpt_auth, write_auth
from builders import TARGET, package_release
from cli_helpers import REPO, install, one_line, run
from codex_install.auth.ledger import read_ledger
from codex_install.auth.refresh import post_refresh
from codex_install.errors import NetworkError, RefreshError
from codex_install.http.network import Network
from codex_install.http.plan import NetworkPlan
from codex_install.http.watchdog import Alarm
from codex_install.sources.npm.npmrc import Registry
from codex_install.sources.npm.registry import fetch_packument
from network.hostile import elapsed, hostile_server
from servers.fake_http import FakeHTTPServer

SECONDS = 3  # CODEX_INSTALL_TIMEOUT in these tests
MARGIN = 1.5  # start-up of the CLI in-process, the server's next byte, a loaded machine


@pytest.fixture
def slow_env(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    # Both: the settings read the CLI's environment, the HTTP layer the process's (the same
    # mapping outside of tests).
    monkeypatch.setenv("CODEX_INSTALL_TIMEOUT", str(SECONDS))
    return {**env, "CODEX_INSTALL_TIMEOUT": str(SECONDS)}


def assert_one_line_exit_4(result: Result, *wanted: str) -> None:
    line = one_line(result, 4)
    for text in wanted:
        assert text in line


def assert_nothing_installed(env: dict[str, str]) -> None:
    home = Path(env["CODEX_HOME"]) / "packages/standalone"
    assert not (home / "current").exists()
    assert not (home / "releases").exists() or list((home / "releases").iterdir()) == []
    assert not (Path(env["CODEX_INSTALL_DIR"]) / "codex").exists()


def test_an_alarm_ends_a_blocked_read_at_its_deadline() -> None:
    ours, theirs = socket.socketpair()
    got: list[bytes] = []
    with ours, theirs:
        ours.settimeout(30)
        start = time.monotonic()
        with Alarm(start + 0.2, 0.2) as alarm:
            alarm.watch(ours)
            reader = threading.Thread(target=lambda: got.append(ours.recv(10)))
            reader.start()
            reader.join(5)
        assert got == [b""]  # woken, as by a hang-up
        assert alarm.fired
        assert 0.15 < elapsed(start) < 1.5


def test_an_alarm_that_ends_in_time_leaves_the_socket_alone() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        with Alarm(time.monotonic() + 0.05, 0.05) as alarm:
            alarm.watch(ours)
        time.sleep(0.15)
        theirs.sendall(b"ok")
        assert ours.recv(10) == b"ok"
        assert not alarm.fired


def test_a_wait_for_the_answer_puts_the_alarm_off_until_its_read_timeout_would_end() -> None:
    # Silence is the read timeout's to report (a retry, or a host that never answered).
    ours, theirs = socket.socketpair()
    with ours, theirs:
        start = time.monotonic()
        with Alarm(start + 0.05, 0.05) as alarm:
            alarm.watch(ours)
            alarm.reading(0.3)
            time.sleep(0.2)
            assert not alarm.fired  # past the deadline, not past the read timeout
            while not alarm.fired and time.monotonic() < start + 5:
                time.sleep(0.01)
            assert alarm.fired and time.monotonic() - start >= 0.3  # once the read timeout ended


def test_a_silent_registry_is_still_a_timeout_to_retry_not_the_deadline() -> None:
    net = Network(NetworkPlan(0.2), sleep=lambda _s: None)
    with hostile_server("blackhole") as url, net:
        registry = Registry(url=f"{url}/", origin="test")
        with pytest.raises(NetworkError, match=r"after 2 attempts: .* did not answer within 0.2"):
            fetch_packument(net, registry)


@pytest.mark.slow
def test_github_trickling_its_headers_is_given_up_at_the_deadline(
    slow_env: dict[str, str],
) -> None:
    accepted: list[float] = []
    with hostile_server("trickle-headers", interval=1.0, accepted=accepted) as url:
        start = time.monotonic()
        result = install(slow_env, "--source", "github", "--github-api-url", url)
        took = elapsed(start)
    assert_one_line_exit_4(result, f"took longer than {SECONDS} s")
    assert len(accepted) == 1  # the deadline is final: no second try
    assert took < SECONDS + MARGIN
    assert_nothing_installed(slow_env)


@pytest.mark.slow
def test_a_mirror_trickling_its_headers_is_given_up_at_the_deadline(
    slow_env: dict[str, str],
) -> None:
    with hostile_server("trickle-headers", interval=1.0) as url:
        start = time.monotonic()
        result = install(slow_env, "--mirror", url)
        took = elapsed(start)
    assert_one_line_exit_4(result, f"took longer than {SECONDS} s")
    assert took < SECONDS + MARGIN
    assert_nothing_installed(slow_env)


@pytest.mark.slow
def test_an_npm_registry_trickling_its_headers_is_given_up_at_the_deadline(
    slow_env: dict[str, str],
) -> None:
    with hostile_server("trickle-headers", interval=1.0) as url:
        start = time.monotonic()
        result = install(slow_env, "--source", "npm", "--npm-registry", url)
        took = elapsed(start)
    assert_one_line_exit_4(result, f"took longer than {SECONDS} s to send the @openai/codex")
    assert took < SECONDS + MARGIN
    assert_nothing_installed(slow_env)


@pytest.mark.slow
def test_an_archive_host_trickling_its_headers_is_given_up_at_the_deadline(
    slow_env: dict[str, str], server: FakeHTTPServer
) -> None:
    rel = package_release("0.169.0")
    with hostile_server("trickle-headers", interval=1.0) as url:
        urls = {}
        for name, data in rel.files.items():
            path = f"/{REPO}/releases/download/{rel.tag}/{name}"
            server.add(path, data)
            archive = name.startswith(("codex-package-", "codex-")) and "SUMS" not in name
            urls[name] = (url if archive else server.url) + path
        body = rel.release_json(urls)
        server.add(f"/repos/{REPO}/releases/latest", json.dumps(body))
        start = time.monotonic()
        result = install(slow_env, "--source", "github")
        took = elapsed(start)
    assert_one_line_exit_4(
        result, f"downloading codex-package-{TARGET}.tar.zst took longer than {SECONDS} s"
    )
    assert took < SECONDS + MARGIN
    assert_nothing_installed(slow_env)


@pytest.mark.slow
def test_resolve_against_a_github_trickling_its_headers_is_exit_4(
    slow_env: dict[str, str],
) -> None:
    with hostile_server("trickle-headers", interval=1.0) as url:
        start = time.monotonic()
        result = run(
            slow_env, "resolve", "--target", TARGET, "--source", "github", "--github-api-url", url
        )
        took = elapsed(start)
    assert_one_line_exit_4(result, f"took longer than {SECONDS} s")
    assert took < SECONDS + MARGIN


@pytest.mark.slow
def test_the_refresh_through_auth_status_gives_up_at_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEX_INSTALL_TIMEOUT", str(SECONDS))
    home = tmp_path / "codex-home"
    home.mkdir()
    write_auth(home, chatgpt_auth("rt-1", exp_in=60))  # stale: the status refreshes first
    with hostile_server("trickle-headers", interval=1.0) as url:
        env = {
            "HOME": str(tmp_path),
            "PATH": "/usr/bin:/bin",
            "CODEX_HOME": str(home),
            "CODEX_REFRESH_TOKEN_URL_OVERRIDE": f"{url}/oauth/token",
            "CODEX_INSTALL_TIMEOUT": str(SECONDS),
        }
        start = time.monotonic()
        result = run(env, "auth", "status", "--refresh")
        took = elapsed(start)
    assert took < SECONDS + MARGIN
    # A transient failure (SPEC §9): the status stands on the cached token, and the failure is
    # what the shared backoff records.
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["Signed in with ChatGPT as dev@example.com (plan: plus)."]
    backoff = read_ledger(home).backoff
    assert backoff is not None
    assert f"no full answer within {SECONDS} s" in backoff.last_error
    assert "rt-1" not in result.output


@pytest.mark.slow
def test_a_refresh_through_a_client_not_of_ours_keeps_its_deadline_too() -> None:
    # The AuthManager may be given any client; its per-read timeouts never trip on a trickle.
    with hostile_server("trickle-headers", interval=0.3) as url, httpx.Client(timeout=30) as client:
        start = time.monotonic()
        with pytest.raises(RefreshError, match=r"no full answer within 1 s") as info:
            post_refresh(client, f"{url}/oauth/token", "rt", now=time.time(), seconds=1.0)
        assert elapsed(start) < 1 + MARGIN
    assert not info.value.permanent


def test_a_settled_alarm_never_fires_after() -> None:
    # Judged in time is final: a late firing must not cut off the socket a body comes on.
    left, right = socket.socketpair()
    try:
        with Alarm(time.monotonic() + 60, 60) as alarm:
            alarm.watch(left)
            assert alarm.settle() is False
            alarm.fire()
        assert not alarm.fired
        right.sendall(b"x")
        assert left.recv(1) == b"x"  # still open both ways
    finally:
        left.close()
        right.close()
    with Alarm(time.monotonic() - 1, 0) as late:
        deadline = time.monotonic() + 5
        while not late.fired and time.monotonic() < deadline:
            time.sleep(0.01)
        assert late.settle() is True


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["trickle-headers", "trickle"])
def test_a_registry_trickling_is_given_up_at_the_deadline(
    slow_env: dict[str, str], mode: str
) -> None:
    with hostile_server(mode, interval=1.0) as url:
        start = time.monotonic()
        result = install(slow_env, "--mirror", url.replace("http://", "oci://") + "/codex")
        took = elapsed(start)
    assert_one_line_exit_4(result, f"took longer than {SECONDS} s", "registry oci://127.0.0.1:")
    assert took < SECONDS + MARGIN
    assert_nothing_installed(slow_env)


@pytest.mark.slow
def test_a_registry_token_service_trickling_is_given_up_at_the_deadline(
    slow_env: dict[str, str], server: FakeHTTPServer
) -> None:
    with hostile_server("trickle-headers", interval=1.0) as realm:
        challenge = f'Bearer realm="{realm}/token",service="reg"'
        server.add("/v2/codex/manifests/latest", "{}", status=401, WWW_Authenticate=challenge)
        start = time.monotonic()
        result = install(slow_env, "--mirror", server.url.replace("http://", "oci://") + "/codex")
        took = elapsed(start)
    assert_one_line_exit_4(
        result, "the token service of registry 127.0.0.1:", f"took longer than {SECONDS} s"
    )
    assert took < SECONDS + MARGIN
    assert_nothing_installed(slow_env)
