"""fs: atomic writes, links and directory swaps, and the install lock."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from codex_install.errors import FilesystemError
from codex_install.fs import (
    atomic_symlink,
    atomic_write_text,
    file_lock,
    make_dirs,
    remove_tree,
    replace_dir,
)


def _tree(root: Path, name: str, text: str) -> Path:
    root.mkdir(parents=True)
    (root / name).write_text(text)
    return root


def test_atomic_write_text_sets_the_mode_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "auth.json"
    atomic_write_text(target, "{}", mode=0o600)
    assert target.read_text() == "{}"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["auth.json"]


def test_atomic_write_text_into_a_missing_directory_is_a_filesystem_error(tmp_path: Path) -> None:
    with pytest.raises(FilesystemError, match="cannot write"):
        atomic_write_text(tmp_path / "missing" / "f", "x")


def test_atomic_symlink_replaces_an_existing_link(tmp_path: Path) -> None:
    link = tmp_path / "current"
    atomic_symlink("a", link)
    atomic_symlink("b", link)
    assert os.readlink(link) == "b"
    assert [p.name for p in tmp_path.iterdir()] == ["current"]


def test_replace_dir_publishes_the_new_tree_and_drops_the_old(tmp_path: Path) -> None:
    final = _tree(tmp_path / "final", "old.txt", "old")
    staging = _tree(tmp_path / "staging", "new.txt", "new")
    replace_dir(staging, final)
    assert sorted(p.name for p in final.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["final"]


def test_replace_dir_puts_the_old_tree_back_when_the_rename_fails(tmp_path: Path) -> None:
    final = _tree(tmp_path / "final", "old.txt", "old")
    with pytest.raises(FilesystemError, match="cannot publish"):
        replace_dir(tmp_path / "no-such-staging", final, what="publish")
    assert (final / "old.txt").read_text() == "old"


def test_remove_tree_removes_files_links_and_trees(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "tree", "f", "x")
    link = tmp_path / "link"
    link.symlink_to(tree)
    remove_tree(link)
    assert tree.exists() and not link.is_symlink()
    remove_tree(tree)
    remove_tree(tmp_path / "absent")
    assert list(tmp_path.iterdir()) == []


def test_file_lock_waits_then_gives_up_with_a_filesystem_error(tmp_path: Path) -> None:
    lock = tmp_path / "install.lock"
    waited: list[bool] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    second = file_lock(
        lock, timeout=1.0, on_wait=lambda: waited.append(True), clock=lambda: now[0], sleep=sleep
    )
    with (
        file_lock(lock),
        pytest.raises(FilesystemError, match="another codex-install holds"),
        second,
    ):
        pass  # pragma: no cover - the lock is held above
    assert waited == [True]
    with file_lock(lock, timeout=0.0):  # released by the first holder
        pass


def test_file_lock_never_follows_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    lock = tmp_path / "standalone" / "install.lock"
    lock.parent.mkdir()
    lock.symlink_to(target)
    with (
        pytest.raises(FilesystemError, match="is a symlink; refusing to follow it"),
        file_lock(lock, timeout=0),
    ):
        pass
    assert not target.exists()


def test_file_lock_makes_its_directory_0755_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o002)
    try:
        with file_lock(tmp_path / "made" / "install.lock", timeout=0):
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "made").stat().st_mode) == 0o755


def test_make_dirs_gives_every_dir_it_makes_the_mode(tmp_path: Path) -> None:
    old = os.umask(0o002)
    try:
        make_dirs(tmp_path / "a" / "b" / "c")
        make_dirs(tmp_path / "a" / "b" / "c")  # there already: nothing to do
    finally:
        os.umask(old)
    for d in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert stat.S_IMODE(d.stat().st_mode) == 0o755, d
    (tmp_path / "file").write_text("")
    with pytest.raises(FileExistsError):
        make_dirs(tmp_path / "file")


def test_read_regular_refuses_fifo_device_and_oversize(tmp_path: Path) -> None:
    import os as _os

    from codex_install.fs import UnreadableFileError, read_regular

    assert read_regular(tmp_path / "missing", 10) is None
    small = tmp_path / "small"
    small.write_bytes(b"x" * 10)
    assert read_regular(small, 10) == b"x" * 10
    with pytest.raises(UnreadableFileError, match="larger than 9 bytes"):
        read_regular(small, 9)
    fifo = tmp_path / "fifo"
    _os.mkfifo(fifo)
    with pytest.raises(UnreadableFileError, match="not a regular file"):
        read_regular(fifo, 10)
    zero = tmp_path / "zero"
    zero.symlink_to("/dev/zero")
    with pytest.raises(UnreadableFileError, match="not a regular file"):
        read_regular(zero, 10)


def test_ours_alone_needs_private_file_and_dir(tmp_path: Path) -> None:
    import os as _os

    from codex_install.fs import ours_alone

    d = tmp_path / "d"
    d.mkdir(mode=0o700)
    f = d / "f"
    f.write_text("x")
    f.chmod(0o600)
    assert ours_alone(f)
    assert not ours_alone(f, uid=_os.geteuid() + 1)
    f.chmod(0o622)
    assert not ours_alone(f)
    f.chmod(0o600)
    d.chmod(0o777)
    assert not ours_alone(f)
