"""Whether a person can answer a prompt: the TTY checks and the one reading of boolean
environment flags such as ``CODEX_NON_INTERACTIVE`` (SPEC §6, §10).

On the ``codex-launch`` hot path, so stdlib-light: only ``os`` and ``sys``, no ``typing`` at
runtime.
"""

from __future__ import annotations

import os
import sys

# Not `typing.TYPE_CHECKING`: importing typing costs milliseconds on every launch, and mypy
# treats any constant of this name the same way.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    IsattyFn = Callable[[int], bool]

NON_INTERACTIVE_VAR = "CODEX_NON_INTERACTIVE"
# SPEC and README document `CODEX_NON_INTERACTIVE=1`; "true"/"yes" are the spellings the
# launcher and the sign-in have always accepted as well. Anything else (unset, "", "0", "no")
# is false.
TRUE_VALUES = frozenset({"1", "true", "yes"})


def env_flag(env: Mapping[str, str], name: str) -> bool:
    """A boolean environment flag: true for ``1``, ``true`` or ``yes`` (any case, padded)."""
    return env.get(name, "").strip().lower() in TRUE_VALUES


def non_interactive_forced(env: Mapping[str, str]) -> bool:
    """``CODEX_NON_INTERACTIVE`` is set true (as CI images set it): never prompt, even on a TTY."""
    return env_flag(env, NON_INTERACTIVE_VAR)


def is_interactive(env: Mapping[str, str], isatty: IsattyFn = os.isatty) -> bool:
    """A person can answer a prompt: stdin and stderr are terminals and the environment does not
    say otherwise (``CODEX_NON_INTERACTIVE``)."""
    if non_interactive_forced(env):
        return False
    try:
        return isatty(0) and isatty(2)
    except OSError:
        return False


def stream_isatty(fd: int) -> bool:
    """isatty of the Python stream (not the raw fd), so a replaced sys.stdin — click's test
    runner, a pipe handed in by a caller — decides, and is the one a prompt would read."""
    stream = {0: sys.stdin, 1: sys.stdout, 2: sys.stderr}.get(fd)
    return stream is not None and stream.isatty()
