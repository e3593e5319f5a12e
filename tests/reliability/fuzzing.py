"""Shared hypothesis strategies and the one property every parser must have: it accepts its
input or raises our own error type with a message — never any other exception."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st

from codex_install.errors import CodexInstallError

T = TypeVar("T")

# Modest counts: the whole non-slow reliability suite has to stay fast in CI.
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOWER = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text as hostile input really comes: lone surrogates (legal as JSON \ud800 escapes), controls,
# NULs, non-ASCII digits, very long runs.
hostile_text = st.text(
    st.characters(codec=None, exclude_categories=()) | st.sampled_from("\x00\n\r\t ./-:@٣"),
    max_size=40,
)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | hostile_text
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=12,
)
# Nesting deeper than any parser's recursion limit: a classic way to crash a JSON reader.
deep_json = st.integers(min_value=2_000, max_value=200_000).map(lambda n: "[" * n + "]" * n)


def dumps(value: Any) -> str:
    """JSON text for ``value``; lone surrogates survive as escapes, as a hostile file has them."""
    return json.dumps(value, ensure_ascii=True, allow_nan=True)


def accepts_or_refuses(func: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """Call ``func``: a result, or a CodexInstallError with a message. Anything else escapes
    (and fails the test with its traceback)."""
    try:
        result = func(*args, **kwargs)
    except CodexInstallError as err:
        assert str(err).strip(), f"{type(err).__name__} without a message"
        event(f"refused: {type(err).__name__}")
        return None
    event("accepted")
    return result
