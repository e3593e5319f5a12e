"""Cold start stays cheap: `--version` and `--help` never import the network or zstd stacks
(SPEC §11). Checked in a fresh interpreter with ``python -X importtime``, which lists every
module a process imports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from builders import package_release
from cli_helpers import REPO, install
from servers.fake_http import FakeHTTPServer

INSTALLER = Path(__file__).resolve().parent.parent / "installer"
HEAVY = (
    "httpx",
    "httpcore",
    "requests",
    "requests_cache",
    "urllib3",
    "backports.zstd",
    "compression.zstd",
)


def imported_modules(*args: str, env: dict[str, str] | None = None) -> tuple[set[str], str]:
    env = {**(env or os.environ), "PYTHONPATH": str(INSTALLER), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "codex_install", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = {
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    return names, proc.stdout


@pytest.mark.parametrize("args", [("--version",), ("--help",), ("install", "--help")], ids=" ".join)
def test_cold_start_imports_no_network_or_zstd_module(args: tuple[str, ...]) -> None:
    names, stdout = imported_modules(*args)
    assert "codex_install" in names  # the listing is real, not empty
    heavy = sorted(n for n in names if n in HEAVY or n.startswith(tuple(f"{h}." for h in HEAVY)))
    assert heavy == [], f"`codex-install {' '.join(args)}` imported {heavy}"
    assert stdout.startswith("codex-install ") if args == ("--version",) else "Usage:" in stdout


@pytest.mark.slow
def test_latest_already_installed_is_one_request_without_the_bytes_client(
    env: dict[str, str], server: FakeHTTPServer
) -> None:
    """`--version latest` with latest installed: the conditional metadata request through the
    metadata client and nothing else (no SUMS, no archive: httpx and the archive stack stay
    out)."""
    package_release("0.170.0").publish_github(server)
    assert install(env).exit_code == 0
    server.log.clear()
    names, _ = imported_modules("install", "--version", "latest", "--no-login", env=env)
    assert [r.path for r in server.log] == [f"/repos/{REPO}/releases/latest"]
    assert server.log[0].headers.get("if-none-match")  # revalidated: 304 from the cache
    assert "requests_cache" in names  # the one metadata client answered it
    # (zstd may come in: urllib3 imports it to decode zstd-encoded answers; ours stays out)
    bytes_side = {"httpx", "httpcore"}
    assert not bytes_side & names, sorted(bytes_side & names)
    # Nor what only a download or a pin needs (the no-op's cost is its imports).
    unneeded = {"codex_install.archive", "codex_install.http.download", "codex_install.manifest"}
    assert not unneeded & names, sorted(unneeded & names)
    assert "tomli_w" not in names  # (tomllib may read config.toml: the sign-in state)


@pytest.mark.slow
def test_a_pinned_version_already_installed_makes_no_request_and_imports_no_http_library(
    env: dict[str, str], server: FakeHTTPServer
) -> None:
    """A pinned version that is installed needs nothing from the network: no request at all, so
    neither HTTP library (nor zstd) is imported."""
    rel = package_release("0.169.0")
    rel.publish_github(server)
    args = (
        "install",
        "--version",
        "0.169.0",
        "--no-login",
        "--target",
        "x86_64-unknown-linux-musl",
    )
    assert install(env, *args[1:]).exit_code == 0
    server.log.clear()
    names, _ = imported_modules(*args, env=env)
    assert server.log == []
    heavy = sorted(n for n in names if n in HEAVY or n.startswith(tuple(f"{h}." for h in HEAVY)))
    assert heavy == [], heavy
