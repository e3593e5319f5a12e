"""Atomic filesystem operations and the exclusive file lock: every write the installer, the
mirror and the auth manager make goes through here."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from codex_install.errors import CodexInstallError, FilesystemError


def atomic_symlink(target: str | os.PathLike[str], link: Path) -> None:
    """Point ``link`` at ``target`` in one rename: readers see the old or the new link."""
    tmp = link.with_name(f".{link.name}.tmp-{os.urandom(4).hex()}")
    try:
        os.symlink(target, tmp)
        os.replace(tmp, link)
    except OSError as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise FilesystemError(f"cannot update {link}: {err.strerror or err}") from err


def atomic_write_text(path: Path, text: str, mode: int = 0o644, *, durable: bool = True) -> None:
    """Temp file in the same directory (``.<name>.*.tmp``, mode 0600 from its first byte), fsync,
    chmod to ``mode``, rename, fsync the directory: readers see the old file or the new one.
    ``durable=False`` (a cache its reader validates) skips both fsyncs: still never a torn file
    to a reader, but a crash may leave an empty one."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise FilesystemError(f"cannot write {path}: {err.strerror}") from err
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as err:
        _unlink_quietly(tmp)
        raise FilesystemError(f"cannot write {path}: {err.strerror or err}") from err
    except BaseException:
        _unlink_quietly(tmp)
        raise
    if durable:
        fsync_dir(path.parent)


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def remove_tree(path: Path) -> None:
    """Rename out of sight first, then delete: a kill mid-delete leaves no half tree visible."""
    if not path.exists() and not path.is_symlink():
        return
    if path.is_symlink() or path.is_file():
        path.unlink()
        return
    trash = path.with_name(f".trash-{os.urandom(6).hex()}")
    try:
        os.rename(path, trash)
    except OSError as err:
        raise FilesystemError(f"cannot remove {path}: {err.strerror}") from err
    shutil.rmtree(trash, ignore_errors=True)


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace_dir(staging: Path, final: Path, *, what: str = "move into") -> None:
    """Rename the complete ``staging`` tree to ``final``; an existing ``final`` is moved aside
    first and put back if the rename fails, then deleted. Readers see the old tree or the new."""
    old: Path | None = None
    try:
        if final.exists():
            old = final.with_name(f".trash-{final.name}-{os.urandom(4).hex()}")
            os.rename(final, old)
        os.rename(staging, final)
    except OSError as err:
        if old is not None and not final.exists():
            os.rename(old, final)
        raise FilesystemError(f"cannot {what} {final}: {err.strerror}") from err
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def make_dirs(path: Path, mode: int = 0o755) -> None:
    """``mkdir -p`` in which every directory made gets ``mode`` (less the umask): Path.mkdir
    gives the parents it makes the umask's default, so a loose umask (002) would leave a
    group-writable CODEX_HOME or packages/ that the next install refuses to trust."""
    missing = []
    while not path.is_dir():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    for where in reversed(missing):
        try:
            where.mkdir(mode=mode)
        except FileExistsError:
            if not where.is_dir():
                raise


def _busy(path: Path, timeout: float) -> CodexInstallError:
    return FilesystemError(f"another codex-install holds {path} (waited {timeout:.0f}s)")


@contextmanager
def file_lock(
    path: Path,
    *,
    timeout: float = 600.0,
    on_wait: Callable[[], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    poll: float = 0.05,
    mode: int = 0o644,
    busy: Callable[[Path, float], CodexInstallError] = _busy,
) -> Iterator[None]:
    """Hold ``path`` exclusively; ``busy(path, timeout)`` is raised when waiting runs out.

    The lock file is never opened through a symlink: one planted there would make us create or
    lock a file of the link's choosing. Its directory (and each parent made) is made 0755
    whatever the umask, so the tree passes its own trust check next time (layout.check_trusted).
    """
    try:
        make_dirs(path.parent)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, mode)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise FilesystemError(
                f"lock file {path} is a symlink; refusing to follow it",
                hint=f"remove it (`rm {path}`) if you did not make it",
            ) from err
        raise FilesystemError(f"cannot open lock file {path}: {err.strerror}") from err
    try:
        deadline = clock() + timeout
        waited = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waited and on_wait is not None:
                    on_wait()
                waited = True
                if clock() >= deadline:
                    raise busy(path, timeout) from None
                sleep(poll)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


class UnreadableFileError(CodexInstallError):
    """A configuration or state file that is no regular file, or larger than its cap. Callers
    translate it into their own class (a usage error for a setting, signed out for auth.json)."""


def read_regular(path: Path, cap: int, *, what: str = "file") -> bytes | None:
    """The bytes of ``path`` (None when it does not exist), read without blocking and never past
    ``cap``: a FIFO, a device or a symlink to ``/dev/zero`` is refused, not waited on or read
    for ever."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise UnreadableFileError(f"cannot read {what} {path}: {err.strerror or err}") from err
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnreadableFileError(f"{what} {path} is not a regular file; refusing to read it")
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, min(1 << 20, cap + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > cap:
                raise UnreadableFileError(
                    f"{what} {path} is larger than {cap} bytes; refusing to read it"
                )
        return b"".join(chunks)
    except OSError as err:
        raise UnreadableFileError(f"cannot read {what} {path}: {err.strerror or err}") from err
    finally:
        os.close(fd)


def ours_alone(path: Path, *, uid: int | None = None) -> bool:
    """Whether ``path`` and the directory holding it are owned by ``uid`` (our effective uid)
    and writable by nobody else: the rule for every file read back in place of a network answer
    or a setting (caches, state). A symlink is followed for the file, never trusted if it is
    another's."""
    me = os.geteuid() if uid is None else uid
    try:
        for where in (path.parent, path):
            st = os.stat(where)
            if st.st_uid != me or st.st_mode & 0o022:
                return False
        link = os.lstat(path)
    except OSError:
        return False
    return link.st_uid == me


def sha256_file(path: Path) -> tuple[int, str]:
    """Size and SHA-256 of the regular file at ``path``, streamed: opened without blocking and
    without following a final symlink, so a FIFO or a link planted there is an OSError, never a
    hang or another file's digest."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOFOLLOW)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, f"{path} is not a regular file")
        digest = hashlib.sha256()
        size = 0
        buffer = bytearray(1 << 20)
        view = memoryview(buffer)
        while n := os.readv(fd, [buffer]):
            digest.update(view[:n])
            size += n
        return size, digest.hexdigest()
    finally:
        os.close(fd)
