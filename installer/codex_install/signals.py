"""Termination signals unwind like Ctrl-C: SIGTERM (a supervisor, ``docker stop``, a CI
runner's cancel) and SIGHUP (a closed terminal) raise :class:`Terminated` in the main thread,
a ``KeyboardInterrupt``, so every cleanup that runs for Ctrl-C runs for them too (the staging
dir removed, the lock released), and the process exits 128 + the signal's number."""

from __future__ import annotations

import signal
from types import FrameType

TERMINATING = (signal.SIGTERM, signal.SIGHUP)


class Terminated(KeyboardInterrupt):
    """A termination signal, raised where the main thread was."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _terminate(signum: int, _frame: FrameType | None) -> None:
    # A second signal while the first unwinds must not cut the cleanup short.
    for sig in TERMINATING:
        signal.signal(sig, signal.SIG_IGN)
    raise Terminated(signum)


def unwind_on_termination() -> None:
    """Install the handlers (main thread only). A signal already ignored (``nohup``) stays
    ignored."""
    for sig in TERMINATING:
        if signal.getsignal(sig) is signal.SIG_DFL:
            signal.signal(sig, _terminate)


def exit_code(interrupt: KeyboardInterrupt) -> int:
    """128 + the signal's number: 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP."""
    return 128 + (interrupt.signum if isinstance(interrupt, Terminated) else signal.SIGINT)
