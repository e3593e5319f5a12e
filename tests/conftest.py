"""Shared fixtures: loopback servers and an isolated environment for each test."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from servers.fake_http import FakeHTTPServer


@pytest.fixture
def server() -> Iterator[FakeHTTPServer]:
    srv = FakeHTTPServer().start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture
def env(home: Path, server: FakeHTTPServer, tmp_path: Path) -> dict[str, str]:
    """An environment with every path in a temp dir and GitHub pointed at the fake server."""
    base = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "CODEX_HOME": str(home / ".codex"),
        "CODEX_INSTALL_DIR": str(home / "bin"),
        "CODEX_INSTALL_CACHE_DIR": str(tmp_path / "cache"),
        "GITHUB_API_URL": server.url,
        "CODEX_NON_INTERACTIVE": "1",
        "NO_PROXY": "127.0.0.1,localhost",
        "LANG": "C.UTF-8",
    }
    return base
