"""Creates admitted entries under the staging root without ever following a symlink: every
directory is opened ``O_NOFOLLOW`` from the root down, files are created ``O_EXCL``."""

from __future__ import annotations

import contextlib
import errno
import os
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

from codex_install.archive.spec import Planned, resource_exhausted, unsafe
from codex_install.errors import FilesystemError

OPEN_DIRS = 16  # directory fds held at once, whatever the number of directories
_MODE_MASK = 0o755
# setuid, setgid, sticky and group/other write never survive extraction


class Writer:
    """Writes planned entries below ``root``. Directory fds are kept in a small cache (the
    most recently used :data:`OPEN_DIRS`, plus the root); a directory not in it is reached again
    from its nearest cached ancestor, one ``O_NOFOLLOW`` open per component, in a loop."""

    def __init__(self, root: Path) -> None:
        try:
            self._root = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as e:
            raise FilesystemError(f"cannot open staging directory {root}: {e.strerror}") from e
        self._dirs: OrderedDict[tuple[str, ...], int] = OrderedDict()
        self._made: set[tuple[str, ...]] = set()  # made (or found) once: later only opened

    def close(self) -> None:
        for fd in self._dirs.values():
            os.close(fd)
        self._dirs.clear()
        if self._root >= 0:
            os.close(self._root)
            self._root = -1

    def dir_fd(self, path: tuple[str, ...], mode: int = 0o755) -> int:
        """An fd of the directory ``path`` (made if missing), valid until the next call."""
        if not path:
            return self._root
        fd = self._dirs.get(path)
        if fd is not None:
            self._dirs.move_to_end(path)
            return fd
        depth = len(path) - 1
        while depth > 0 and path[:depth] not in self._dirs:
            depth -= 1
        if depth:
            self._dirs.move_to_end(path[:depth])  # a busy parent stays cached
        parent = self._dirs[path[:depth]] if depth else self._root
        for i in range(depth, len(path)):
            here = path[: i + 1]
            with _os_errors(here):
                if here not in self._made:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(path[i], mode, dir_fd=parent)
                    self._made.add(here)
                flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
                parent = os.open(path[i], flags, dir_fd=parent)
            # Cached at once (the LRU end), so the next step's parent is never the one evicted.
            self._dirs[here] = parent
            if len(self._dirs) > OPEN_DIRS:
                os.close(self._dirs.popitem(last=False)[1])
        return parent

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
        # Both fds must be live at once: the source's is duplicated before the second lookup
        # may evict it from the cache.
        src_dir = os.dup(self.dir_fd(source[:-1]))
        try:
            dst_dir = self.dir_fd(plan.path[:-1])
            with _os_errors(plan.path):
                os.link(
                    source[-1],
                    plan.path[-1],
                    src_dir_fd=src_dir,
                    dst_dir_fd=dst_dir,
                    follow_symlinks=False,
                )
        finally:
            os.close(src_dir)


@contextlib.contextmanager
def _os_errors(path: tuple[str, ...]) -> Iterator[None]:
    """Translates OSErrors while writing one entry into our error tree."""
    name = "/".join(path)
    try:
        yield
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR):
            raise unsafe(name, "path goes through a symlink or file") from e
        exhausted = resource_exhausted(e)
        if exhausted is not None:
            raise exhausted from e
        raise FilesystemError(
            f"cannot write {name!r} in the staging directory: {e.strerror}"
        ) from e
