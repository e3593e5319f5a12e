"""Exact checks of issue 13: a release answering another tag is refused, GitHub's secondary
rate limit is a rate limit, an asset's rate limit says when it resets, a redirect loop or a
redirect to another scheme is exit 4 at once, a proxy's 407 is not retried, and no printed URL
carries ``user:password@``."""

from __future__ import annotations

import time

import pytest

from builders import package_release
from codex_install.errors import NetworkError, RateLimitError, shown_url
from codex_install.http.download import download
from codex_install.http.network import Network
from codex_install.http.plan import NetworkPlan
from codex_install.http.retry import RetryPolicy
from codex_install.sources.github import GitHubConfig, fetch_release
from codex_install.versions import parse_version
from servers.fake_http import FakeHTTPServer

REPO = "openai/codex"


def network(sleeps: list[float] | None = None) -> Network:
    return Network(NetworkPlan(), sleep=(sleeps if sleeps is not None else []).append)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("https_proxy", "http_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def test_a_release_answering_another_tag_is_refused(server: FakeHTTPServer) -> None:
    rel = package_release("0.170.0")
    rel.publish_github(server)
    body = server.routes[f"/repos/{REPO}/releases/tags/rust-v0.170.0"].body
    server.add(f"/repos/{REPO}/releases/tags/rust-v0.169.0", body)
    with pytest.raises(NetworkError, match=r"answered release 'rust-v0.170.0' when asked for"):
        fetch_release(network(), GitHubConfig(api_url=server.url), parse_version("0.169.0"))


def test_a_short_secondary_rate_limit_is_waited(server: FakeHTTPServer) -> None:
    path = f"/repos/{REPO}/releases/latest"
    server.add(path, "{}", 403, Retry_After="3", X_RateLimit_Remaining="4000")
    waits: list[float] = []
    with pytest.raises(NetworkError, match="secondary rate limit"):
        fetch_release(network(waits), GitHubConfig(api_url=server.url), parse_version("latest"))
    assert waits == [3.0] * 3  # four tries, each waiting what the server asked


def test_a_long_secondary_rate_limit_is_said(server: FakeHTTPServer) -> None:
    path = f"/repos/{REPO}/releases/latest"
    server.add(path, "{}", 403, Retry_After="600", X_RateLimit_Remaining="4000")
    with pytest.raises(RateLimitError, match=r"secondary rate limit exceeded: retry after 600 s"):
        fetch_release(network(), GitHubConfig(api_url=server.url), parse_version("latest"))
    assert server.count(path) == 1


def test_an_asset_rate_limit_says_when_it_resets_and_not_to_set_a_token(
    server: FakeHTTPServer,
) -> None:
    reset = str(int(time.time()) + 600)
    server.add("/a.tar.gz", "", 403, X_RateLimit_Remaining="0", X_RateLimit_Reset=reset)
    with network() as net, pytest.raises(RateLimitError, match=r"resets at .* UTC") as info:
        download(net, f"{server.url}/a.tar.gz", lambda _b: None)
    assert "GITHUB_TOKEN" not in str(info.value) + (info.value.hint or "")


def test_a_redirect_loop_is_exit_4_without_retries(server: FakeHTTPServer) -> None:
    server.redirect("/loop", "/loop")
    sleeps: list[float] = []
    with network(sleeps) as net, pytest.raises(NetworkError) as info:
        download(net, f"{server.url}/loop", lambda _b: None)
    assert info.value.exit_code == 4 and sleeps == []


def test_a_redirect_to_another_scheme_is_not_retried(server: FakeHTTPServer) -> None:
    server.redirect("/ftp", "ftp://127.0.0.1/a.tar.gz")
    sleeps: list[float] = []
    with network(sleeps) as net, pytest.raises(NetworkError) as info:
        download(net, f"{server.url}/ftp", lambda _b: None)
    assert info.value.exit_code == 4 and sleeps == []


def test_a_proxy_407_is_not_retried_and_names_the_proxy(
    server: FakeHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.add("http://example.invalid/a.tar.gz", "", 407)
    monkeypatch.setenv("HTTP_PROXY", f"http://user:secret@{server.url.removeprefix('http://')}")
    sleeps: list[float] = []
    with network(sleeps) as net, pytest.raises(NetworkError) as info:
        download(net, "http://example.invalid/a.tar.gz", lambda _b: None)
    text = str(info.value)
    assert "407" in text and server.url.removeprefix("http://") in text
    assert "secret" not in text and sleeps == []


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://u:pw@mirror.example/x?sig=1", "https://***@mirror.example/x"),
        ("http://tok@h:8080", "http://***@h:8080"),
        ("https://h/a@b", "https://h/a@b"),
        ("plain", "plain"),
        ("http://user:s3c/ret@proxy:8080", "http://***@proxy:8080"),
        ("http://user:s3c?ret@proxy:8080", "http://***@proxy:8080"),
        ("http://user:12/s3cret@proxy:8080/x", "http://***@proxy:8080/x"),
        ("https://r.example/@openai%2fcodex", "https://r.example/@openai%2fcodex"),
        ("https://h/x#frag", "https://h/x"),
    ],
)
def test_redact_drops_credentials_and_queries(url: str, shown: str) -> None:
    assert shown_url(url) == shown


def test_a_failure_on_a_route_no_proxy_sends_direct_names_no_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # HTTPS_PROXY is set but NO_PROXY exempts the host: the message must not blame the proxy.
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with network() as net, pytest.raises(NetworkError) as info:
        download(net, "http://127.0.0.1:9/a.tar.gz", lambda _b: None, policy=RetryPolicy(2))
    assert "proxy" not in str(info.value)
