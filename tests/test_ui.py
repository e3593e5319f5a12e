"""ui.Reporter: quiet/verbose levels on stderr, a progress line only on a TTY."""

from __future__ import annotations

import io

import pytest

from codex_install.ui import Reporter, outcome_line, progress_line


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


def test_no_progress_when_quiet() -> None:
    assert Reporter(quiet=True, stream=_Tty()).progress("codex.tar.zst", 10) is None
    assert Reporter(quiet=True, stream=io.StringIO()).progress("codex.tar.zst", 10) is None


def _tty_reporter(tty: _Tty, now: list[float], width: int = 80, **kw: object) -> Reporter:
    return Reporter(stream=tty, clock=lambda: now[0], columns=lambda: width, **kw)  # type: ignore[arg-type]


def test_the_progress_line_redraws_in_place_and_ends_with_a_newline() -> None:
    tty, now = _Tty(), [0.0]
    update = _tty_reporter(tty, now, no_color=True).progress("codex.tar.zst", 2_000_000)
    assert update is not None
    now[0] = 1.0
    update(1_000_000, 2_000_000)
    now[0] = 1.05  # too soon to redraw
    update(1_500_000, 2_000_000)
    now[0] = 2.0
    update(2_000_000, 2_000_000)
    text = tty.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n")
    assert "1.0/2.0 MB  1.0 MB/s  ETA 0:01" in text and "2.0/2.0 MB" in text
    assert "\x1b[" not in text  # NO_COLOR
    assert all(len(line) <= 79 for line in text.replace("\r", "\n").splitlines())


LONG = "codex-package-aarch64-unknown-linux-musl.tar.zst"


@pytest.mark.parametrize("width", [20, 40, 60, 80, 120, 200])
@pytest.mark.parametrize(
    ("done", "total"),
    [(0, 90_000_000), (45_000_000, 90_000_000), (90_000_000, 90_000_000), (12_345_678, None)],
)
def test_the_progress_line_never_wraps(width: int, done: int, total: int | None) -> None:
    line = progress_line(LONG, done, total, 3.0, width)
    assert len(line) <= width - 1
    if width >= 80 and total:
        assert "[" in line and "MB/s" in line  # a bar, and the numbers
    colored = progress_line(LONG, done, total, 3.0, width, color=True)
    visible = colored.replace("\x1b[32m", "").replace("\x1b[2m", "").replace("\x1b[0m", "")
    assert visible == line


def test_a_long_name_is_cut_short_before_the_numbers_are() -> None:
    line = progress_line(LONG, 45_000_000, 90_000_000, 3.0, 80)
    assert "…" in line and line.endswith("45.0/90.0 MB  15.0 MB/s  ETA 0:03")


def test_a_download_of_unknown_size_has_its_line_ended_by_the_next_message() -> None:
    tty, now = _Tty(), [0.0]
    reporter = _tty_reporter(tty, now, no_color=True)
    update = reporter.progress("codex.tgz", None)
    assert update is not None
    update(5_000_000, None)
    reporter.info("installed codex 0.169.0")
    assert tty.getvalue().endswith("\ninstalled codex 0.169.0\n")
    assert tty.getvalue().count("\n") == 2


def test_colour_only_on_a_tty_without_no_color() -> None:
    tty, now = _Tty(), [0.0]
    update = _tty_reporter(tty, now, no_color=False).progress("codex.tar.zst", 100)
    assert update is not None
    update(100, 100)
    assert "\x1b[32m" in tty.getvalue()


def test_off_a_tty_a_long_download_announces_itself_and_beats_every_10_s() -> None:
    out, now = io.StringIO(), [0.0]
    update = Reporter(stream=out, clock=lambda: now[0]).progress(LONG, 90_000_000)
    assert update is not None
    for second in range(0, 25):
        now[0] = float(second)
        update(second * 3_600_000, 90_000_000)
    assert out.getvalue().splitlines() == [
        f"downloading {LONG} (90.0 MB)",
        f"  {LONG}: 36.0/90.0 MB (40%) at 3.6 MB/s",
        f"  {LONG}: 72.0/90.0 MB (80%) at 3.6 MB/s",
    ]
    assert "\r" not in out.getvalue()


def test_off_a_tty_a_download_of_unlisted_size_announces_the_size_the_server_sends() -> None:
    # npm's packument has no tarball size: the first bytes come with the Content-Length.
    out = io.StringIO()
    update = Reporter(stream=out).progress("codex-npm.tgz", None)
    assert update is not None
    update(65536, 90_000_000)
    assert out.getvalue().splitlines() == ["downloading codex-npm.tgz (90.0 MB)"]


def test_off_a_tty_a_small_download_that_ends_quickly_prints_nothing() -> None:
    out = io.StringIO()
    update = Reporter(stream=out).progress("small.tgz", 1000)
    assert update is not None
    update(1000, 1000)
    assert out.getvalue() == ""


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


def test_every_message_is_one_escaped_line() -> None:
    out = io.StringIO()
    Reporter(stream=out).info("note: x\ninstalled codex 9.9.9\x1b[2J")
    Reporter(stream=out).warn("y\r\u202e")
    assert out.getvalue() == "note: x\\ninstalled codex 9.9.9\\x1b[2J\nwarning: y\\r\\u202e\n"


def test_a_hostile_file_name_in_the_progress_line_is_escaped_and_cut() -> None:
    tty, now = _Tty(), [0.0]
    name = "x\ninstalled codex 9.9.9\x1b[2J" + "y" * 1000
    update = _tty_reporter(tty, now, width=2000, no_color=True).progress(name, 10)
    assert update is not None
    update(10, 10)
    (line,) = tty.getvalue().strip("\r\n").splitlines()
    assert line.startswith("  x\\ninstalled codex 9.9.9\\x1b[2Jyyy") and "\x1b" not in line
    assert len(line.rstrip()) < 200
    heartbeat = io.StringIO()
    update = Reporter(stream=heartbeat).progress(name, None)
    assert update is not None
    update(0, None)
    (said,) = heartbeat.getvalue().splitlines()
    assert said.startswith("downloading x\\ninstalled") and len(said) < 160
