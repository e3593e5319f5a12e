"""A request's deadline over the phases no read loop of ours sees: connecting, and waiting for
the status line and headers (issue 13). A server that trickles its headers one byte a second
never trips a per-read timeout, so at the deadline a watchdog shuts down the request's sockets:
the blocked read returns at once, and the caller, seeing :attr:`Alarm.fired`, says the request
took too long. Both libraries use it: httpx (``http.deadline``, through httpcore's trace
extension) and requests (``http.requests_guard``).

Light on purpose (no httpx): the token refresh imports it.
"""

from __future__ import annotations

import contextlib
import contextvars
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType

# The request extension (httpx) a caller sets to a ``time.monotonic()`` deadline; requests
# without it get now + the client's timeout.
DEADLINE = "codex_install.deadline"
# How long after a silent socket's read timeout the alarm may fire: silence is that timeout's
# to report (a retry; for GitHub, a host that never answered), bytes that keep coming the alarm's.
SILENCE_GRACE_S = 0.25


class DeadlinePassed(Exception):
    """The request's deadline passed before its answer's headers were in."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no answer within {seconds:g} s")
        self.seconds = seconds


def shut(sock: socket.socket, fd: int | None = None) -> None:
    """End every blocked read on ``sock`` now. The base method on purpose: an SSL socket's own
    ``shutdown`` would drop its TLS state under the thread still reading it.

    ``fd`` is the descriptor ``sock`` had when it was watched: a plain socket being wrapped in
    TLS is detached (its handshake runs on the same descriptor under the new SSL socket), so
    the descriptor itself is shut down then, through a throwaway object that never closes it.
    """
    with contextlib.suppress(OSError):  # closed already, or never connected
        if sock.fileno() != -1 or fd is None:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
            return
        borrowed = socket.socket(fileno=fd)
        try:
            borrowed.shutdown(socket.SHUT_RDWR)
        finally:
            borrowed.detach()


class Alarm:
    """``with Alarm(deadline) as alarm:`` — every socket given to :meth:`watch` inside is shut
    down when ``deadline`` (a ``time.monotonic()`` time) passes before the block ends."""

    def __init__(self, deadline: float, seconds: float) -> None:
        self.deadline = deadline
        self.seconds = seconds  # the whole request's, for messages
        self.fired = False
        self._done = False
        self._sockets: list[tuple[socket.socket, int]] = []
        self._lock = threading.Lock()
        self._token: contextvars.Token[Alarm | None] | None = None

    def watch(self, sock: socket.socket) -> None:
        fd = sock.fileno()
        if fd == -1:
            return
        with self._lock:
            if self.fired:
                shut(sock)
            elif not self._done:
                self._sockets.append((sock, fd))

    def reading(self, read_timeout: object) -> None:
        """The request starts waiting for its answer now, each read bounded by
        ``read_timeout``: the alarm fires no earlier than that timeout would end a silent
        wait, so a server that says nothing gets the timeout's error, not the deadline's."""
        if not isinstance(read_timeout, (int, float)) or read_timeout <= 0:
            return
        later = time.monotonic() + read_timeout + SILENCE_GRACE_S
        with self._lock:
            if self._done or self.fired or later <= self.deadline:
                return
            self.deadline = later
        _WATCHDOG.arm(self)

    def fire(self) -> None:
        with self._lock:
            if self._done or self.fired or time.monotonic() < self.deadline:
                return  # done, or woken for a deadline since put off
            self.fired = True
            for sock, fd in self._sockets:
                shut(sock, fd)

    def settle(self) -> bool:
        """Stop watching now, and whether the alarm had fired: one step under the lock, so it
        cannot fire after an answer was judged in time (and cut off the socket its body is
        still to come on)."""
        with self._lock:
            self._done = True
            self._sockets.clear()
            return self.fired

    def passed(self) -> DeadlinePassed:
        return DeadlinePassed(self.seconds)

    def __enter__(self) -> Alarm:
        self._token = _CURRENT.set(self)
        _WATCHDOG.arm(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._lock:
            self._done = True
            self._sockets.clear()
        if self._token is not None:
            _CURRENT.reset(self._token)


_CURRENT: contextvars.ContextVar[Alarm | None] = contextvars.ContextVar(
    "codex_install_alarm", default=None
)


def current() -> Alarm | None:
    """The alarm of the request this thread is making, if any (for sockets made deep inside a
    library: requests' connections)."""
    return _CURRENT.get()


class _Watchdog:
    """One daemon thread for every alarm of the process, woken at the earliest deadline."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Alarm]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, alarm: Alarm) -> None:
        with self._cond:
            heapq.heappush(self._heap, (alarm.deadline, next(self._order), alarm))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="codex-install-watchdog", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while True:
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - self._clock()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)[2].fire()  # a no-op for an alarm already done


_WATCHDOG = _Watchdog()
