"""The retry policy, the one retry loop, Retry-After."""

from __future__ import annotations

import pytest

from codex_install.errors import NetworkError, NotFoundError
from codex_install.http.retry import NO_RETRY, Retryable, RetryPolicy, parse_retry_after, retrying


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


def test_the_loop_retries_until_an_attempt_returns():
    sleeps: list[float] = []
    seen: list[int] = []

    def attempt(number: int) -> str:
        seen.append(number)
        if number < 3:
            raise Retryable("HTTP 503", retry_after=2.0 if number == 1 else None)
        return "done"

    policy = RetryPolicy(attempts=5, base_delay=1, max_delay=8)
    result = retrying(attempt, policy=policy, sleep=sleeps.append, exhausted=_never)
    assert result == "done" and seen == [1, 2, 3]
    assert sleeps[0] == 2.0  # the server's Retry-After
    assert 0.5 <= sleeps[1] <= 2  # backoff for the second retry, with jitter


def test_the_loop_gives_up_after_the_policys_attempts_with_the_last_reason():
    sleeps: list[float] = []

    def attempt(number: int) -> None:
        raise Retryable(f"failure {number}")

    def exhausted(attempts: int, last: Retryable) -> Exception:
        return NetworkError(f"gave up after {attempts} attempts: {last.reason}")

    with pytest.raises(NetworkError, match="after 3 attempts: failure 3") as err:
        retrying(attempt, policy=RetryPolicy(attempts=3), sleep=sleeps.append, exhausted=exhausted)
    assert len(sleeps) == 2  # no sleep after the last attempt
    assert isinstance(err.value.__cause__, Retryable)


def test_anything_but_retryable_ends_the_loop_at_once():
    def attempt(_number: int) -> None:
        raise NotFoundError("a missing release stays missing")

    sleeps: list[float] = []
    with pytest.raises(NotFoundError):
        retrying(attempt, policy=RetryPolicy(attempts=5), sleep=sleeps.append, exhausted=_never)
    assert sleeps == []


def test_one_attempt_policy_never_sleeps():
    sleeps: list[float] = []
    with pytest.raises(NetworkError, match="1"):
        retrying(
            _always_retryable,
            policy=NO_RETRY,
            sleep=sleeps.append,
            exhausted=lambda n, _last: NetworkError(f"{n}"),
        )
    assert sleeps == []


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Thu, 15 Jan 2027 08:00:30 GMT", 30.0),
        ("Thu, 15 Jan 2027 08:00:30 -0000", 30.0),  # no zone: read as UTC, not local time
        ("Thu, 15 Jan 2027 07:59:00 GMT", 0.0),
        ("soon", None),
        ("¹", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after_table(value, seconds):
    assert parse_retry_after(value, now=1_800_000_000.0) == seconds


def _always_retryable(_number: int) -> None:
    raise Retryable("HTTP 500")


def _never(_attempts: int, _last: Retryable) -> Exception:
    raise AssertionError("the attempts ran out")
