"""Run ``codex-install`` as its own process under resource limits and measure it: what the
security tests use to show a hostile input is refused within a time and memory budget."""

from __future__ import annotations

import json
import os
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


# The child's peak RSS as Linux counts it starts at the size of the process that exec'd it (the
# pytest process, hundreds of MiB late in a run): so a small shim process starts the CLI and
# reports the grandchild's own rusage on its stdout's last line.
_SHIM = """
import json, os, resource, subprocess, sys
limits = json.loads(sys.argv[2])
def limit():
    for name, value in limits.items():
        resource.setrlimit(getattr(resource, name), (value, value))
child = subprocess.Popen(sys.argv[3:], preexec_fn=limit)
_, status, usage = os.wait4(child.pid, 0)
report = [os.waitstatus_to_exitcode(status), usage.ru_maxrss]
os.write(int(sys.argv[1]), json.dumps(report).encode())
"""


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
    limits = {
        name: value
        for name, value in (("RLIMIT_AS", address_space), ("RLIMIT_NOFILE", open_files))
        if value is not None
    }
    report_r, report_w = os.pipe()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        cli = [sys.executable, "-m", "codex_install", *args]
        shim = subprocess.Popen(
            [sys.executable, "-S", "-c", _SHIM, str(report_w), json.dumps(limits), *cli],
            env={**env, "PYTHONPATH": str(INSTALLER)},
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            pass_fds=(report_w,),
            start_new_session=True,
        )
        os.close(report_w)
        try:
            shim.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(shim.pid, signal.SIGKILL)
            shim.wait()
            raise
        finally:
            with os.fdopen(report_r, "rb") as report:
                reported = report.read()
        seconds = time.monotonic() - start
        returncode, max_rss = json.loads(reported)
        out.seek(0)
        err.seek(0)
        return Run(
            returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            seconds,
            max_rss / _MAXRSS_PER_MIB,
        )
