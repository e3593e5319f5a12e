"""The nearest names for a typo: "did you mean github?" (pure)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from codex_install.versions import version_key


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """``"; did you mean X?"`` for the closest choice, or "" when none is close."""
    close = difflib.get_close_matches(value.lower(), list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def nearest_versions(wanted: str, versions: Iterable[str], n: int = 3) -> list[str]:
    """The ``n`` existing versions closest to ``wanted``, newest first: same spelling first
    (0.17.0 → 0.170.0, 0.171.0), then the neighbours by number."""
    known = list(dict.fromkeys(versions))
    close = difflib.get_close_matches(wanted, known, n=n, cutoff=0.5)
    key = version_key(wanted)
    if len(close) < n and any(key):
        by_distance = sorted(known, key=lambda v: _distance(version_key(v), key))
        close += [v for v in by_distance if v not in close][: n - len(close)]
    return sorted(close, key=version_key, reverse=True)


def _distance(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(abs(x - y) for x, y in zip(a, b, strict=True))


def newest_with_prefix(prefix: str, versions: Iterable[str]) -> str | None:
    """The newest stable version ``prefix.*`` (``0.171`` → the newest 0.171.x), as mise
    resolves a prefix; None when there is none."""
    matches = [v for v in versions if v.startswith(prefix + ".") and "-" not in v]
    return max(matches, key=version_key) if matches else None
