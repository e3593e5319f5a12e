"""Fixtures of the source tests: an npm registry on the fake server, fast retries."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_install.http.retry import RetryPolicy
from servers.fake_http import FakeHTTPServer
from sources.npm_helpers import FakeRegistry


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The project .npmrc is looked up from the working directory."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RetryPolicy, "delay", lambda self, attempt, retry_after=None: 0.0)


@pytest.fixture
def registry(server: FakeHTTPServer) -> FakeRegistry:
    return FakeRegistry(server)


@pytest.fixture
def npm_env(env: dict[str, str], registry: FakeRegistry) -> dict[str, str]:
    return {**env, "NPM_CONFIG_REGISTRY": registry.url}
