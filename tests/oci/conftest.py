"""Fixtures for the OCI tests: a synthetic release published on the fake GitHub, the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from builders import ALL_TARGETS, FakeRelease, gz, package_tar, zst
from servers.fake_http import FakeHTTPServer

VERSION = "0.169.0"


def full_release(version: str = VERSION) -> FakeRelease:
    rel = FakeRelease(version)
    for t in ALL_TARGETS:
        tar = package_tar(version, t)
        rel.files[f"codex-package-{t}.tar.zst"] = zst(tar)
        rel.files[f"codex-package-{t}.tar.gz"] = gz(tar)
    return rel.with_sums()


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def release(server: FakeHTTPServer) -> FakeRelease:
    rel = full_release()
    rel.publish_github(server)
    return rel


@pytest.fixture
def runner_env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """A runner's environment: a fresh HOME and CODEX_HOME, GitHub unreachable."""
    home = tmp_path / "runner"
    home.mkdir()
    return {
        **env,
        "HOME": str(home),
        "CODEX_HOME": str(home / ".codex"),
        "CODEX_INSTALL_DIR": str(home / "bin"),
        "CODEX_INSTALL_CACHE_DIR": str(home / ".cache"),
        "GITHUB_API_URL": "http://127.0.0.1:9",
    }
