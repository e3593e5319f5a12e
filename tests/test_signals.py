"""SIGTERM and SIGHUP unwind like Ctrl-C: a real ``codex-install install`` process stopped
mid-extract removes its staging dir, releases the lock, keeps the previous release current and
exits 128 + n; every command that takes the install lock sweeps what a SIGKILL leaves."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from builders import TARGET, codex_script, package_manifest, package_release, zst
from cli_helpers import asset_path, codex_version, current, install, run
from servers.fake_http import FakeHTTPServer

INSTALLER = Path(__file__).resolve().parents[1] / "installer"


def big_tar(version: str) -> bytes:
    """A package tar of ~12 MiB (incompressible): the server holds its second half back, so
    the install is caught mid-extract."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        import json

        for name, data, mode in [
            ("codex-package.json", json.dumps(package_manifest(version, TARGET)).encode(), 0o644),
            ("bin/codex", codex_script(version), 0o755),
            ("codex-resources/blob", os.urandom(12 << 20), 0o644),
        ]:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def staging_dirs(env: dict[str, str]) -> list[Path]:
    releases = Path(env["CODEX_HOME"]) / "packages/standalone/releases"
    return sorted(releases.glob(".staging-*"))


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_termination_signal_mid_extract_cleans_up_and_exits_128_plus_n(
    env: dict[str, str], server: FakeHTTPServer, tmp_path: Path, signum: int
) -> None:
    package_release("0.169.0").publish_github(server)
    assert install(env, "--version", "0.169.0").exit_code == 0
    rel = package_release("0.170.0")
    archive = f"codex-package-{TARGET}.tar.zst"
    rel.files[archive] = zst(big_tar("0.170.0"))
    rel.with_sums().publish_github(server)
    server.fault(asset_path(rel, archive), f"hold:{len(rel.files[archive]) // 2}:30")
    child = subprocess.Popen(
        [sys.executable, "-m", "codex_install", "install", "--no-login", "--target", TARGET,
         "--version", "0.170.0"],
        env={**env, "PYTHONPATH": str(INSTALLER)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while not any((d / "codex-resources" / "blob").exists() for d in staging_dirs(env)):
        assert time.monotonic() < deadline, "the install never started extracting"
        assert child.poll() is None, child.communicate()
        time.sleep(0.02)
    child.send_signal(signum)
    _, err = child.communicate(timeout=20)
    assert child.returncode == 128 + signum, err
    assert b"interrupted" in err and b"Traceback" not in err
    assert staging_dirs(env) == []
    assert current(env).endswith(f"0.169.0-{TARGET}")
    assert codex_version(env) == "codex-cli 0.169.0"
    # The lock is free: the next command does not wait.
    assert run(env, "use", "0.169.0").exit_code == 0


def test_ctrl_c_still_exits_130() -> None:
    from codex_install.signals import Terminated, exit_code

    assert exit_code(KeyboardInterrupt()) == 130
    assert exit_code(Terminated(signal.SIGTERM)) == 143
    assert exit_code(Terminated(signal.SIGHUP)) == 129


@pytest.mark.parametrize(
    "command",
    [("use", "0.169.0"), ("prune",), ("uninstall", "0.168.0"), ("install", "--version", "0.169.0")],
    ids=["use", "prune", "uninstall", "install"],
)
def test_every_command_under_the_lock_sweeps_what_a_kill_left(
    env: dict[str, str], server: FakeHTTPServer, command: tuple[str, ...]
) -> None:
    for version in ("0.168.0", "0.169.0"):
        package_release(version).publish_github(server)
        assert install(env, "--version", version).exit_code == 0
    releases = Path(env["CODEX_HOME"]) / "packages/standalone/releases"
    left = [releases / ".staging-0123456789ab", releases / ".trash-0123456789ab"]
    for leftover in left:
        (leftover / "bin").mkdir(parents=True)
        (leftover / "bin" / "codex").write_text("partial")
    args = [*command, "--no-login", "--target", TARGET] if command[0] == "install" else command
    result = run(env, *args)
    assert result.exit_code == 0, result.output
    assert not [p for p in left if p.exists()]


def test_a_dry_run_prune_changes_nothing(env: dict[str, str], server: FakeHTTPServer) -> None:
    package_release("0.169.0").publish_github(server)
    assert install(env, "--version", "0.169.0").exit_code == 0
    leftover = Path(env["CODEX_HOME"]) / "packages/standalone/releases/.staging-0123456789ab"
    leftover.mkdir()
    assert run(env, "prune", "--dry-run").exit_code == 0
    assert leftover.exists()
