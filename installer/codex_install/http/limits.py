"""How much of each kind of document we read into memory, and how long one request may take:
the one place these bounds are named, and the one loop that holds a body to them.

Light on purpose (no httpx): the launcher's token refresh imports it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

# Sizes seen in the wild, times ~100: openai/codex's release JSON is ~150 KiB, its packument
# (abbreviated) ~3 MiB, a SUMS file a few KiB, a token answer ~4 KiB.
RELEASE_JSON_CAP = 16 << 20
RELEASE_LIST_CAP = 32 << 20
SUMS_CAP = 1 << 20
PACKUMENT_CAP = 64 << 20
TOKEN_ANSWER_CAP = 1 << 20

# Every timeout, defined here once. A request's whole deadline (connect, headers, body);
# CODEX_INSTALL_TIMEOUT (read by config.Settings) replaces the metadata and download ones.
DEFAULT_DEADLINE_S = 30.0
DOWNLOAD_DEADLINE_S = 600.0  # a 100 MiB archive over a slow link
CONNECT_TIMEOUT_S = 5.0
REFRESH_CONNECT_S = 10.0  # the launcher's token refresh: in front of a user, once per hour
# GitHub, a mirror or a registry answers in well under a second: silence this long after
# connecting is a black hole (a firewall dropping packets), as good as unreachable.
FIRST_ANSWER_S = 5.0
# A host that never answered (DNS, refused, silent) gets this many tries: two decide, so
# ``--source auto`` reaches npm in about a second when GitHub is refused, 10 s when black-holed.
CONNECT_ATTEMPTS = 2
# curl's --speed-limit/--speed-time: a transfer slower than this over this window is stalled.
FLOOR_BYTES_PER_S = 1024
FLOOR_WINDOW_S = 30.0
TIMEOUT_ENV = "CODEX_INSTALL_TIMEOUT"


def describe_cap(cap: int) -> str:
    return f"{cap >> 20} MiB" if cap >= 1 << 20 and cap % (1 << 20) == 0 else f"{cap} bytes"


def too_large(what: str, url: str, cap: int) -> str:
    """The message for a body past its cap (``url`` already redacted by the caller)."""
    return f"{what} from {url} is larger than the {describe_cap(cap)} allowed; refusing it"


def timeout_from_env(value: str | None) -> float | None:
    """CODEX_INSTALL_TIMEOUT as seconds (> 0), None when unset; ValueError when unreadable."""
    if value is None or not value.strip():
        return None
    seconds = float(value)
    if not 0 < seconds < 1e6:
        raise ValueError(value)
    return seconds


def read_capped(
    chunks: Iterable[bytes],
    cap: int,
    *,
    over_cap: Callable[[], Exception],
    deadline: float | None = None,
    past_deadline: Callable[[], Exception] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> bytes:
    """The body joined, raising ``over_cap()`` as soon as it passes ``cap`` bytes and
    ``past_deadline()`` as soon as a chunk arrives after ``deadline`` (a ``clock`` time): a
    server that trickles cannot hold us past it by more than one read timeout."""
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > cap:
            raise over_cap()
        if deadline is not None and past_deadline is not None and clock() > deadline:
            raise past_deadline()
        parts.append(chunk)
    return b"".join(parts)
