"""How a proxy URL may be spelled, and what a message may show of it: ``host:port`` without a
scheme is an http:// proxy in the environment (as requests, httpx, curl and pip read it), and a
``user:password`` is never shown, even when a ``/``, ``?`` or ``#`` in it makes a URL parser
take part of it for the path."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from builders import TARGET, package_release
from cli_helpers import REPO, codex_version, install, one_line
from servers.fake_http import FakeHTTPServer

ORIGIN = "http://codex.example.invalid"  # resolves nowhere: only the proxy reaches it
SECRET = "s3c"


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHTTPServer]:
    for name in ("https_proxy", "http_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    srv = FakeHTTPServer().start()
    try:
        yield srv
    finally:
        srv.stop()


def test_a_proxy_without_a_scheme_carries_the_api_call_and_the_downloads(
    env: dict[str, str], proxy: FakeHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    rel = package_release("0.169.0")
    urls = {name: f"{ORIGIN}/dl/{name}" for name in rel.files}
    for name, data in rel.files.items():
        proxy.add(urls[name], data)
    proxy.add(f"{ORIGIN}/repos/{REPO}/releases/tags/{rel.tag}", json.dumps(rel.release_json(urls)))
    monkeypatch.setenv("HTTP_PROXY", proxy.url.removeprefix("http://"))  # 127.0.0.1:PORT
    env = {**env, "GITHUB_API_URL": ORIGIN}
    result = install(env, "--version", "0.169.0", "--source", "github")
    assert result.exit_code == 0, result.output
    assert codex_version(env) == "codex-cli 0.169.0"
    asked = {r.path for r in proxy.log}
    assert f"{ORIGIN}/dl/codex-package-{TARGET}.tar.zst" in asked


MALFORMED = [
    "http://user:s3c/ret@proxy.example.invalid:8080",
    "http://user:s3c?ret@proxy.example.invalid:8080",
    "http://user:s3c#ret@proxy.example.invalid:8080",
    "http://user:12/s3cret@proxy.example.invalid:8080",  # parses as host "user", port 12
    "user:s3cret@proxy.example.invalid:notaport",
    "ftp://user:s3cret@proxy.example.invalid:21",
]


@pytest.mark.parametrize("value", MALFORMED)
@pytest.mark.parametrize("source", ["github", "npm"])
def test_a_malformed_proxy_in_the_environment_never_shows_its_password(
    env: dict[str, str], proxy: FakeHTTPServer, monkeypatch: pytest.MonkeyPatch, value: str,
    source: str,
) -> None:  # fmt: skip
    monkeypatch.setenv("HTTPS_PROXY", value)
    env = {**env, "HTTPS_PROXY": value, "HTTP_PROXY": value}
    if source == "npm":
        env["npm_config_registry"] = "http://registry.example.invalid/npm/"
    line = one_line(install(env, "--source", source), 2)
    assert SECRET not in line and "ret@" not in line, line
    assert "proxy.example.invalid" in line


@pytest.mark.parametrize("value", [m for m in MALFORMED if "#" not in m])  # .npmrc: a comment
def test_a_malformed_npmrc_proxy_never_shows_its_password(
    env: dict[str, str], home, proxy: FakeHTTPServer, value: str
) -> None:
    (home / ".npmrc").write_text(f"registry=http://registry.example.invalid/npm/\nproxy={value}\n")
    line = one_line(install(env, "--source", "npm"), 2)
    assert SECRET not in line and "ret@" not in line, line
    assert "cannot use the proxy set in the user .npmrc" in line
