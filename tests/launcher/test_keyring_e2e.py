"""Opt-in (``-m e2e``): the real Codex keeps an API key in a real Secret Service keyring
(``cli_auth_credentials_store = "keyring"``), and codex-launch — which cannot read that keyring —
must ask Codex, say signed in and exec; with an empty keyring and a leftover auth.json, exit 8.

Needs ``dbus-run-session`` and ``gnome-keyring-daemon`` (Debian: gnome-keyring), and the real
Codex from tests/real_codex.py (``CODEX_E2E_BINARY``, else installed: network)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from real_codex import in_keyring_session, need_keyring, real_codex

pytestmark = pytest.mark.e2e

KEY = "sk-keyring-e2e-0000"
# launch() with the real `codex login status` and an exec that only reports what it would run.
PROBE = """import sys
from codex_install.launcher import launch
sys.exit(launch(["exec", "hi"], execv=lambda path, argv: print("EXEC", *argv[1:]),
                isatty=lambda fd: False))
"""


def run_session(codex: Path, home: Path, login: str | None) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{codex.parent}:/usr/bin:/bin",
        "HOME": str(home),
        "CODEX_HOME": str(home / ".codex"),
        "CODEX_INSTALL_DIR": str(codex.parent),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "installer"),
    }
    return in_keyring_session(codex, PROBE, env, login=login, timeout=120)


def test_keyring_login_by_real_codex_is_signed_in_for_codex_launch(tmp_path: Path) -> None:
    need_keyring()
    codex = real_codex(tmp_path)
    for name, login in (("empty", None), ("signed-in", KEY)):
        home = Path(os.environ.get("TMPDIR_E2E", "/var/tmp")) / f"codex-kr-{os.getpid()}-{name}"
        (home / ".codex").mkdir(parents=True)
        try:
            (home / ".codex" / "config.toml").write_text('cli_auth_credentials_store = "keyring"\n')
            if login is None:  # a leftover file proves nothing in keyring mode
                (home / ".codex" / "auth.json").write_text(
                    '{"auth_mode": "apikey", "OPENAI_API_KEY": "sk-leftover"}'
                )
            proc = run_session(codex, home, login)
            if login is None:
                assert proc.returncode == 8, proc.stdout + proc.stderr
                assert "EXEC" not in proc.stdout
            else:
                assert proc.returncode == 0, proc.stdout + proc.stderr
                assert proc.stdout.strip() == "EXEC exec hi"
                assert not (home / ".codex" / "auth.json").exists()  # the key is in the keyring
            assert KEY not in proc.stdout + proc.stderr
        finally:
            shutil.rmtree(home, ignore_errors=True)
