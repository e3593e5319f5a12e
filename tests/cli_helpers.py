"""Running the click CLI in-process against a test environment, and reading what it left."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner, Result

from builders import TARGET, FakeRelease
from codex_install.cli import cli

REPO = "openai/codex"


def no_wait(_seconds: float) -> None:
    """The retry loop's backoff, not sat out: what a retried failure says and does is the
    same, the loop's timing has tests of its own (and ``run(..., sleep=time.sleep)``)."""


def run(env: dict[str, str], *args: str, sleep: Callable[[float], None] = no_wait) -> Result:
    runner = CliRunner()
    obj = {"env": env, "sleep": sleep}
    return runner.invoke(cli, list(args), obj=obj, catch_exceptions=False)


def one_line(result: Result, code: int) -> str:
    """The one stderr line of an expected failure with exit ``code`` (SPEC §6), no traceback."""
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def install(env: dict[str, str], *args: str) -> Result:
    return run(env, "install", "--no-login", "--target", TARGET, *args)


def codex_version(env: dict[str, str]) -> str:
    link = Path(env["CODEX_INSTALL_DIR"]) / "codex"
    return subprocess.run(
        [str(link), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()


def current(env: dict[str, str]) -> str:
    return os.readlink(Path(env["CODEX_HOME"]) / "packages/standalone/current")


def asset_path(rel: FakeRelease, name: str) -> str:
    return f"/{REPO}/releases/download/{rel.tag}/{name}"
