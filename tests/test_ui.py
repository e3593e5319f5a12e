"""ui.Reporter: quiet/verbose levels on stderr, a progress line only on a TTY."""

from __future__ import annotations

import io

import pytest

from codex_install.ui import Reporter, outcome_line


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_levels() -> None:
    out = io.StringIO()
    Reporter(stream=out).info("shown")
    Reporter(quiet=True, stream=out).info("hidden")
    Reporter(quiet=True, stream=out).warn("always")
    Reporter(stream=out).debug("hidden")
    Reporter(verbose=True, stream=out).debug("detail")
    assert out.getvalue().splitlines() == ["shown", "warning: always", "detail"]


def test_no_progress_line_off_a_terminal_or_when_quiet() -> None:
    assert Reporter(stream=io.StringIO()).progress("codex.tar.zst", 10) is None
    assert Reporter(quiet=True, stream=_Tty()).progress("codex.tar.zst", 10) is None


def test_the_progress_line_redraws_in_place_and_ends_with_a_newline() -> None:
    tty = _Tty()
    now = [0.0]
    update = Reporter(stream=tty, clock=lambda: now[0]).progress("codex.tar.zst", 2_000_000)
    assert update is not None
    now[0] = 1.0
    update(1_000_000, 2_000_000)
    now[0] = 1.05  # too soon to redraw
    update(1_500_000, 2_000_000)
    now[0] = 2.0
    update(2_000_000, 2_000_000)
    lines = tty.getvalue()
    assert lines.count("\r") == 2 and lines.endswith("\n")
    assert " 50.0% " in lines and "100.0%" in lines


@pytest.mark.parametrize(
    ("previous", "version", "reused", "newer", "want"),
    [
        (None, "0.169.0", False, False, "installed codex 0.169.0 (T, d) in 1.5s"),
        ("0.169.0", "0.171.0", False, True, "upgraded codex 0.169.0 → 0.171.0 (T, d) in 1.5s"),
        ("0.171.0", "0.169.0", False, False, "downgraded codex 0.171.0 → 0.169.0 (T, d) in 1.5s"),
        ("0.169.0", "0.169.0", False, False, "reinstalled codex 0.169.0 (T, d) in 1.5s"),
        ("0.169.0", "0.169.0", True, False, "codex 0.169.0 (T) is already installed; nothing"),
        ("0.171.0", "0.169.0", True, False, "switched to codex 0.169.0 (T, already installed"),
        (None, "0.169.0", True, False, "switched to codex 0.169.0"),
    ],
)
def test_outcome_line_says_what_happened(previous, version, reused, newer, want):
    line = outcome_line(
        version, previous, reused=reused, newer=newer, target="T", detail="d", seconds=1.5
    )
    assert line.startswith(want)
