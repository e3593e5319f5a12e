"""The real Codex for the opt-in ``-m e2e`` tests: ``CODEX_E2E_BINARY`` if set, else
codex-install installs auth/checked.py's CODEX_VERSION (the version our tables were checked
against) from the npm registry this machine is configured with (network); and a real Secret
Service keyring session to run it in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from codex_install.auth.checked import CODEX_VERSION


def real_codex(root: Path) -> Path:
    """The binary, after checking it is CODEX_VERSION; ``root`` holds an install."""
    given = os.environ.get("CODEX_E2E_BINARY")
    if given:
        path = Path(given)
    else:
        env = {**os.environ, "CODEX_HOME": str(root / "home"), "CODEX_NON_INTERACTIVE": "1"}
        env["CODEX_INSTALL_DIR"] = str(root / "bin")
        argv = ["install", "--version", CODEX_VERSION, "--no-login"]
        proc = subprocess.run(
            [sys.executable, "-m", "codex_install", *argv],
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        path = root / "bin" / "codex"
    version = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=60)
    assert version.stdout.split()[-1] == CODEX_VERSION, version.stdout
    return path


# Inside one D-Bus session: an unlocked Secret Service keyring, the real Codex signed in to it
# with $LOGIN (an API key) when set, then the probe.
_KEYRING_SESSION = """set -e
printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
if [ -n "$LOGIN" ]; then printf '%s\\n' "$LOGIN" | "$CODEX" login --with-api-key >/dev/null 2>&1; fi
exec "$PYTHON" -c "$PROBE"
"""


def need_keyring(*tools: str) -> None:
    """Skip unless a keyring session can run here (and ``tools`` are on PATH)."""
    for tool in ("dbus-run-session", "gnome-keyring-daemon", *tools):
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool} (Debian: dbus, gnome-keyring, libsecret-tools)")


def in_keyring_session(
    codex: Path, probe: str, env: Mapping[str, str], *, login: str | None, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Python ``probe`` (this interpreter) in a fresh keyring session, after ``codex login``
    with ``login`` if given; ``env`` is the session's whole environment besides these."""
    session_env = {
        **env,
        "CODEX": str(codex),
        "PYTHON": sys.executable,
        "PROBE": probe,
        "LOGIN": login or "",
    }
    return subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", _KEYRING_SESSION],
        env=session_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
