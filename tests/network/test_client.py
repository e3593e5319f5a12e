"""The httpx client the network plan makes, and the checks every user-given URL and proxy go
through."""

from __future__ import annotations

import pytest

from codex_install import __version__
from codex_install.errors import UsageError
from codex_install.http.client import WEB_SCHEMES, check_url, url_problem
from codex_install.http.network import Network, make_client
from codex_install.http.plan import NetworkPlan, Route, origin
from servers.fake_http import FakeHTTPServer


def test_every_client_says_who_it_is_and_follows_redirects_unless_told_not_to():
    with make_client(NetworkPlan()) as client:
        assert client.headers["user-agent"] == f"codex-install/{__version__}"
        assert client.follow_redirects is True
    with make_client(NetworkPlan(), follow_redirects=False) as client:
        assert client.follow_redirects is False


def test_a_routes_credentials_go_to_its_origin_only_redirects_included(
    server: FakeHTTPServer,
) -> None:
    other = FakeHTTPServer().start()
    try:
        other.add("/elsewhere", b"x")
        server.redirect("/here", other.url + "/elsewhere")
        plan = NetworkPlan(routes=(Route(origin(server.url), authorization="Bearer t0k"),))
        with make_client(plan) as client:
            assert client.get(server.url + "/here").content == b"x"
        assert server.requests_to("/here")[0].headers["authorization"] == "Bearer t0k"
        assert "authorization" not in other.requests_to("/elsewhere")[0].headers
    finally:
        other.stop()


@pytest.mark.parametrize(
    "url",
    ["https://api.github.com", "http://127.0.0.1:8080/m/", "file:///srv/mirror/", "https://[::1]/"],
)
def test_usable_urls_pass(url):
    assert url_problem(url) is None
    assert check_url(url, "the mirror URL") == url


@pytest.mark.parametrize(
    ("url", "schemes", "problem"),
    [
        ("http://[bad", WEB_SCHEMES, "Invalid IPv6 URL"),
        ("http://bad:99999/", WEB_SCHEMES, "Port out of range"),
        ("https://host:port/", WEB_SCHEMES, "Port"),
        ("api.github.com", WEB_SCHEMES, "scheme must be http or https"),
        ("file:///srv/m/", WEB_SCHEMES, "scheme must be http or https"),
        ("ftp://mirror.example/", (*WEB_SCHEMES, "file"), "scheme"),
        ("https:///path", WEB_SCHEMES, "no host"),
    ],
)
def test_unusable_urls_are_a_usage_error_naming_them(url, schemes, problem):
    with pytest.raises(UsageError, match=problem) as err:
        check_url(url, "the GitHub API URL", schemes)
    assert repr(url) in str(err.value)
    assert err.value.exit_code == 2


@pytest.mark.parametrize(
    "proxy", ["http://127.0.0.1:notaport", "ftp://proxy.example:21", "socks5://127.0.0.1:1080"]
)
def test_an_unusable_proxy_setting_is_bad_input_not_a_bug(monkeypatch, proxy):
    monkeypatch.setenv("ALL_PROXY", proxy)  # as both libraries read it
    with pytest.raises(UsageError, match="proxy set in the environment") as err:
        Network(NetworkPlan())
    assert err.value.exit_code == 2
    if proxy.startswith("socks"):
        assert "SOCKS proxies are not supported; use an http:// proxy" in err.value.message
        assert "pip install" not in err.value.line()
