"""Retry policy shared by every network step (pure: no I/O)."""

from __future__ import annotations

import email.utils
import random
import ssl
import time
from dataclasses import dataclass

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
        backoff = min(self.base_delay * 2.0 ** (attempt - 1), self.max_delay)
        return backoff * (1 - jitter + jitter * random.random())


NO_RETRY = RetryPolicy(attempts=1)

# A certificate no trust store accepts is most often a TLS-inspecting corporate proxy. Retrying
# cannot fix it, so it fails at once, saying what to set.
TLS_HINT = "behind a TLS-inspecting proxy, point SSL_CERT_FILE at its CA bundle"


def tls_verification_failed(err: BaseException) -> bool:
    """Whether ``err`` (or what it wraps) is a refused server certificate."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "¹".isdigit() is true, float("¹") fails
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return float(max(0.0, when.timestamp() - (time.time() if now is None else now)))
