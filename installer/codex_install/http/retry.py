"""The retry policy and the one retry loop every network step goes through.

Light on purpose (no httpx, no random, no email at import time): ``auth.policy`` imports
:func:`parse_retry_after` from here, and it is on the launcher's hot path.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

# Not `typing.TYPE_CHECKING`: importing typing costs milliseconds on every codex-launch, and
# mypy treats any constant of this name the same way.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeVar

    T = TypeVar("T")

# 404/410 are answers, not faults: a missing release stays missing, so retrying only delays the
# error. 408/425/429 and 5xx are the server asking us to come back later.
RETRYABLE_HTTP_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None, jitter: float = 0.5) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (attempt counts from 1)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        import random  # keeps codex-launch's hot path light (see the module docstring)

        backoff = min(self.base_delay * 2.0 ** (attempt - 1), self.max_delay)
        return backoff * (1 - jitter + jitter * random.random())


NO_RETRY = RetryPolicy(attempts=1)


class Retryable(Exception):
    """Raised by an attempt to ask for another try: ``reason`` says what went wrong (for the
    message when the tries run out), ``retry_after`` is the server's Retry-After, if any;
    ``answered``: the server said something (the loop keeps whether any attempt was)."""

    def __init__(
        self,
        reason: str,
        retry_after: float | None = None,
        *,
        answered: bool = True,
        failure: object = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.answered = answered
        self.failure = failure  # what went wrong, classified (http.classify.Failure)


def retrying(
    attempt: Callable[[int], T],
    *,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    exhausted: Callable[[int, Retryable], BaseException],
    connect_attempts: int | None = None,
) -> T:
    """``attempt(n)`` for n = 1, 2, … until it returns or raises anything but :class:`Retryable`.

    Between tries it sleeps as the policy says; after ``policy.attempts`` tries — or
    ``connect_attempts`` while no try was ever answered (a host that never answered rarely comes
    back within seconds, and ``--source auto`` falls back sooner) — it raises
    ``exhausted(tries, last_retryable)``, whose ``answered`` then says whether any try was.
    """
    number = 0
    answered = False
    while True:
        number += 1
        try:
            return attempt(number)
        except Retryable as err:
            answered = answered or err.answered
            limit = policy.attempts
            if connect_attempts is not None and not answered:
                limit = min(limit, connect_attempts)
            if number >= limit:
                err.answered = answered
                raise exhausted(number, err) from err
            sleep(policy.delay(number, err.retry_after))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as delta-seconds or an HTTP date, in seconds from ``now``; None if absent or
    unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():  # "¹".isdigit() is true, float("¹") fails
        return float(text)
    import email.utils  # keeps codex-launch's hot path light (see the module docstring)

    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, float(when.timestamp()) - (time.time() if now is None else now))


def reset_note(reset: str | None, now: float) -> str:
    """ "; resets at HH:MM:SS UTC (in ~N min)" for an ``X-RateLimit-Reset`` epoch, or ""."""
    reset = reset or ""
    if not (reset.isascii() and reset.isdigit()):  # "¹".isdigit() is true, int("¹") fails
        return ""
    try:
        at = datetime.fromtimestamp(int(reset), tz=timezone.utc)
    except (OverflowError, OSError, ValueError):  # a reset time no clock can show
        return ""
    minutes = max(0, int((int(reset) - now) // 60) + 1)
    return f"; resets at {at:%H:%M:%S} UTC (in ~{minutes} min)"
