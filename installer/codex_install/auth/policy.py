"""Pure refresh policy of SPEC §9: staleness, error codes, permanent/transient classification,
user messages and backoff. No I/O here; every function is table-tested."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone

from codex_install.auth.quick import STALE_BEFORE_EXPIRY_S as STALE_BEFORE_EXPIRY_S

# One Retry-After parser for every network step; re-exported here for the refresh policy.
from codex_install.http.retry import parse_retry_after as parse_retry_after

STALE_WITHOUT_EXP_S = 8 * 24 * 3600

# Codes that mean the refresh token itself is dead: retrying can only repeat the failure (and
# for `refresh_token_reused`, looks like token theft to the server).
PERMANENT_CODES = frozenset(
    {"refresh_token_expired", "refresh_token_reused", "refresh_token_invalidated", "invalid_grant"}
)

SIGN_IN_AGAIN = "Sign in again with `codex login`."
_REASONS = {
    "refresh_token_expired": "your refresh token has expired",
    "refresh_token_reused": "your refresh token was already used",
    "refresh_token_invalidated": "your refresh token was revoked",
}

# A forced refresh (`refreshToken: true` on a valid token) is coalesced: when this snapshot was
# refreshed, or a refresh of it was tried, this recently, that result is adopted instead.
FORCED_REFRESH_COALESCE_S = 30.0

BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 5 * 60.0
# A Retry-After beyond this is treated as a misconfigured server, not a reason to stay silent
# for days.
RETRY_AFTER_MAX_S = 3600.0

# What a machine-readable code looks like. Anything else in an error body (a sentence, an echoed
# token) is "unknown": the code reaches messages and the ledger, never untrusted text.
_CODE_RE = re.compile(r"[a-z0-9_.-]{1,64}")


def is_stale(access_exp: float | None, last_refresh: float | None, now: float) -> bool:
    """A token needs a refresh when its ``exp`` is within 5 minutes or, with no ``exp``,
    when the last refresh is older than 8 days (or unknown)."""
    if access_exp is not None:
        return access_exp - now <= STALE_BEFORE_EXPIRY_S
    if last_refresh is None:
        return True
    return now - last_refresh >= STALE_WITHOUT_EXP_S


def within_coalesce_window(then: float | None, now: float) -> bool:
    """``then`` (a refresh or a refresh attempt) is recent enough to stand in for a forced
    refresh now. A time in the future (clock skew) only counts within the same window."""
    return then is not None and abs(now - then) < FORCED_REFRESH_COALESCE_S


def parse_timestamp(value: object) -> float | None:
    """An RFC 3339 timestamp (``last_refresh``) as epoch seconds, or None."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Codex writes nanoseconds; fromisoformat takes at most microseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def format_timestamp(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, tz=timezone.utc)
        .isoformat(timespec="microseconds")
        .replace("+00:00", "Z")
    )


def error_code(body: object) -> str | None:
    """``error.code`` if ``error`` is an object, else ``error`` if a string, else top-level
    ``code``; lower-cased. Anything that does not look like a code is dropped, because the
    code ends up in messages and the body is untrusted."""
    if not isinstance(body, Mapping):
        return None
    err = body.get("error")
    raw: object
    if isinstance(err, Mapping):
        raw = err.get("code")
    elif isinstance(err, str):
        raw = err
    else:
        raw = body.get("code")
    if not isinstance(raw, str):
        return None
    code = raw.strip().lower()
    return code if _CODE_RE.fullmatch(code) else None


def is_permanent(status: int | None, code: str | None) -> bool:
    """401 (any body) or a dead-refresh-token code at any status. Network errors (no status),
    5xx, 429 and other 4xx are transient."""
    return status == 401 or (code is not None and code in PERMANENT_CODES)


def permanent_message(code: str | None) -> str:
    reason = _REASONS.get(code or "")
    if reason is None:
        return f"Your access token could not be refreshed. {SIGN_IN_AGAIN}"
    return f"Your access token could not be refreshed because {reason}. {SIGN_IN_AGAIN}"


def transient_message(what: str) -> str:
    return f"could not refresh the ChatGPT access token ({what}); will retry later"


def backoff_delay(attempt: int, retry_after: float | None, jitter: float) -> float:
    """Seconds to wait after the ``attempt``-th consecutive transient failure (1-based).

    Exponential from 1 s, capped at 5 minutes, with "equal jitter" (half fixed, half random,
    ``jitter`` in [0, 1)) so concurrent processes spread out but never retry sooner than half
    the step. A server's Retry-After is a floor.
    """
    step = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2.0 ** min(max(0, attempt - 1), 30))
    delay = step / 2 + (step / 2) * min(max(jitter, 0.0), 1.0)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(retry_after, RETRY_AFTER_MAX_S))
    return delay
