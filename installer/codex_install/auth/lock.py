"""The cross-process refresh lock: one flock'ed file in ``CODEX_HOME``.

Holding it across the token request is what makes refreshes single-flight: a second process
waits, then re-reads auth.json and adopts what the first one wrote instead of spending the
(already rotated) refresh token again.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from codex_install.errors import FilesystemError, RefreshError

LOCK_FILE = "codex-install-auth.lock"
_POLL_S = 0.01


@contextmanager
def refresh_lock(
    codex_home: Path,
    *,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> Iterator[None]:
    path = codex_home / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as err:
        raise FilesystemError(f"cannot open the auth lock {path}: {err.strerror}") from err
    try:
        deadline = monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if monotonic() >= deadline:
                    raise RefreshError(
                        "another process has been refreshing the ChatGPT token for too long",
                        permanent=False,
                    ) from None
                sleep(_POLL_S)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
