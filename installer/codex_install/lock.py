"""An exclusive, blocking file lock (flock): released by the OS if the holder dies."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from codex_install.errors import FilesystemError


@contextmanager
def file_lock(
    path: Path,
    *,
    timeout: float = 600.0,
    on_wait: Callable[[], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as err:
        raise FilesystemError(f"cannot create lock file {path}: {err.strerror}") from err
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
                    raise FilesystemError(
                        f"another codex-install holds {path} (waited {timeout:.0f}s)"
                    ) from None
                sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
