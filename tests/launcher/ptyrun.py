"""Run a command on a pseudo-terminal so that its stdin/stdout/stderr are TTYs, and talk to it."""

from __future__ import annotations

import os
import select
import subprocess
import time
from collections.abc import Mapping, Sequence


class PtyProcess:
    def __init__(self, argv: Sequence[str], env: Mapping[str, str]) -> None:
        master, slave = os.openpty()
        self.proc = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=dict(env),
            start_new_session=True,
        )
        os.close(slave)
        self.master = master
        self.output = ""

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.master, 4096)
        except OSError:  # EIO: every writer closed the terminal
            return False
        if not data:
            return False
        self.output += data.decode(errors="replace")
        return True

    def expect(self, text: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if time.monotonic() > deadline or (
                not self._read(0.1) and self.proc.poll() is not None
            ):
                raise AssertionError(f"{text!r} not seen; output so far:\n{self.output}")

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def finish(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while self._read(0.1) and time.monotonic() < deadline:
            if self.proc.poll() is not None and not select.select([self.master], [], [], 0.05)[0]:
                break
        rc = self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        os.close(self.master)
        return rc
