"""Human output on stderr: quiet/verbose levels and a progress line only on a TTY."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO


def outcome_line(
    version: str,
    previous: str | None,
    *,
    reused: bool,
    newer: bool,
    target: str,
    detail: str,
    seconds: float,
) -> str:
    """What an install did, as the user would say it (``previous``: what ``current`` ran)."""
    if reused:
        if previous == version:
            return f"codex {version} ({target}) is already installed; nothing to download"
        return f"switched to codex {version} ({target}, already installed; nothing to download)"
    took = f"({target}, {detail}) in {seconds:.1f}s"
    if previous is None:
        return f"installed codex {version} {took}"
    if previous == version:
        return f"reinstalled codex {version} {took}"
    verb = "upgraded" if newer else "downgraded"
    return f"{verb} codex {previous} → {version} {took}"


@dataclass
class Reporter:
    quiet: bool = False
    verbose: bool = False
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    clock: Callable[[], float] = time.monotonic

    @property
    def tty(self) -> bool:
        try:
            return self.stream.isatty()
        except (AttributeError, ValueError):
            return False

    def info(self, message: str) -> None:
        if not self.quiet:
            print(message, file=self.stream, flush=True)

    def warn(self, message: str) -> None:
        print(f"warning: {message}", file=self.stream, flush=True)

    def debug(self, message: str) -> None:
        if self.verbose:
            print(message, file=self.stream, flush=True)

    def progress(self, name: str, total: int | None) -> Callable[[int, int | None], None] | None:
        if self.quiet or not self.tty:
            return None
        last = [0.0]
        start = self.clock()

        def update(done: int, total_now: int | None) -> None:
            now = self.clock()
            final = total_now is not None and done >= total_now
            if now - last[0] < 0.1 and not final:
                return
            last[0] = now
            rate = done / max(now - start, 1e-6) / 1e6
            if total_now:
                pct = 100 * done / total_now
                line = f"\r  {name}: {done / 1e6:7.1f}/{total_now / 1e6:.1f} MB {pct:5.1f}% "
            else:
                line = f"\r  {name}: {done / 1e6:7.1f} MB "
            self.stream.write(f"{line}{rate:6.1f} MB/s")
            if final:
                self.stream.write("\n")
            self.stream.flush()

        return update
