"""Human output on stderr: quiet/verbose levels, a width-aware progress line on a TTY, and
heartbeat lines for long downloads everywhere else (CI logs)."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from codex_install.errors import printable, scrub

Update = Callable[[int, int | None], None]
REDRAW_S = 0.1  # the TTY line is redrawn at most this often
HEARTBEAT_S = 10.0  # off a TTY, a line this often while a download runs
LONG_DOWNLOAD = 8 << 20  # off a TTY, a download this big (or of unknown size) announces itself
_BAR_MAX = 30
# A remote name (asset, file, account) is cut to this many characters in a line of output.
NAME_MAX = 120
_GREEN, _DIM, _RESET = "\x1b[32m", "\x1b[2m", "\x1b[0m"


def shown(text: str, limit: int = NAME_MAX) -> str:
    """A remote string as output shows it: control characters escaped (a newline in it cannot
    start a line of its own), cut to ``limit`` characters."""
    return printable(text, limit)


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f}"


def _eta(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    return (
        f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        if seconds >= 3600
        else (f"{seconds // 60}:{seconds % 60:02d}")
    )


def _fit(name: str, width: int) -> str:
    if len(name) <= width:
        return name
    return name[: max(width - 1, 0)] + "…" if width > 0 else ""


def progress_line(
    name: str, done: int, total: int | None, elapsed: float, width: int, *, color: bool = False
) -> str:
    """One progress line that fits in ``width - 1`` columns (the last one would wrap on some
    terminals): the file name (cut short first), a bar, bytes, speed and ETA."""
    tail = _numbers(done, total, elapsed)
    room = width - 1 - 2 - len(tail) - 1  # indent, the tail and the space before it
    bar_width = min(_BAR_MAX, room - min(len(name), 24) - 1) if total else 0
    bar_width = bar_width if bar_width >= 6 else 0
    label = _fit(name, room - (bar_width + 1 if bar_width else 0))
    bar, colored = _bar(done, total, bar_width)
    line = (f"  {label} {bar}{tail}" if label else f"  {bar}{tail}")[: max(width - 1, 0)]
    # Colour only adds escape codes around the bar: it never changes what fits.
    return line.replace(bar, colored, 1) if color and bar and bar in line else line


def _numbers(done: int, total: int | None, elapsed: float) -> str:
    rate = done / elapsed if elapsed > 0 else 0.0
    size = f"{_mb(done)}/{_mb(total)} MB" if total else f"{_mb(done)} MB"
    parts = [size, f"{rate / 1e6:.1f} MB/s"]
    if total and rate > 0 and done < total:
        parts.append(f"ETA {_eta((total - done) / rate)}")
    return "  ".join(parts)


def _bar(done: int, total: int | None, width: int) -> tuple[str, str]:
    """The bar plain and coloured ("" when there is no room or no total)."""
    if not width or not total:
        return "", ""
    filled = min(width - 2, (width - 2) * done // total)
    full, empty = "#" * filled, "-" * (width - 2 - filled)
    return f"[{full}{empty}] ", f"[{_GREEN}{full}{_DIM}{empty}{_RESET}] "


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
    columns: Callable[[], int] = lambda: shutil.get_terminal_size((80, 24)).columns
    # config.Settings.no_color: NO_COLOR set (https://no-color.org) or TERM=dumb.
    no_color: bool = False
    # A progress line without its newline yet (a download of unknown size never says it is
    # done): the next message ends it first instead of overwriting it.
    _open_line: bool = field(default=False, init=False, repr=False)

    @property
    def tty(self) -> bool:
        try:
            return self.stream.isatty()
        except (AttributeError, ValueError):
            return False

    def info(self, message: str) -> None:
        if not self.quiet:
            self._print(message)

    def warn(self, message: str) -> None:
        self._print(f"warning: {message}")

    def debug(self, message: str) -> None:
        if self.verbose:
            self._print(message)

    def _print(self, message: str) -> None:
        """One line per message, escaped whatever it carries: callers print several lines
        with several calls."""
        if self._open_line:
            self._open_line = False
            self.stream.write("\n")
        line = printable(scrub(message))
        print(line, file=self.stream, flush=True)

    def progress(self, name: str, total: int | None) -> Update | None:
        """A progress callback: the redrawn line on a TTY, heartbeat lines elsewhere."""
        if self.quiet:
            return None
        name = shown(name)
        return self._bar(name) if self.tty else self._heartbeat(name, total)

    def _bar(self, name: str) -> Update:
        start = last = self.clock()
        color = not self.no_color
        first = True

        def update(done: int, total: int | None) -> None:
            nonlocal last, first
            now = self.clock()
            final = total is not None and done >= total
            if now - last < REDRAW_S and not final and not first:
                return
            last, first = now, False
            width = self.columns()
            line = progress_line(name, done, total, now - start, width, color=color)
            self.stream.write(f"\r{line}\x1b[K" if color else f"\r{line.ljust(width - 1)}")
            self._open_line = not final
            if final:
                self.stream.write("\n")
            self.stream.flush()

        return update

    def _heartbeat(self, name: str, total: int | None) -> Update:
        start = last = self.clock()
        announced = False

        def update(done: int, total_now: int | None) -> None:
            nonlocal last, announced
            if not announced:
                announced = True
                # The source may not say the size (npm's packument does not): the response's
                # Content-Length, passed with the first bytes, does.
                known = total or total_now
                if known is None or known >= LONG_DOWNLOAD:
                    size = f"{_mb(known)} MB" if known else "size unknown"
                    self.info(f"downloading {name} ({size})")
            now = self.clock()
            if now - last < HEARTBEAT_S:
                return
            last = now
            of = f"/{_mb(total_now)} MB ({100 * done / total_now:.0f}%)" if total_now else " MB"
            rate = done / max(now - start, 1e-6) / 1e6
            self.info(f"  {name}: {_mb(done)}{of} at {rate:.1f} MB/s")

        return update


# The npm fallback is news, not a failure: one warning line, said once a run.
_FALLBACK = "falling back to the npm registry"


def notices(reporter: Reporter) -> Callable[[str], None]:
    """A command's notices: the npm fallback's as one ``warning:`` line, once a run; the
    rest as they are."""
    said: set[str] = set()

    def notice(message: str) -> None:
        if _FALLBACK not in message:
            reporter.info(message)
        elif _FALLBACK not in said:
            said.add(_FALLBACK)
            reporter.warn(message)

    return notice
