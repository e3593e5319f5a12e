"""Small atomic filesystem operations used by the installer."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from codex_install.errors import FilesystemError


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


def atomic_write_text(path: Path, text: str, mode: int = 0o644) -> None:
    """Temp file in the same directory (``.<name>.*.tmp``, mode 0600 from its first byte), fsync,
    chmod to ``mode``, rename, fsync the directory: readers see the old file or the new one."""
    import tempfile

    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise FilesystemError(f"cannot write {path}: {err.strerror}") from err
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as err:
        _unlink_quietly(tmp)
        raise FilesystemError(f"cannot write {path}: {err.strerror or err}") from err
    except BaseException:
        _unlink_quietly(tmp)
        raise
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
    import shutil

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
