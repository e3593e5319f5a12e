"""Unwritable, missing or full places fail with exit 7 naming the path, before anything
changes: the previous install untouched, no partial files (SPEC §5, §6)."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from builders import TARGET
from codex_install import layout
from codex_install.archive import writer as archive
from codex_install.cli import cli
from codex_install.paths import Paths

from .flaky_server import FlakyServer
from .helpers import (
    assert_consistent,
    install_inprocess,
    leftovers,
    publish_github,
    release,
    snapshot,
    try_install,
)

OLD, NEW = "0.168.0", "0.169.0"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[FlakyServer, dict[str, bytes]]]:
    tars = {}
    with FlakyServer() as srv:
        for i, version in enumerate((OLD, NEW)):
            rel, tar = release(version, seed=i)
            publish_github(srv.add, srv.url, rel, latest=version == NEW)
            tars[version] = tar
        yield srv, tars


@contextmanager
def unwritable(path: Path) -> Iterator[None]:
    """Make an existing directory refuse new entries — for root too. Root ignores permission
    bits, so as root the directory gets the immutable attribute (chattr +i) instead."""
    if os.geteuid() != 0:
        mode = stat.S_IMODE(path.stat().st_mode)
        path.chmod(0o555)

        def undo() -> None:
            path.chmod(mode)
    else:
        if shutil.which("chattr") is None:
            pytest.skip("running as root without chattr: no way to make a directory unwritable")
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"running as root and chattr +i is refused here: {done.stderr.strip()}")

        def undo() -> None:
            subprocess.run(["chattr", "-i", str(path)], check=True)

    try:
        probe = path / ".probe"
        try:
            probe.touch()
        except OSError:
            pass
        else:
            probe.unlink()
            pytest.skip(f"{path} stays writable for this user")
        yield
    finally:
        undo()


def _paths(root: Path, *, home: Path | None = None, bin_dir: Path | None = None) -> Paths:
    return Paths(home or root / "codex-home", bin_dir or root / "bin", root / "cache")


def _state(paths: Paths) -> dict[str, object]:
    """Everything an install may touch, except the lock file (it exists to be opened)."""
    out: dict[str, object] = {}
    for where in (paths.codex_home, paths.bin_dir):
        if where.is_dir():
            out.update(
                {
                    f"{where.name}/{k}": v
                    for k, v in snapshot(where).items()
                    if not k.endswith("install.lock")
                }
            )
        else:
            out[where.name] = "missing" if not where.exists() else "file"
    return out


def _below_a_file(root: Path) -> Path:
    blocker = root / "a-file"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a directory\n")
    return blocker / "dir"


def _expect_7(server: FlakyServer, paths: Paths, named: Path, version: str = NEW) -> None:
    code, message = try_install(server.url, paths, version)
    assert code == 7, message
    assert str(named) in message, message


# --- fresh installs: nothing may be left behind ------------------------------------------


def test_bin_dir_below_a_file_is_exit_7_before_anything_is_installed(server, tmp_path):
    srv, _ = server
    bad = _below_a_file(tmp_path)
    paths = _paths(tmp_path, bin_dir=bad)
    _expect_7(srv, paths, bad)
    assert not paths.current.is_symlink()
    assert not paths.releases.exists() or list(paths.releases.iterdir()) == []


def test_unwritable_bin_dir_is_exit_7_before_anything_is_installed(server, tmp_path):
    srv, _ = server
    paths = _paths(tmp_path)
    paths.bin_dir.mkdir(parents=True)
    with unwritable(paths.bin_dir):
        _expect_7(srv, paths, paths.bin_dir)
    assert not paths.current.is_symlink()
    assert not paths.releases.exists() or list(paths.releases.iterdir()) == []
    assert list(paths.bin_dir.iterdir()) == []


def test_codex_home_below_a_file_is_exit_7(server, tmp_path):
    srv, _ = server
    bad = _below_a_file(tmp_path)
    paths = _paths(tmp_path, home=bad)
    _expect_7(srv, paths, bad)
    assert not paths.bin_dir.exists() or list(paths.bin_dir.iterdir()) == []


def test_unwritable_codex_home_is_exit_7(server, tmp_path):
    srv, _ = server
    paths = _paths(tmp_path)
    paths.codex_home.mkdir(parents=True)
    with unwritable(paths.codex_home):
        _expect_7(srv, paths, paths.codex_home)
    assert list(paths.codex_home.iterdir()) == []
    assert not paths.bin_dir.exists() or list(paths.bin_dir.iterdir()) == []


def test_cli_names_the_path_in_one_line_with_exit_7(server, tmp_path):
    srv, _ = server
    bad = _below_a_file(tmp_path)
    env = {
        "HOME": str(tmp_path),
        "PATH": os.environ.get("PATH", ""),
        "CODEX_HOME": str(tmp_path / "codex-home"),
        "CODEX_INSTALL_DIR": str(bad),
        "CODEX_INSTALL_CACHE_DIR": str(tmp_path / "cache"),
        "GITHUB_API_URL": srv.url,
        "CODEX_NON_INTERACTIVE": "1",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    result = CliRunner().invoke(
        cli,
        ["install", "--no-login", "--target", TARGET, "--version", NEW],
        obj={"env": env},
        catch_exceptions=False,
    )
    assert result.exit_code == 7
    lines = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(lines) == 1 and str(bad) in lines[0], result.stderr
    assert "Traceback" not in result.output


# --- upgrades: the previous install stays exactly as it was ------------------------------


def _installed(server: FlakyServer, root: Path) -> Paths:
    paths = _paths(root)
    assert install_inprocess(server.url, paths, OLD) == 0
    return paths


@pytest.mark.parametrize(
    "where",
    [
        pytest.param(lambda p: p.standalone, id="standalone-dir"),
        pytest.param(lambda p: p.releases, id="releases-dir"),
    ],
)
def test_unwritable_install_dirs_fail_an_upgrade_with_nothing_changed(
    server, tmp_path, where: Callable[[Paths], Path]
):
    srv, tars = server
    paths = _installed(srv, tmp_path)
    before = _state(paths)
    with unwritable(where(paths)):
        _expect_7(srv, paths, where(paths))
    assert _state(paths) == before
    assert assert_consistent(paths, tars) == OLD


def test_foreign_codex_in_bin_dir_fails_before_the_swap(server, tmp_path):
    """A codex that is not our link is only replaced with --force; finding it must not come
    after `current` already moved on."""
    srv, _ = server
    paths = _paths(tmp_path)
    paths.bin_dir.mkdir(parents=True)
    paths.bin_link.write_text("#!/bin/sh\necho someone else's codex\n")
    code, message = try_install(srv.url, paths, NEW)
    assert code == 7 and str(paths.bin_link) in message, message
    assert not paths.current.is_symlink()
    assert not paths.releases.exists() or list(paths.releases.iterdir()) == []


def test_upgrade_with_an_unwritable_bin_dir_that_needs_no_change_succeeds(server, tmp_path):
    """The link already points at `current/bin/codex`: nothing to write there, no failure."""
    srv, tars = server
    paths = _installed(srv, tmp_path)
    with unwritable(paths.bin_dir):
        assert install_inprocess(srv.url, paths, NEW) == 0
    assert assert_consistent(paths, tars) == NEW


def test_disk_full_while_extracting_is_exit_7_and_keeps_the_previous(server, tmp_path, monkeypatch):
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc/self/fd to tell our files from pytest's")
    srv, tars = server
    paths = _installed(srv, tmp_path)
    before = _state(paths)
    real_write = os.write
    root = str(tmp_path)

    def full_disk(fd: int, data: bytes) -> int:
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            target = ""
        if target.startswith(root) and ".staging-" in target:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(archive.os, "write", full_disk)
    code, message = try_install(srv.url, paths, NEW)
    monkeypatch.undo()
    assert code == 7, message
    assert "No space left on device" in message
    assert leftovers(paths) == []
    assert _state(paths) == before
    assert assert_consistent(paths, tars) == OLD


# --- trust: a tree someone else can write is not ours to run codex from --------------------


def _cli_env(server: FlakyServer, paths: Paths, root: Path) -> dict[str, str]:
    return {
        "HOME": str(root),
        "PATH": os.environ.get("PATH", ""),
        "CODEX_HOME": str(paths.codex_home),
        "CODEX_INSTALL_DIR": str(paths.bin_dir),
        "CODEX_INSTALL_CACHE_DIR": str(paths.cache_dir),
        "GITHUB_API_URL": server.url,
        "CODEX_NON_INTERACTIVE": "1",
        "NO_PROXY": "127.0.0.1,localhost",
    }


def _cli_install(env: dict[str, str], *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli,
        ["install", "--no-login", "--target", TARGET, "--version", NEW, *extra],
        obj={"env": env},
        catch_exceptions=False,
    )
    return result.exit_code, result.stderr


def _chown_away(path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a directory to another user needs root")
    os.chown(path, 4242, 4242)


def _group_writable(path: Path) -> None:
    """Mode 775 with a group that is not the user's own private one (else it is trusted)."""
    path.chmod(0o775)
    if os.geteuid() == 0:
        os.chown(path, -1, 4242)
    elif layout.user_private_group(path.stat().st_gid, os.geteuid()):
        pytest.skip("our only group here is our private one: 775 is trusted")


@pytest.mark.parametrize(
    ("where", "tamper", "says"),
    [
        pytest.param(lambda p: p.standalone, _chown_away, "owned by another user", id="owner"),
        pytest.param(
            lambda p: p.standalone,
            lambda d: d.chmod(0o777),
            "others (mode 777)",  # "group and others", or "others" when the group is ours alone
            id="standalone-777",
        ),
        pytest.param(lambda p: p.releases, _group_writable, "writable by group", id="releases-g+w"),
        # Above the tree: whoever may write CODEX_HOME or packages/ can rename the tree away.
        pytest.param(lambda p: p.codex_home, _group_writable, "writable by group", id="home-g+w"),
        pytest.param(
            lambda p: p.standalone.parent,
            lambda d: d.chmod(0o757),
            "writable by others",
            id="packages-o+w",
        ),
        pytest.param(lambda p: p.codex_home, _chown_away, "owned by another user", id="home-owner"),
        pytest.param(
            lambda p: p.release_dir(OLD, TARGET),
            lambda d: d.chmod(0o757),
            "writable by others",
            id="release-o+w",
        ),
    ],
)
def test_an_untrusted_install_tree_is_exit_7_unless_forced(
    server, tmp_path, where: Callable[[Paths], Path], tamper: Callable[[Path], None], says: str
):
    srv, tars = server
    paths = _installed(srv, tmp_path)
    tamper(where(paths))
    before = _state(paths)
    env = _cli_env(srv, paths, tmp_path)
    code, stderr = _cli_install(env)
    assert code == 7, stderr
    lines = stderr.strip().splitlines()
    assert str(where(paths)) in lines[0] and says in lines[0], stderr
    assert "--force" in stderr and "Traceback" not in stderr
    assert _state(paths) == before
    assert assert_consistent(paths, tars) == OLD
    code, stderr = _cli_install(env, "--force")
    assert code == 0, stderr
    assert assert_consistent(paths, tars) == NEW


def test_a_symlinked_install_lock_is_not_followed(server, tmp_path):
    srv, _ = server
    paths = _paths(tmp_path)
    paths.standalone.mkdir(parents=True)
    bait = tmp_path / "elsewhere" / "victim"
    bait.parent.mkdir()
    paths.lock_file.symlink_to(bait)
    code, stderr = _cli_install(_cli_env(srv, paths, tmp_path))
    assert code == 7, stderr
    assert f"lock file {paths.lock_file} is a symlink" in stderr
    assert not bait.exists()
    assert not paths.current.is_symlink()


def test_a_loose_umask_still_makes_a_tree_the_next_install_trusts(server, tmp_path):
    srv, tars = server
    paths = _paths(tmp_path)
    old = os.umask(0o002)
    try:
        assert install_inprocess(srv.url, paths, OLD) == 0
        assert install_inprocess(srv.url, paths, NEW) == 0
    finally:
        os.umask(old)
    made = (paths.codex_home, paths.standalone.parent, paths.standalone, paths.releases)
    for where in (*made, paths.release_dir(NEW, TARGET)):
        assert stat.S_IMODE(where.stat().st_mode) & 0o022 == 0, where
    assert assert_consistent(paths, tars) == NEW


def test_a_tree_writable_by_our_own_private_group_is_trusted(server, tmp_path):
    # umask 002 with user-private groups (Debian, Fedora): 775 dirs nobody else can write.
    srv, tars = server
    paths = _installed(srv, tmp_path)
    if not layout.user_private_group(os.getegid(), os.geteuid()):
        pytest.skip("this user has no private group here")
    for where in (paths.codex_home, paths.standalone.parent, paths.standalone, paths.releases):
        os.chown(where, -1, os.getegid())
        where.chmod(0o775)
    code, stderr = _cli_install(_cli_env(srv, paths, tmp_path))
    assert code == 0, stderr
    assert assert_consistent(paths, tars) == NEW


def test_a_sticky_world_writable_codex_home_is_trusted(server, tmp_path):
    # Mode 1777 (as /tmp): others may create entries there but never move ours away.
    srv, tars = server
    paths = _paths(tmp_path)
    paths.codex_home.mkdir()
    paths.codex_home.chmod(0o1777)
    assert install_inprocess(srv.url, paths, OLD) == 0
    code, stderr = _cli_install(_cli_env(srv, paths, tmp_path))
    assert code == 0, stderr
    assert assert_consistent(paths, tars) == NEW
