"""The nearest names for a typo ("did you mean github?"), and what a version prefix stands for
(pure)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable

from codex_install.errors import NetworkError, NotFoundError
from codex_install.versions import version_key

_PREFIX_RE = re.compile(r"^(?:rust-v|v)?(\d+\.\d+)$", re.ASCII)


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


def version_prefix(text: str | None) -> str | None:
    """``0.171`` (also ``v0.171``, ``rust-v0.171``) → ``0.171``; None for anything else."""
    m = _PREFIX_RE.match((text or "").strip())
    return m.group(1) if m else None


def settle_prefix(
    prefix: str, installed: Iterable[str], offered: Callable[[], list[str]] | None
) -> str:
    """The version a prefix stands for: the newest stable ``prefix.*`` that ``offered()`` lists
    (None: offline, so the newest installed one). Raises when there is none, naming the
    nearest that exist."""
    if offered is None:
        found = newest_with_prefix(prefix, installed)
        if found is None:
            raise NetworkError(
                f"no {prefix}.x is installed, and --offline forbids asking which exist"
            )
        return found
    known = offered()
    found = newest_with_prefix(prefix, known)
    if found is None:
        near = nearest_versions(prefix + ".0", known)
        raise NotFoundError(
            f"no codex {prefix}.x release exists",
            hint=f"the nearest: {', '.join(near) or 'none'}; all: `codex-install ls-remote`",
        )
    return found
