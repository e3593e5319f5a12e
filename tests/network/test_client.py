"""The one client factory and the URL check every user-given URL goes through."""

from __future__ import annotations

import pytest

from codex_install import __version__
from codex_install.errors import UsageError
from codex_install.http.client import WEB_SCHEMES, check_url, make_client, url_problem
from codex_install.http.proxies import environment_proxies, environment_proxy, no_proxy_matches
from servers.fake_http import FakeHTTPServer


def test_every_client_says_who_it_is_and_follows_redirects_unless_told_not_to():
    with make_client() as client:
        assert client.headers["user-agent"] == f"codex-install/{__version__}"
        assert client.follow_redirects is True
    with make_client(follow_redirects=False) as client:
        assert client.follow_redirects is False


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
    from codex_install.errors import UsageError

    monkeypatch.setenv("ALL_PROXY", proxy)
    with pytest.raises(UsageError, match="proxy set in the environment") as err:
        make_client()
    assert err.value.exit_code == 2
    if proxy.startswith("socks"):
        assert "SOCKS proxies are not supported; use an http:// proxy" in err.value.message
        assert "pip install" not in err.value.line()


def test_a_client_that_only_speaks_http_never_builds_a_tls_transport(
    server: FakeHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("https_proxy", "http_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    server.add("/f", b"plain")
    with make_client() as client:
        assert client.get(server.url + "/f").content == b"plain"
        made = client._transport.made  # type: ignore[attr-defined]
        assert set(made) == {("environment", "http", None)}  # no CA bundle was loaded


@pytest.mark.parametrize(
    ("host", "port", "no_proxy", "bypassed"),
    [
        ("registry.corp", 443, "corp", True),
        ("registry.corp", 443, ".corp", True),
        ("registry.corp", 443, "*.corp", True),
        ("notcorp", 443, "corp", False),
        ("registry.corp", 443, "registry.corp:8443", False),
        ("registry.corp", 8443, "registry.corp:8443", True),
        ("10.1.2.3", 80, "10.0.0.0/8", True),
        ("10.1.2.3", 80, "192.168.0.0/16, localhost", False),
        ("::1", 80, "[::1]", True),
        ("anything", 80, "*", True),
        ("anything", 80, "", False),
    ],
)
def test_no_proxy_matches_domains_subdomains_ports_and_networks(host, port, no_proxy, bypassed):
    assert no_proxy_matches(host, port, no_proxy) is bypassed


def test_the_environment_proxy_is_picked_per_scheme_lower_case_first() -> None:
    env = {
        "HTTPS_PROXY": "http://upper:1",
        "https_proxy": "http://lower:1",
        "ALL_PROXY": "http://all:1",
    }
    proxies = environment_proxies(env)
    assert environment_proxy("https", "h.example", 443, proxies) == "http://lower:1"
    assert environment_proxy("http", "h.example", 80, proxies) == "http://all:1"
    assert environment_proxy("http", "h.example", 80, {**proxies, "no": "example"}) is None
