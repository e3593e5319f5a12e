"""Creates admitted entries under the staging root without ever following a symlink: every
directory is opened ``O_NOFOLLOW`` from the root down, files are created ``O_EXCL``."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from codex_install.archive.spec import Planned, unsafe
from codex_install.errors import FilesystemError

_MODE_MASK = 0o755  # setuid, setgid, sticky and group/other write never survive extraction


class Writer:
    """Writes planned entries below ``root``; holds one open fd per directory it made."""

    def __init__(self, root: Path) -> None:
        try:
            self._root = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as e:
            raise FilesystemError(f"cannot open staging directory {root}: {e.strerror}") from e
        self._dirs: dict[tuple[str, ...], int] = {(): self._root}

    def close(self) -> None:
        for fd in self._dirs.values():
            os.close(fd)
        self._dirs.clear()

    def dir_fd(self, path: tuple[str, ...], mode: int = 0o755) -> int:
        fd = self._dirs.get(path)
        if fd is not None:
            return fd
        parent = self.dir_fd(path[:-1])
        with _os_errors(path):
            with contextlib.suppress(FileExistsError):
                os.mkdir(path[-1], mode, dir_fd=parent)
            flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
            fd = os.open(path[-1], flags, dir_fd=parent)
        self._dirs[path] = fd
        return fd

    def write_file(self, plan: Planned, mtime: int, data: Iterator[memoryview]) -> None:
        parent = self.dir_fd(plan.path[:-1])
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        with _os_errors(plan.path):
            fd = os.open(plan.path[-1], flags, 0o600, dir_fd=parent)
            try:
                for view in data:
                    while view:
                        view = view[os.write(fd, view) :]
                os.fchmod(fd, plan.mode & _MODE_MASK)
                os.utime(fd, (mtime, mtime))
            finally:
                os.close(fd)

    def make_dir(self, plan: Planned) -> None:
        fd = self.dir_fd(plan.path)
        with _os_errors(plan.path):
            os.fchmod(fd, (plan.mode & _MODE_MASK) | 0o700)  # we still write inside it

    def symlink(self, plan: Planned) -> None:
        parent = self.dir_fd(plan.path[:-1])
        with _os_errors(plan.path):
            os.symlink(plan.link, plan.path[-1], dir_fd=parent)

    def hardlink(self, plan: Planned) -> None:
        source = tuple(plan.link.split("/"))
        src_dir, dst_dir = self.dir_fd(source[:-1]), self.dir_fd(plan.path[:-1])
        with _os_errors(plan.path):
            os.link(
                source[-1],
                plan.path[-1],
                src_dir_fd=src_dir,
                dst_dir_fd=dst_dir,
                follow_symlinks=False,
            )


@contextlib.contextmanager
def _os_errors(path: tuple[str, ...]) -> Iterator[None]:
    """Translates OSErrors while writing one entry into our error tree."""
    name = "/".join(path)
    try:
        yield
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR):
            raise unsafe(name, "path goes through a symlink or file") from e
        raise FilesystemError(
            f"cannot write {name!r} in the staging directory: {e.strerror}"
        ) from e


def check_symlinks(root: Path, links: list[tuple[str, ...]]) -> None:
    """Links are checked one by one as they arrive; chains (a link through another link) can
    only be judged once the tree is complete."""
    real_root = os.path.realpath(root)
    for link in links:
        resolved = os.path.realpath(os.path.join(root, *link))
        if os.path.commonpath([real_root, resolved]) != real_root:
            name = "/".join(link)
            raise unsafe(name, "symlink chain resolves outside the archive")
