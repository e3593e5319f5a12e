"""Every configuration or state file is read without blocking, only when it is a regular file,
and never past a cap: a FIFO or a symlink to /dev/zero in its place is one line (exit 2 for a
setting the user gave), never a hang or a MemoryError; a source's files are read only when that
source is used (the project and user .npmrc under ``--source github``). Each case runs the real
CLI as a process with a deadline: a hang fails the test instead of holding the suite."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from builders import TARGET, package_release
from limited import Run, run_cli
from servers.fake_http import FakeHTTPServer

pytestmark = pytest.mark.slow  # processes: ~0.3 s each
VERSION = "0.169.0"
MIB = 1 << 20


def fifo(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)


def dev_zero(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to("/dev/zero")


HOSTILE: dict[str, Callable[[Path], None]] = {"fifo": fifo, "dev-zero": dev_zero}


def cli(env: dict[str, str], *args: str, cwd: Path | None = None) -> Run:
    return run_cli(args, env, cwd=cwd, timeout=20, address_space=1024 * MIB)


def refused(run: Run, code: int = 2) -> str:
    assert run.returncode == code, run.stderr
    errors = [line for line in run.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "Traceback" not in run.stderr, run.stderr
    return errors[0]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A checkout with a package.json: npm reads its .npmrc."""
    where = tmp_path / "project"
    where.mkdir()
    (where / "package.json").write_text("{}")
    return where


@pytest.mark.parametrize("kind", list(HOSTILE))
@pytest.mark.parametrize("which", ["project", "user"])
def test_a_github_install_never_reads_either_npmrc(
    env: dict[str, str], server: FakeHTTPServer, project: Path, home: Path, kind: str, which: str
) -> None:
    package_release(VERSION).publish_github(server)
    HOSTILE[kind](project / ".npmrc" if which == "project" else home / ".npmrc")
    run = cli(env, "install", "--no-login", "--source", "github", "--target", TARGET, cwd=project)
    assert run.returncode == 0, run.stderr
    assert "npmrc" not in run.stderr


@pytest.mark.parametrize("kind", list(HOSTILE))
@pytest.mark.parametrize("which", ["project", "user"])
def test_an_npm_install_refuses_an_npmrc_that_is_no_regular_file(
    env: dict[str, str], project: Path, home: Path, kind: str, which: str
) -> None:
    path = project / ".npmrc" if which == "project" else home / ".npmrc"
    HOSTILE[kind](path)
    run = cli(env, "resolve", "--source", "npm", "--target", TARGET, cwd=project)
    line = refused(run)
    assert ".npmrc" in line and "not a regular file" in line
    assert run.max_rss_mib < 100 and run.seconds < 5.0  # 1 s is the target: 0.1-0.5 s here
    if kind == "dev-zero" and which == "user":
        print(f"/dev/zero user .npmrc: {run.seconds:.2f} s, {run.max_rss_mib:.0f} MiB")


def test_an_oversized_npmrc_is_refused(env: dict[str, str], project: Path, home: Path) -> None:
    (home / ".npmrc").write_bytes(b"; " + b"x" * (1 << 20) + b"\n")
    line = refused(cli(env, "resolve", "--source", "npm", "--target", TARGET, cwd=project))
    assert "larger than" in line


@pytest.mark.parametrize("setting", ["cafile", "certfile"])
def test_an_npm_tls_file_that_is_a_fifo_is_refused(
    env: dict[str, str], project: Path, home: Path, tmp_path: Path, setting: str
) -> None:
    fifo(tmp_path / "ca.pem")
    (home / ".npmrc").write_text(
        f"registry=https://127.0.0.1:9/\n{setting}={tmp_path / 'ca.pem'}\n"
        + (f"keyfile={tmp_path / 'ca.pem'}\n" if setting == "certfile" else "")
    )
    line = refused(cli(env, "resolve", "--source", "npm", "--target", TARGET, cwd=project))
    assert "not a regular file" in line


@pytest.mark.parametrize("kind", list(HOSTILE))
@pytest.mark.parametrize("command", ["install", "verify", "homebrew"])
def test_a_manifest_that_is_no_regular_file_is_one_line(
    env: dict[str, str], tmp_path: Path, kind: str, command: str
) -> None:
    manifest = tmp_path / "codex.toml"
    HOSTILE[kind](manifest)
    args = {
        "install": ["install", "--no-login", "--target", TARGET, "--manifest", str(manifest)],
        "verify": ["manifest", "verify", str(manifest)],
        "homebrew": ["homebrew", "--manifest", str(manifest)],
    }[command]
    line = refused(cli(env, *args))
    assert "manifest" in line and "not a regular file" in line


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_a_shipped_manifest_dir_entry_that_is_no_regular_file_is_not_a_manifest(
    env: dict[str, str], server: FakeHTTPServer, tmp_path: Path, kind: str
) -> None:
    package_release(VERSION).publish_github(server)
    shipped = tmp_path / "no-shipped-manifests"
    HOSTILE[kind](shipped / f"codex-{VERSION}.toml")
    run = cli(env, "install", "--no-login", "--target", TARGET, "--version", VERSION)
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("kind", list(HOSTILE))
@pytest.mark.parametrize("name", [".codex-install.json", "codex-package.json"])
def test_a_release_state_file_that_is_no_regular_file_hangs_no_command(
    env: dict[str, str], server: FakeHTTPServer, kind: str, name: str
) -> None:
    package_release(VERSION).publish_github(server)
    install = ["install", "--no-login", "--target", TARGET, "--version", VERSION]
    assert cli(env, *install).returncode == 0
    release = Path(env["CODEX_HOME"]) / f"packages/standalone/releases/{VERSION}-{TARGET}"
    (release / name).unlink()
    HOSTILE[kind](release / name)
    for args in (install, ["list"], ["use", VERSION], ["prune", "--dry-run"]):
        run = cli(env, *args)
        assert run.returncode in (0, 5), (args, run.stderr)
        assert "Traceback" not in run.stderr


@pytest.mark.parametrize("kind", list(HOSTILE))
@pytest.mark.parametrize("name", ["release.json", "archive", "channels/latest"])
def test_a_mirror_tree_file_that_is_no_regular_file_hangs_no_sync(
    env: dict[str, str], server: FakeHTTPServer, tmp_path: Path, kind: str, name: str
) -> None:
    package_release(VERSION).publish_github(server)
    out = tmp_path / "mirror"
    sync = ["mirror", "sync", "--version", VERSION, "--output", str(out), "--target", TARGET]
    assert cli(env, *sync).returncode == 0
    rdir = out / "releases" / VERSION
    victim = {
        "release.json": rdir / "release.json",
        "archive": next(rdir.glob("*.tar.*")),
        "channels/latest": out / "channels" / "latest",
    }[name]
    if name == "archive":  # the earlier archive is kept only if the other target is synced
        doc = json.loads((rdir / "release.json").read_text())
        assert doc["assets"]
    victim.unlink()
    HOSTILE[kind](victim)
    run = cli(env, *sync)
    assert run.returncode == 0, run.stderr
    assert json.loads((rdir / "release.json").read_text())["tag_name"] == f"rust-v{VERSION}"
    assert shutil.disk_usage(out)  # the tree is still there to serve
