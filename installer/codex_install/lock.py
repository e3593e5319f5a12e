"""An exclusive, blocking file lock (flock): released by the OS if the holder dies."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from codex_install.errors import CodexInstallError, FilesystemError


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
    """Hold ``path`` exclusively; ``busy(path, timeout)`` is raised when waiting runs out."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, mode)
    except OSError as err:
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
