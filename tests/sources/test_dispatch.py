"""Which source answers, through the CLI: every URL a user gives (flags, environment, .npmrc)
that cannot be used is bad input — exit 2 and one line naming it — before any request."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import package_release
from codex_install.errors import UsageError
from codex_install.http.network import Network
from codex_install.http.plan import NetworkPlan
from codex_install.sources.dispatch import SourceOptions, fetch_release
from codex_install.versions import VersionSpec
from servers.fake_http import FakeHTTPServer
from sources.npm_helpers import install, run

BAD_URLS = ["http://[bad", "http://bad:99999/", "https://host:port/"]


def assert_usage_error_naming(result, url: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("codex-install: error: ")
    assert repr(url) in lines[0]
    assert "this is a bug" not in lines[0]


@pytest.mark.parametrize("url", BAD_URLS)
@pytest.mark.parametrize("command", ["install", "resolve"])
def test_a_malformed_mirror_flag_is_exit_2_naming_it(env, server, url, command):
    if command == "install":
        result = install(env, "--mirror", url)
    else:
        result = run(env, "resolve", "--mirror", url)
    assert_usage_error_naming(result, url)
    assert server.log == []


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_malformed_mirror_in_the_environment_is_exit_2(env, server, url):
    result = install({**env, "CODEX_INSTALL_MIRROR": url})
    assert_usage_error_naming(result, url)
    assert server.log == []


@pytest.mark.parametrize("url", [*BAD_URLS, "api.github.com"])
def test_a_malformed_github_api_url_is_exit_2(env, server, url):
    assert_usage_error_naming(run(env, "resolve", "--github-api-url", url), url)
    assert_usage_error_naming(install({**env, "GITHUB_API_URL": url}), url)
    assert server.log == []


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_malformed_npm_registry_is_exit_2(env, server, url):
    result = run(env, "resolve", "--source", "npm", "--npm-registry", url)
    assert_usage_error_naming(result, url)
    assert server.log == []


def test_a_malformed_registry_in_the_user_npmrc_is_exit_2(env, home: Path):
    (home / ".npmrc").write_text("registry=http://[bad/\n")
    result = install(env, "--source", "npm")
    assert_usage_error_naming(result, "http://[bad/")
    assert "user .npmrc" in result.stderr


def test_a_malformed_registry_in_the_user_npmrc_does_not_break_github_installs(
    env, server: FakeHTTPServer, home: Path
):
    (home / ".npmrc").write_text("registry=http://[bad/\n")
    package_release("0.169.0").publish_github(server)
    result = install(env, "--version", "0.169.0")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (SourceOptions(source="mirror"), "--source mirror needs --mirror URL"),
        (SourceOptions(source="npm"), "needs release archives"),
    ],
)
def test_fetch_release_refuses_what_has_no_release_archives(options, message):
    with pytest.raises(UsageError, match=message):
        fetch_release(Network(NetworkPlan()), options, VersionSpec("0.169.0"))


def test_mirror_sync_with_a_malformed_mirror_is_exit_2(env, tmp_path):
    result = run(env, "mirror", "sync", "--mirror", "http://[bad", "--output", str(tmp_path))
    assert_usage_error_naming(result, "http://[bad")
