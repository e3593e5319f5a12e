"""The one metadata cache (requests-cache, one SQLite file): a no-op re-run of ``latest`` costs
one conditional request (304) on every source and downloads nothing; a pinned one asks nothing;
the cache is private and holds no token; a cache another user could have written is ignored
(one ``-v`` line), never used (issue 20; issue 21 item 1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from builders import package_release
from cli_helpers import REPO, install
from servers.fake_http import FakeHTTPServer
from sources.npm_helpers import PACKUMENT, FakeRegistry

LATEST = f"/repos/{REPO}/releases/latest"
OTHER_UID = 65534  # nobody


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("https_proxy", "http_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def _cache(env: dict[str, str]) -> Path:
    return Path(env["CODEX_INSTALL_CACHE_DIR"]) / "metadata.sqlite"


def _again(env: dict[str, str], server: FakeHTTPServer, *args: str) -> list[tuple[str, str]]:
    """The requests a second, identical install makes: (path, If-None-Match or "")."""
    before = len(server.log)
    result = install(env, *args)
    assert result.exit_code == 0, result.output
    assert "already installed" in result.stderr
    return [(r.path, r.headers.get("if-none-match", "")) for r in server.log[before:]]


def test_a_latest_no_op_costs_one_conditional_request_to_github(env, server):
    package_release("0.170.0").publish_github(server)
    assert install(env).exit_code == 0
    asked = _again(env, server)
    assert [path for path, _ in asked] == [LATEST]
    assert asked[0][1]  # conditional: GitHub answers 304, no rate limit spent


def test_a_latest_no_op_costs_one_conditional_request_to_a_mirror(env, server):
    package_release("0.170.0").publish_mirror(server)
    mirror = ("--mirror", server.url + "/mirror")
    assert install(env, *mirror).exit_code == 0
    asked = _again(env, server, *mirror)
    assert [path for path, _ in asked] == ["/mirror/channels/latest"]  # no SUMS
    assert asked[0][1]


def test_a_latest_no_op_costs_one_conditional_request_to_npm(env, server):
    FakeRegistry(server).publish("0.170.0")
    npm = ("--source", "npm", "--npm-registry", server.url + "/npm/")
    assert install(env, *npm).exit_code == 0
    asked = _again(env, server, *npm)
    assert len(asked) == 1 and asked[0][0].lower() == PACKUMENT.lower() and asked[0][1]


def test_a_pinned_no_op_asks_nothing(env, server):
    package_release("0.170.0").publish_github(server)
    assert install(env, "--version", "0.170.0").exit_code == 0
    assert _again(env, server, "--version", "0.170.0") == []


def test_the_cache_is_private_and_keeps_no_token(env, server):
    package_release("0.170.0").publish_github(server)
    result = install({**env, "GITHUB_TOKEN": "ghp_s3cr3t_t0ken"})
    assert result.exit_code == 0, result.output
    assert server.requests_to(LATEST)[0].headers["authorization"] == "Bearer ghp_s3cr3t_t0ken"
    cache = _cache(env)
    assert cache.stat().st_mode & 0o777 == 0o600
    assert cache.parent.stat().st_mode & 0o777 == 0o700
    assert b"ghp_s3cr3t_t0ken" not in cache.read_bytes()


def test_a_corrupt_cache_is_made_anew(env, server):
    package_release("0.170.0").publish_github(server)
    cache = _cache(env)
    cache.parent.mkdir(mode=0o700, parents=True)
    cache.write_bytes(b"not a database\n")
    os.chmod(cache, 0o600)
    assert install(env).exit_code == 0
    assert cache.read_bytes().startswith(b"SQLite format 3")
    assert cache.stat().st_mode & 0o777 == 0o600


def _plant(env: dict[str, str], server: FakeHTTPServer, how: str) -> None:
    """A cache the first install left, then made another's (or writable by others)."""
    assert install(env).exit_code == 0
    cache = _cache(env)
    if how == "file-owner":
        os.chown(cache, OTHER_UID, -1)
    elif how == "dir-owner":
        os.chown(cache.parent, OTHER_UID, -1)
    elif how == "dir-writable":
        os.chmod(cache.parent, 0o777)
    elif how == "sticky-xdg":
        os.chmod(cache.parent, 0o1777)


@pytest.mark.skipif(os.geteuid() != 0, reason="making a file another user's needs root")
@pytest.mark.parametrize("how", ["file-owner", "dir-owner", "dir-writable", "sticky-xdg"])
def test_a_cache_another_user_could_write_is_ignored(env, server, how):
    package_release("0.170.0").publish_github(server)
    _plant(env, server, how)
    before = len(server.log)
    result = install(env, "-v")
    assert result.exit_code == 0, result.output
    assert "metadata cache off" in result.stderr and "not ours alone" in result.stderr
    latest = [r for r in server.log[before:] if r.path == LATEST]
    assert latest and "if-none-match" not in latest[0].headers  # the planted ETag: never sent
