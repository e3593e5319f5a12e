"""The retry policy, the one retry loop, Retry-After."""

from __future__ import annotations

from codex_install.http.retry import RetryPolicy, parse_retry_after


def test_retry_policy():
    policy = RetryPolicy(base_delay=1, max_delay=8, max_retry_after=30)
    assert policy.delay(1, jitter=0) == 1
    assert policy.delay(3, jitter=0) == 4
    assert policy.delay(10, jitter=0) == 8
    assert policy.delay(1, retry_after=100) == 30
    assert 0.5 <= policy.delay(1) <= 1
    assert parse_retry_after("7") == 7
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 10) == 10
    assert parse_retry_after("soon") is None
