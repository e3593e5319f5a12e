"""A real server program the tests run as a child: on a free loopback port, its output in a
log file whose tail explains a failed start, stopped (terminate, then kill) however the test
ends. Used for docker-registry and Verdaccio."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def spawned(
    argv: Sequence[str], log: Path, *, cwd: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            list(argv), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd
        )
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def still_running(proc: subprocess.Popen[bytes], log: Path) -> None:
    """Raise with the end of its log if the program has exited (it will not start now)."""
    if proc.poll() is not None:
        raise RuntimeError(log.read_text(errors="replace")[-2000:])
