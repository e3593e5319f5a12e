"""The one light conditional request for a release (latest or a tag) (sources/github.py,
``fetch_release_light``): an ETag kept in the cache dir, and None for anything unusual so the
requests path takes over with its retries and messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from builders import package_release
from cli_helpers import REPO
from codex_install.errors import NetworkError, NotFoundError, UsageError
from codex_install.sources.dispatch import fetch_github
from codex_install.sources.github import (
    LIGHT_CACHE,
    GitHubConfig,
    LightRefused,
    fetch_release_light,
)
from codex_install.versions import parse_version
from servers.fake_http import FakeHTTPServer

LATEST = f"/repos/{REPO}/releases/latest"


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("https_proxy", "http_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def config(server: FakeHTTPServer, cache: Path | None, token: str | None = None) -> GitHubConfig:
    return GitHubConfig(api_url=server.url, repo=REPO, cache_dir=cache, token=token)


@pytest.mark.usefixtures("no_proxy")
def test_second_request_is_conditional_and_answered_from_the_cache(
    server: FakeHTTPServer, tmp_path: Path
) -> None:
    package_release("0.170.0").publish_github(server)
    latest = parse_version("latest")
    first = fetch_release_light(config(server, tmp_path, token="t0k"), latest)
    second = fetch_release_light(config(server, tmp_path, token="t0k"), latest)
    assert first is not None and second is not None
    assert first.version == second.version == "0.170.0"
    sent = server.requests_to(LATEST)
    assert "if-none-match" not in sent[0].headers
    assert sent[1].headers["if-none-match"]
    assert sent[1].headers["authorization"] == "Bearer t0k"
    stored = (tmp_path / LIGHT_CACHE).read_text()
    assert "t0k" not in stored and json.loads(stored)
    # A private repository's releases are no public metadata: only the user may read them.
    assert (tmp_path / LIGHT_CACHE).stat().st_mode & 0o777 == 0o600


@pytest.mark.usefixtures("no_proxy")
@pytest.mark.parametrize(
    "route",
    [
        (b"<html>rate limited</html>", 403),
        (b"{not json", 200),
        (b'{"tag_name": "rust-v1.0.0"}', 200),  # no assets list
        (b"", 500),
    ],
)
def test_anything_unusual_is_left_to_the_requests_path(
    server: FakeHTTPServer, tmp_path: Path, route: tuple[bytes, int]
) -> None:
    server.add(LATEST, route[0], route[1])
    assert fetch_release_light(config(server, tmp_path), parse_version("latest")) is None
    assert not (tmp_path / LIGHT_CACHE).exists()


@pytest.mark.usefixtures("no_proxy")
def test_a_redirect_or_an_unreachable_host_is_left_to_the_requests_path(
    server: FakeHTTPServer, tmp_path: Path
) -> None:
    server.redirect(LATEST, "http://127.0.0.1:9/elsewhere")
    assert fetch_release_light(config(server, tmp_path), parse_version("latest")) is None
    dead = GitHubConfig(api_url="http://127.0.0.1:9", repo=REPO, cache_dir=tmp_path)
    with pytest.raises(LightRefused):  # no connection at all: said, so requests tries once
        fetch_release_light(dead, parse_version("latest"))


@pytest.mark.usefixtures("no_proxy")
@pytest.mark.parametrize("api_url", ["http://127.0.0.1:9", "http://codex.invalid"])
def test_a_host_that_refuses_or_does_not_resolve_costs_no_backoff_sleep(
    tmp_path: Path, api_url: str
) -> None:
    # The light request's failed connection is the first of the two that decide "unreachable":
    # the requests path tries once more, without sleeping first, and gives up for the fallback.
    dead = GitHubConfig(api_url=api_url, repo=REPO, cache_dir=tmp_path)
    sleeps: list[float] = []
    with pytest.raises(NetworkError, match="cannot connect to") as info:
        fetch_github(dead, parse_version("0.169.0"), sleep=sleeps.append)
    assert info.value.connection_level and sleeps == []


def test_a_proxy_in_the_environment_is_left_to_the_requests_path(
    server: FakeHTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package_release("0.170.0").publish_github(server)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    assert fetch_release_light(config(server, tmp_path), parse_version("latest")) is None
    assert server.requests_to(LATEST) == []


def test_a_malformed_api_url_is_a_usage_error(tmp_path: Path) -> None:
    bad = GitHubConfig(api_url="http://[bad", repo=REPO, cache_dir=tmp_path)
    with pytest.raises(UsageError, match="GitHub API URL"):
        fetch_release_light(bad, parse_version("latest"))


@pytest.mark.usefixtures("no_proxy")
def test_a_corrupt_cache_file_is_ignored(server: FakeHTTPServer, tmp_path: Path) -> None:
    package_release("0.170.0").publish_github(server)
    (tmp_path / LIGHT_CACHE).write_text('["not", "a", "map"]')
    release = fetch_release_light(config(server, tmp_path), parse_version("latest"))
    assert release is not None and release.version == "0.170.0"
    assert json.loads((tmp_path / LIGHT_CACHE).read_text())


@pytest.mark.usefixtures("no_proxy")
def test_a_tag_is_asked_the_same_way_and_checked(server: FakeHTTPServer, tmp_path: Path) -> None:
    rel = package_release("0.169.0")
    rel.publish_github(server)
    pinned = parse_version("0.169.0")
    first = fetch_release_light(config(server, tmp_path), pinned)
    second = fetch_release_light(config(server, tmp_path), pinned)
    assert first is not None and second is not None and second.tag == rel.tag
    sent = server.requests_to(f"/repos/{REPO}/releases/tags/{rel.tag}")
    assert len(sent) == 2 and sent[1].headers["if-none-match"]


@pytest.mark.usefixtures("no_proxy")
def test_another_tag_in_the_answer_is_left_to_the_requests_path(
    server: FakeHTTPServer, tmp_path: Path
) -> None:
    # The requests path refuses it with its message; the light one never returns it.
    other = package_release("0.170.0")
    urls = {name: f"{server.url}/{name}" for name in other.files}
    server.add(f"/repos/{REPO}/releases/tags/rust-v0.169.0", json.dumps(other.release_json(urls)))
    assert fetch_release_light(config(server, tmp_path), parse_version("0.169.0")) is None
    assert not (tmp_path / LIGHT_CACHE).exists()


@pytest.mark.usefixtures("no_proxy")
def test_a_404_is_final_on_the_light_path_too(server: FakeHTTPServer, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"release rust-v9\.9\.9 not found in openai/codex"):
        fetch_release_light(config(server, tmp_path), parse_version("9.9.9"))
    assert len(server.requests_to(f"/repos/{REPO}/releases/tags/rust-v9.9.9")) == 1
