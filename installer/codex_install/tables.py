"""Aligned tables for people (``list``, ``ls-remote``), pure: a header and padded columns that
fit the terminal on a TTY, plain padded rows without a header or colour elsewhere. Both
commands show releases through :func:`releases`, so their columns read and narrow alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from codex_install.errors import printable

_BOLD, _GREEN, _RESET = "\x1b[1m", "\x1b[32m", "\x1b[0m"
GAP = "  "
UNKNOWN = "-"  # an empty cell would shift the columns a script splits on


@dataclass(frozen=True)
class Style:
    tty: bool
    color: bool = False
    width: int | None = None  # the terminal's columns; None: no limit


@dataclass(frozen=True)
class Column:
    title: str
    drop_order: int = 0  # 0: never dropped; columns with higher numbers go first when narrow


def render(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    style: Style,
    *,
    highlight: Sequence[bool] = (),
) -> list[str]:
    """The table's lines. On a TTY: a header, and the droppable columns left out (highest
    ``drop_order`` first) until every line fits ``width - 1``; ``highlight`` rows in colour."""
    cells = _cells(columns, rows)
    keep = _fitting(columns, cells, style)
    widths = _widths(columns, cells, keep, header=style.tty)
    lines = [_header(columns, keep, widths, style)] if style.tty else []
    body = [_line([row[i] for i in keep], widths) for row in cells]
    lines += [_paint(line, _GREEN, _lit(n, highlight, style)) for n, line in enumerate(body)]
    return _fit(lines, style)


def _cells(columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> list[list[str]]:
    # "-" for an unknown cell keeps the columns a script splits on; the last may stay empty.
    last = len(columns) - 1
    return [
        [printable(c, 80) or ("" if i == last else UNKNOWN) for i, c in enumerate(row)]
        for row in rows
    ]


def _fitting(columns: Sequence[Column], cells: Sequence[Sequence[str]], style: Style) -> list[int]:
    """The columns kept: on a TTY of known width, the droppable ones left out (highest
    ``drop_order`` first) until every line fits ``width - 1``."""
    keep = list(range(len(columns)))
    if not (style.tty and style.width):
        return keep
    while _width(columns, cells, keep, header=True) > style.width - 1:
        droppable = [i for i in keep if columns[i].drop_order]
        if not droppable:
            break
        keep.remove(max(droppable, key=lambda i: columns[i].drop_order))
    return keep


def _header(columns: Sequence[Column], keep: list[int], widths: list[int], style: Style) -> str:
    return _paint(_line([columns[i].title for i in keep], widths), _BOLD, style.color)


def _lit(n: int, highlight: Sequence[bool], style: Style) -> bool:
    return style.color and n < len(highlight) and highlight[n]


def _paint(line: str, colour: str, on: bool) -> str:
    return f"{colour}{line}{_RESET}" if on else line


def _fit(lines: list[str], style: Style) -> list[str]:
    if style.tty and style.width:
        return [_cut(line, style.width - 1) for line in lines]
    return lines


def _widths(
    columns: Sequence[Column], cells: Sequence[Sequence[str]], keep: list[int], *, header: bool
) -> list[int]:
    return [
        max([len(columns[i].title) if header else 0, *(len(r[i]) for r in cells)]) for i in keep
    ]


def _width(
    columns: Sequence[Column], cells: Sequence[Sequence[str]], keep: list[int], *, header: bool
) -> int:
    widths = _widths(columns, cells, keep, header=header)
    return sum(widths) + len(GAP) * max(len(widths) - 1, 0)


def _line(values: Sequence[str], widths: Sequence[int]) -> str:
    return GAP.join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()


def _cut(line: str, width: int) -> str:
    """Cut a line that still does not fit (only colour codes are not counted)."""
    visible = line.replace(_BOLD, "").replace(_GREEN, "").replace(_RESET, "")
    if len(visible) <= width:
        return line
    return visible[: max(width - 1, 0)] + "…"


@dataclass(frozen=True)
class Release:
    """One row of a release table; ``None`` is shown as unknown."""

    version: str
    date: str | None
    size: int | None
    source: str | None
    status: str  # "current", "installed" or ""
    target: str | None = None


def releases(
    rows: Sequence[Release], style: Style, *, date_title: str, targets: bool = False
) -> list[str]:
    """Releases in the given order: version, channel, a date (``date_title`` says which), size,
    source, the target if ``targets``, status; the current one highlighted."""
    columns = [
        Column("VERSION"),
        Column("CHANNEL", drop_order=2),
        Column(date_title, drop_order=3),
        Column("SIZE", drop_order=4),
        Column("SOURCE", drop_order=5),
        *([Column("TARGET", drop_order=6)] if targets else []),  # one a machine, as a rule
        Column("STATUS"),
    ]
    cells = [
        [
            r.version,
            channel(r.version),
            r.date or "",
            human_size(r.size),
            r.source or "",
            *([r.target or ""] if targets else []),
            r.status,
        ]
        for r in rows
    ]
    return render(columns, cells, style, highlight=[r.status == "current" for r in rows])


def human_size(n: int | None) -> str:
    if n is None:
        return UNKNOWN
    return f"{n / 1e6:.0f} MB" if n >= 10e6 else f"{n / 1e6:.1f} MB"


def channel(version: str) -> str:
    """stable, alpha or beta (SPEC §3: a version with ``-`` is a prerelease)."""
    return version.split("-", 1)[1].split(".", 1)[0] if "-" in version else "stable"
