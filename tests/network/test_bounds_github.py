"""GitHub metadata against hostile loopback servers: an endless body stops at the cap, a
trickle stops at the deadline, a black hole is given up within seconds (SPEC §6 exit 4)."""

from __future__ import annotations

import time

import pytest

from codex_install.errors import NetworkError
from codex_install.http.limits import RELEASE_JSON_CAP
from codex_install.http.network import Network
from codex_install.http.plan import NetworkPlan
from codex_install.sources.github import GitHubConfig, fetch_release
from codex_install.versions import parse_version
from network.hostile import elapsed, hostile_server

LATEST = parse_version("latest")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("https_proxy", "http_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.mark.slow
def test_an_endless_release_json_stops_at_the_cap() -> None:
    with hostile_server("endless") as url:
        with pytest.raises(NetworkError, match=r"larger than the 16 MiB allowed") as info:
            fetch_release(Network(NetworkPlan()), GitHubConfig(api_url=url), LATEST)
        assert f"{url}/repos/" in str(info.value)
    assert RELEASE_JSON_CAP == 16 << 20


@pytest.mark.slow
def test_a_trickled_release_json_stops_at_the_deadline() -> None:
    with hostile_server("trickle", interval=0.2) as url:
        start = time.monotonic()
        with pytest.raises(NetworkError, match=r"took longer than 1.5 s") as info:
            fetch_release(Network(NetworkPlan(1.5)), GitHubConfig(api_url=url), LATEST)
        assert elapsed(start) < 3
        assert not info.value.connection_level


@pytest.mark.slow
def test_a_black_holed_github_is_given_up_within_seconds() -> None:
    with hostile_server("blackhole") as url:
        net = Network(NetworkPlan(1.0), sleep=lambda _s: None)
        start = time.monotonic()
        with pytest.raises(NetworkError, match=r"after 2 attempts: .* did not answer") as info:
            fetch_release(net, GitHubConfig(api_url=url), LATEST)
        assert elapsed(start) < 3.5
    assert info.value.connection_level
