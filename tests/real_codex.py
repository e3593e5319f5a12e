"""The real Codex for the opt-in ``-m e2e`` tests: ``CODEX_E2E_BINARY`` if set, else
codex-install installs auth/checked.py's CODEX_VERSION (the version our tables were checked
against) from the npm registry this machine is configured with (network)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
