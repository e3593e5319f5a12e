"""Opt-in (``-m e2e``): install the real latest Codex from the npm registry this machine's npm is
configured with, into a temporary CODEX_HOME, and run it. Touches the network; never runs by
default (pyproject addopts deselect ``e2e``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

# Settings that would steer the install away from what this test means to exercise.
_STEERING = (
    "CODEX_INSTALL_SOURCE",
    "CODEX_INSTALL_MIRROR",
    "CODEX_RELEASE",
    "CODEX_HOME",
    "CODEX_INSTALL_DIR",
    "XDG_BIN_HOME",
)


def codex_install(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codex_install", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )


def test_installs_the_real_latest_codex_from_the_configured_npm_registry(tmp_path: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: no configured registry to install from")
    registry = subprocess.run(
        [npm, "config", "get", "registry"], capture_output=True, text=True, timeout=60, check=True
    ).stdout.strip()
    env = {k: v for k, v in os.environ.items() if k not in _STEERING}
    env |= {
        "CODEX_HOME": str(tmp_path / "codex-home"),
        "CODEX_INSTALL_DIR": str(tmp_path / "bin"),
        "CODEX_INSTALL_CACHE_DIR": str(tmp_path / "cache"),
        "CODEX_NON_INTERACTIVE": "1",
    }

    resolved = codex_install(env, "resolve", "--source", "npm", "--json")
    assert resolved.returncode == 0, resolved.stderr
    plan = json.loads(resolved.stdout)
    assert plan["source"] == "npm"
    assert plan["integrity"].startswith("sha512-")

    start = time.monotonic()
    result = codex_install(env, "install", "--source", "npm", "--no-login", "--json")
    elapsed = time.monotonic() - start
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["source"], data["layout"], data["version"]) == ("npm", "package", plan["version"])

    codex = tmp_path / "bin" / "codex"
    out = subprocess.run(
        [str(codex), "--version"], capture_output=True, text=True, timeout=60, check=True
    ).stdout.strip()
    assert out == f"codex-cli {plan['version']}"
    release = Path(data["paths"]["release"])
    assert release.parent.name == "releases" and (release / "codex-path" / "rg").is_file()

    print(
        f"\ne2e: {out} from {registry} ({plan['asset']}), "
        f"{data['downloaded_bytes'] / 1e6:.1f} MB in {elapsed:.1f}s "
        f"(download+extract {data['timings'].get('download_extract', 0):.1f}s)"
    )
