"""tables: aligned, newest first as given, columns dropped to fit a narrow terminal (pure)."""

from __future__ import annotations

import pytest

from codex_install.tables import Column, Release, Style, channel, human_size, releases, render

COLUMNS = (
    Column("VERSION"),
    Column("CHANNEL", drop_order=2),
    Column("DATE", drop_order=3),
    Column("SOURCE", drop_order=4),
    Column("STATUS"),
)
ROWS = [
    ["0.171.0", "stable", "2026-11-30", "github", ""],
    ["0.169.0", "stable", "", "github", "current"],
]


@pytest.mark.parametrize("width", [40, 80, 200])
def test_on_a_terminal_a_header_and_every_line_fits(width):
    lines = render(COLUMNS, ROWS, Style(tty=True, width=width))
    assert lines[0].split()[0] == "VERSION"
    assert all(len(line) <= width - 1 for line in lines)
    assert [line.split()[0] for line in lines[1:]] == ["0.171.0", "0.169.0"]
    assert lines[2].endswith("current")


def test_a_narrow_terminal_drops_the_least_needed_columns_first():
    (header, *_), wide = (
        render(COLUMNS, ROWS, Style(tty=True, width=30)),
        render(COLUMNS, ROWS, Style(tty=True, width=200)),
    )
    assert header.split() == ["VERSION", "CHANNEL", "STATUS"]
    assert wide[0].split() == ["VERSION", "CHANNEL", "DATE", "SOURCE", "STATUS"]


def test_off_a_terminal_no_header_no_colour_and_unknown_cells_keep_the_columns():
    lines = render(COLUMNS, ROWS, Style(tty=False), highlight=[False, True])
    assert lines == [
        "0.171.0  stable  2026-11-30  github",
        "0.169.0  stable  -           github  current",
    ]
    assert "\x1b" not in "".join(lines)


def test_colour_marks_the_header_and_the_highlighted_row_only_when_asked():
    plain = render(COLUMNS, ROWS, Style(tty=True, width=200), highlight=[False, True])
    colour = render(COLUMNS, ROWS, Style(tty=True, color=True, width=200), highlight=[False, True])
    assert "\x1b" not in "".join(plain)
    assert colour[0].startswith("\x1b[1m") and colour[2].startswith("\x1b[32m")
    assert "\x1b" not in colour[1]


def test_a_remote_string_in_a_cell_is_escaped():
    lines = render(COLUMNS, [["1.0.0\n2.0.0", "stable", "", "x\x1b[2J", ""]], Style(tty=False))
    assert len(lines) == 1 and "\x1b" not in lines[0]


@pytest.mark.parametrize(
    ("version", "want"),
    [("0.171.0", "stable"), ("0.172.0-alpha.2", "alpha"), ("0.172.0-beta.1", "beta")],
)
def test_channel(version, want):
    assert channel(version) == want


@pytest.mark.parametrize(
    ("size", "want"), [(None, "-"), (172_000_000, "172 MB"), (1_500_000, "1.5 MB")]
)
def test_human_size(size, want):
    assert human_size(size) == want


def test_list_and_ls_remote_share_one_release_table() -> None:
    rows = [
        Release(
            "0.171.0-alpha.2", None, 64_000_000, "github", "", target="x86_64-unknown-linux-musl"
        ),
        Release("0.169.0", "2026-11-30", None, None, "current", target="aarch64-apple-darwin"),
    ]
    wide = releases(
        rows, Style(tty=True, color=True, width=200), date_title="INSTALLED", targets=True
    )
    assert wide[0].split() == [
        "\x1b[1mVERSION",
        "CHANNEL",
        "INSTALLED",
        "SIZE",
        "SOURCE",
        "TARGET",
        "STATUS\x1b[0m",
    ]
    assert wide[1].split() == [
        "0.171.0-alpha.2",
        "alpha",
        "-",
        "64",
        "MB",
        "github",
        "x86_64-unknown-linux-musl",
    ]
    assert wide[2] == "\x1b[32m" + wide[2][5:-4] + "\x1b[0m"  # the current one in colour
    assert wide[2][5:-4].split() == [
        "0.169.0",
        "stable",
        "2026-11-30",
        "-",
        "-",
        "aarch64-apple-darwin",
        "current",
    ]
    # Narrow: the target goes first, then source, size, date, channel; version and status stay.
    narrow = releases(rows, Style(tty=True, width=50), date_title="INSTALLED", targets=True)
    assert narrow[0].split() == ["VERSION", "CHANNEL", "INSTALLED", "STATUS"]
    # ls-remote: no target column, its date is the release's.
    plain = releases(rows, Style(tty=False), date_title="DATE")
    assert [line.split() for line in plain] == [
        ["0.171.0-alpha.2", "alpha", "-", "64", "MB", "github"],
        ["0.169.0", "stable", "2026-11-30", "-", "-", "current"],
    ]
