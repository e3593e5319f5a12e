"""The cross-process refresh lock: one flock'ed file in ``CODEX_HOME``.

Holding it across the token request is what makes refreshes single-flight: a second process
waits, then re-reads auth.json and adopts what the first one wrote instead of spending the
(already rotated) refresh token again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from codex_install.errors import CodexInstallError, RefreshError
from codex_install.fs import file_lock

LOCK_FILE = "codex-install-auth.lock"
_POLL_S = 0.01


def _busy(_path: Path, _timeout: float) -> CodexInstallError:
    return RefreshError(
        "another process has been refreshing the ChatGPT token for too long", permanent=False
    )


@contextmanager
def refresh_lock(
    codex_home: Path,
    *,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> Iterator[None]:
    with file_lock(
        codex_home / LOCK_FILE,
        timeout=timeout,
        clock=monotonic,
        sleep=sleep,
        poll=_POLL_S,
        mode=0o600,
        busy=_busy,
    ):
        yield
