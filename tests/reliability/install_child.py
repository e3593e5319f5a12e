"""Runs ``codex-install`` exactly as the console script does, instrumented for the kill tests.

Environment:
  RELIABILITY_MARKS=FILE    append "<phase>|<seconds since start>|<time.monotonic()>" as each
                            install phase begins (the last field orders marks across processes)
                            (O_APPEND, unbuffered: a SIGKILL loses nothing already written)
  RELIABILITY_WIDEN=SECS    sleep after promote and after the ``current`` swap, so that random
                            kills also land between those steps (the install is the same, slower)
  RELIABILITY_CRASH_AT=N    die with os._exit(137) — no cleanup, no finally, like SIGKILL — just
                            before the N-th filesystem mutation under RELIABILITY_ROOT
  RELIABILITY_ROOT=DIR      only mutations under DIR (or relative to a directory fd) count
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from typing import Any

T0 = time.monotonic()
_marks_fd: int | None = None
_mutations = 0

MUTATORS = (
    "rename",
    "replace",
    "symlink",
    "link",
    "unlink",
    "mkdir",
    "rmdir",
    "open",
    "write",
    "fchmod",
    "chmod",
    "utime",
)


def mark(phase: str) -> None:
    if _marks_fd is not None:
        now = time.monotonic()
        os.write(_marks_fd, f"{phase}|{now - T0:.4f}|{now:.6f}\n".encode())


def _phase(name: str, fn: Callable[..., Any], after: float = 0.0) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        mark(name)
        result = fn(*args, **kwargs)
        if after:
            time.sleep(after)
        return result

    return wrapper


def _crashing(name: str, fn: Callable[..., Any], crash_at: int, root: str) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        global _mutations
        under_root = (
            any(isinstance(a, (str, os.PathLike)) and os.fspath(a).startswith(root) for a in args)
            or kwargs.get("dir_fd") is not None
        )
        creating = name != "open" or (len(args) > 1 and args[1] & os.O_CREAT)
        if name == "write":
            under_root = creating = args[0] not in (0, 1, 2, _marks_fd)
        if under_root and creating:
            _mutations += 1
            if _mutations == crash_at:
                mark(f"crash {name}")
                os._exit(137)
        return fn(*args, **kwargs)

    return wrapper


def instrument(marks: str | None, widen: float = 0.0, crash_at: int = 0, root: str = "") -> None:
    """Patch the install phases (marks, widening) and, with ``crash_at``, the os mutators."""
    global _marks_fd
    if marks:
        _marks_fd = os.open(marks, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    from codex_install import install, layout

    install.choose = _phase("resolve", install.choose)
    install._Run.stream = _phase("download", install._Run.stream)
    install.smoke_test = _phase("smoke", install.smoke_test)
    layout.promote = _phase("promote", layout.promote, widen)
    layout.activate = _phase("swap", layout.activate, widen)
    layout.link_bin = _phase("link", layout.link_bin)
    if crash_at:
        for name in MUTATORS:
            setattr(os, name, _crashing(name, getattr(os, name), crash_at, root))
    mark("start")


def main() -> None:
    instrument(
        os.environ.get("RELIABILITY_MARKS"),
        float(os.environ.get("RELIABILITY_WIDEN", "0")),
        int(os.environ.get("RELIABILITY_CRASH_AT", "0")),
        os.environ.get("RELIABILITY_ROOT", ""),
    )
    from codex_install import cli

    try:
        cli.main()
    finally:
        mark("done")


if __name__ == "__main__":
    sys.exit(main())
