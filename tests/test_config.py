"""Settings.from_env: flag over environment over default, for every variable it reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_install.config import Flags, Settings
from codex_install.errors import UsageError
from codex_install.sources.github import DEFAULT_API_URL, DEFAULT_REPO

HOME = {"HOME": "/home/u"}


def test_defaults_come_from_home() -> None:
    settings = Settings.from_env(HOME)
    assert settings.paths.codex_home == Path("/home/u/.codex")
    assert settings.paths.bin_dir == Path("/home/u/.local/bin")
    assert settings.version is None
    assert settings.sources.source == "auto"
    assert settings.sources.github.api_url == DEFAULT_API_URL
    assert settings.sources.github.repo == DEFAULT_REPO
    assert settings.sources.mirror is None
    assert settings.non_interactive is False


@pytest.mark.parametrize(
    ("env", "flags", "field", "expected"),
    [
        ({"CODEX_RELEASE": "0.1.0"}, Flags(), "version", "0.1.0"),
        ({"CODEX_RELEASE": "0.1.0"}, Flags(version="0.2.0"), "version", "0.2.0"),
        ({"CODEX_RELEASE": ""}, Flags(), "version", None),
        ({"CODEX_INSTALL_SOURCE": "npm"}, Flags(), "source", "npm"),
        ({"CODEX_INSTALL_SOURCE": "npm"}, Flags(source="github"), "source", "github"),
        ({"CODEX_INSTALL_MIRROR": "file:///m"}, Flags(), "mirror", "file:///m"),
        ({"CODEX_INSTALL_MIRROR": "file:///m"}, Flags(mirror="file:///f"), "mirror", "file:///f"),
        ({"GITHUB_API_URL": "http://ghe"}, Flags(), "api_url", "http://ghe"),
        ({"GITHUB_API_URL": "http://ghe"}, Flags(github_api_url="http://x"), "api_url", "http://x"),
        ({"GH_TOKEN": "t2"}, Flags(), "token", "t2"),
        ({"GH_TOKEN": "t2", "GITHUB_TOKEN": "t1"}, Flags(), "token", "t1"),
        ({"SSL_CERT_DIR": "/certs"}, Flags(), "trust", ("/certs",)),
        ({"SSL_CERT_FILE": "/ca.pem", "SSL_CERT_DIR": "/c"}, Flags(), "trust", ("/ca.pem", "/c")),
        ({"REQUESTS_CA_BUNDLE": "/r.pem"}, Flags(), "trust", ("/r.pem",)),
        ({"CURL_CA_BUNDLE": "/c.pem", "SSL_CERT_FILE": "/c.pem"}, Flags(), "trust", ("/c.pem",)),
        ({"CODEX_INSTALL_TIMEOUT": "7.5"}, Flags(), "timeouts", (7.5, 7.5)),
        ({}, Flags(), "timeouts", (30.0, 600.0)),
        ({"CODEX_INSTALL_LOW_SPEED": "100/2"}, Flags(), "floor", (100, 2.0)),
        ({"NO_COLOR": "1"}, Flags(), "no_color", True),
        ({"TERM": "dumb"}, Flags(), "no_color", True),
        ({"NO_COLOR": "", "TERM": "xterm"}, Flags(), "no_color", False),
        ({}, Flags(), "floor", (1024, 30.0)),
        ({"CODEX_NON_INTERACTIVE": "1"}, Flags(), "non_interactive", True),
        ({"CODEX_NON_INTERACTIVE": "true"}, Flags(), "non_interactive", True),
        ({"CODEX_NON_INTERACTIVE": "0"}, Flags(), "non_interactive", False),
        ({"CODEX_INSTALL_MANIFEST_DIR": "/m"}, Flags(), "manifest_override", "/m"),
    ],
)
def test_flag_beats_environment_beats_default(
    env: dict[str, str], flags: Flags, field: str, expected: object
) -> None:
    settings = Settings.from_env({**HOME, **env}, flags)
    where: dict[str, object] = {
        "version": settings.version,
        "source": settings.sources.source,
        "mirror": settings.sources.mirror,
        "api_url": settings.sources.github.api_url,
        "token": settings.sources.github.token,
        "trust": settings.network.trust,
        "timeouts": (settings.network.metadata_s, settings.network.download_s),
        "floor": (settings.network.floor.bytes_per_s, settings.network.floor.seconds),
        "no_color": settings.no_color,
        "non_interactive": settings.non_interactive,
        "manifest_override": settings.manifest_override,
    }
    assert where[field] == expected


def test_paths_follow_the_flags_first(tmp_path: Path) -> None:
    env = {**HOME, "CODEX_HOME": "/env/home", "CODEX_INSTALL_DIR": "/env/bin"}
    assert Settings.from_env(env).paths.codex_home == Path("/env/home")
    flags = Flags(codex_home=tmp_path / "h", bin_dir=tmp_path / "b")
    settings = Settings.from_env(env, flags)
    assert (settings.paths.codex_home, settings.paths.bin_dir) == (tmp_path / "h", tmp_path / "b")


def test_an_unknown_source_in_the_environment_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown source 'ftp'"):
        _ = Settings.from_env({**HOME, "CODEX_INSTALL_SOURCE": "ftp"}).sources


def test_github_path_is_read_from_the_environment() -> None:
    assert Settings.from_env(HOME).github_path is None
    assert Settings.from_env({**HOME, "GITHUB_PATH": "/gh/path"}).github_path == "/gh/path"


@pytest.mark.parametrize(
    "api_url",
    ["http://127.0.0.1:9/api", "http://localhost:9/api", "http://[::1]:9/api", "https://ghe/api"],
)
def test_a_token_goes_over_https_or_to_loopback(api_url: str) -> None:
    env = {**HOME, "GITHUB_TOKEN": "t", "GITHUB_API_URL": api_url}
    assert Settings.from_env(env).sources.github.token == "t"


def test_a_token_over_plain_http_needs_the_opt_in() -> None:
    env = {**HOME, "GITHUB_TOKEN": "t", "GITHUB_API_URL": "http://ghe.example/api"}
    with pytest.raises(UsageError, match="over plain http://"):
        _ = Settings.from_env(env).sources
    allowed = Settings.from_env({**env, "CODEX_INSTALL_ALLOW_HTTP_TOKEN": "1"})
    assert allowed.sources.github.token == "t"
    assert Settings.from_env({**env, "GITHUB_TOKEN": ""}).sources.github.token is None


def test_commands_that_fetch_nothing_never_fail_over_source_settings() -> None:
    env = {**HOME, "CODEX_INSTALL_SOURCE": "ftp", "GITHUB_TOKEN": "bad\ntoken"}
    settings = Settings.from_env(env)
    assert settings.paths.codex_home == Path("/home/u/.codex")  # list, use, auth need no more
    with pytest.raises(UsageError):
        _ = settings.sources


def test_a_source_that_never_asks_github_ignores_the_token() -> None:
    env = {**HOME, "GITHUB_TOKEN": "bad\ntoken", "GITHUB_API_URL": "http://ghe/api"}
    assert Settings.from_env(env, Flags(source="npm")).sources.github.token is None
    assert Settings.from_env(env, Flags(mirror="file:///m")).sources.github.token is None
