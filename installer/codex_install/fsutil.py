"""Small atomic filesystem operations used by the installer."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path

from codex_install.errors import FilesystemError


def atomic_symlink(target: str | os.PathLike[str], link: Path) -> None:
    """Point ``link`` at ``target`` in one rename: readers see the old or the new link."""
    tmp = link.with_name(f".{link.name}.tmp-{secrets.token_hex(4)}")
    try:
        os.symlink(target, tmp)
        os.replace(tmp, link)
    except OSError as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise FilesystemError(f"cannot update {link}: {err.strerror or err}") from err


def atomic_write_text(path: Path, text: str, mode: int = 0o644) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise FilesystemError(f"cannot write {path}: {err.strerror or err}") from err


def remove_tree(path: Path) -> None:
    """Rename out of sight first, then delete: a kill mid-delete leaves no half tree visible."""
    if not path.exists() and not path.is_symlink():
        return
    if path.is_symlink() or path.is_file():
        path.unlink()
        return
    trash = path.with_name(f".trash-{secrets.token_hex(6)}")
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
