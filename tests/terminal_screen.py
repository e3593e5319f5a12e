"""A command on a real pseudo-terminal of a given size, as the session's controlling terminal
(so ^C is a SIGINT from the terminal), and the screen it leaves: what a person would see."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

_CSI = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])")


class Terminal:
    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        columns: int = 80,
        rows: int = 24,
        cwd: Path | None = None,
    ) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.columns = columns
        self.proc = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**env, "COLUMNS": str(columns), "LINES": str(rows)},
            cwd=cwd,
            preexec_fn=_controlling_terminal,
        )
        os.close(slave)
        self.master = master
        self.raw = ""

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: every writer closed the terminal
            return False
        if not data:
            return False
        self.raw += data.decode(errors="replace")
        return True

    def expect(self, text: str, timeout: float = 30.0, *, times: int = 1) -> None:
        """Wait until ``text`` has been written ``times`` times (a prompt asked again)."""
        deadline = time.monotonic() + timeout
        while self.raw.count(text) < times:
            if time.monotonic() > deadline or (
                not self._read(0.1) and self.proc.poll() is not None
            ):
                raise AssertionError(f"{text!r} not seen; screen so far:\n{self.screen()}")

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def finish(self, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while self._read(0.1) and time.monotonic() < deadline:
            if self.proc.poll() is not None and not select.select([self.master], [], [], 0.05)[0]:
                break
        rc = self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        os.close(self.master)
        return rc

    def screen(self) -> list[str]:
        """The rows of the terminal, long lines wrapped at its width."""
        return render(self.raw, self.columns)

    def lines(self) -> list[str]:
        """The lines as written (a long one not wrapped): what a person reads, unwrapped."""
        return render(self.raw, 1 << 30)


def _controlling_terminal() -> None:
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def render(raw: str, columns: int) -> list[str]:
    """The lines a terminal of ``columns`` shows for ``raw``: carriage returns overwrite, erase
    to end of line erases, colours are dropped, and a line too long wraps as it would."""
    lines: list[list[str]] = [[]]
    col = 0
    i = 0
    while i < len(raw):
        ch = raw[i]
        m = _CSI.match(raw, i)
        if m:
            if m.group(2) == "K":
                del lines[-1][col:]
            i = m.end()
            continue
        i += 1
        if ch == "\r":
            col = 0
        elif ch == "\n":
            lines.append([])
            col = 0
        elif ch == "\b":
            col = max(col - 1, 0)
        elif ch >= " ":
            if col >= columns:  # the terminal wraps here
                lines.append([])
                col = 0
            line = lines[-1]
            line.extend(" " * (col - len(line)))
            if col < len(line):
                line[col] = ch
            else:
                line.append(ch)
            col += 1
    return ["".join(line).rstrip() for line in lines]
