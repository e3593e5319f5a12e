"""One place chooses the source (sources/dispatch.py): with GitHub refused, unresolvable or
black-holed, ``install``, ``resolve``, ``check`` and ``ls-remote`` reach the npm registry alike —
in the same time (≤ 1 s refused or unresolvable, ≤ 15 s black-holed) and with the same one-line
notice (issue 20)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import Result

from builders import TARGET
from cli_helpers import run
from network.hostile import hostile_server
from servers.fake_http import FakeHTTPServer
from sources.npm_helpers import FakeRegistry, closed_port

COMMANDS = {
    "install": ("install", "--no-login", "--target", TARGET),
    "resolve": ("resolve", "--target", TARGET),
    "check": ("check", "--target", TARGET),
    "ls-remote": ("ls-remote", "--target", TARGET),
}
NOTICE_END = "; falling back to the npm registry"


@pytest.fixture(autouse=True)
def no_project_npmrc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)


def _fall_back(env: dict[str, str], server: FakeHTTPServer, github: str, cmd: str) -> float:
    FakeRegistry(server).publish("0.169.0")
    env = {**env, "GITHUB_API_URL": github, "NPM_CONFIG_REGISTRY": server.url + "/npm/"}
    start = time.monotonic()
    result = run(env, *COMMANDS[cmd], sleep=time.sleep)  # the real backoff: it is timed
    took = time.monotonic() - start
    _assert_fell_back(result, cmd)
    return took


def _assert_fell_back(result: Result, cmd: str) -> None:
    assert result.exit_code in (0, 10), result.output  # check: 10, nothing installed
    notices = [line for line in result.stderr.splitlines() if "GitHub is unreachable" in line]
    assert len(notices) == 1, result.stderr
    # One warning line (issue 23), said once a run.
    assert notices[0].startswith("warning: GitHub is unreachable: cannot fetch ")
    assert notices[0].endswith(NOTICE_END)
    if cmd in ("resolve", "ls-remote"):
        assert "0.169.0" in result.stdout


@pytest.mark.parametrize("cmd", sorted(COMMANDS))
@pytest.mark.parametrize("github", ["refused", "unresolvable"])
def test_github_refused_or_unresolvable_reaches_npm_within_1_s(env, server, cmd, github):
    url = f"http://127.0.0.1:{closed_port()}" if github == "refused" else "http://codex.invalid"
    took = _fall_back(env, server, url, cmd)
    assert took <= 1.0, f"{cmd} fell back after {took:.2f} s"


@pytest.mark.slow
@pytest.mark.parametrize("cmd", sorted(COMMANDS))
def test_github_black_holed_reaches_npm_within_15_s(env, server, cmd):
    with hostile_server("blackhole") as github:
        took = _fall_back(env, server, github, cmd)
    assert took <= 15.0, f"{cmd} fell back after {took:.1f} s"
