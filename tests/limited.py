"""Run ``codex-install`` as its own process under resource limits and measure it: what the
security tests use to show a hostile input is refused within a time and memory budget."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

INSTALLER = Path(__file__).resolve().parents[1] / "installer"
# getrusage's ru_maxrss is in KiB on Linux, in bytes on macOS.
_MAXRSS_PER_MIB = 1 << 20 if sys.platform == "darwin" else 1 << 10


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mib: float


def run_cli(
    args: Sequence[str],
    env: Mapping[str, str],
    *,
    address_space: int | None = None,
    open_files: int | None = None,
    timeout: float = 60.0,
    cwd: Path | None = None,
) -> Run:
    """``python -m codex_install ARGS`` with RLIMIT_AS / RLIMIT_NOFILE set in the child: its
    exit status, output, wall time and its own peak RSS (from wait4, this child alone)."""

    def limit() -> None:
        if address_space is not None:
            resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
        if open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        child = subprocess.Popen(
            [sys.executable, "-m", "codex_install", *args],
            env={**env, "PYTHONPATH": str(INSTALLER)},
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            preexec_fn=limit,
        )
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                os.kill(child.pid, signal.SIGKILL)
                os.wait4(child.pid, 0)
                raise subprocess.TimeoutExpired(child.args, timeout)
            time.sleep(0.01)
        seconds = time.monotonic() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            child.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            seconds,
            usage.ru_maxrss / _MAXRSS_PER_MIB,
        )
