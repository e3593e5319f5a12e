from __future__ import annotations

import pytest

from codex_install.auth import policy

NOW = 1_800_000_000.0
DAY = 24 * 3600.0


@pytest.mark.parametrize(
    ("exp", "last_refresh", "stale"),
    [
        (NOW + 3600, None, False),
        (NOW + 301, None, False),
        (NOW + 300, None, True),
        (NOW - 10, None, True),
        (NOW + 3600, NOW - 30 * DAY, False),  # exp wins over last_refresh
        (None, NOW - 7 * DAY, False),
        (None, NOW - 8 * DAY, True),
        (None, None, True),
    ],
)
def test_staleness(exp: float | None, last_refresh: float | None, stale: bool) -> None:
    assert policy.is_stale(exp, last_refresh, NOW) is stale


@pytest.mark.parametrize(
    ("text", "epoch"),
    [
        ("2026-11-20T10:00:00Z", 1_795_168_800.0),
        ("2026-11-20T10:00:00.123456789Z", 1_795_168_800.123456),
        ("2026-11-20T11:00:00+01:00", 1_795_168_800.0),
        ("2026-11-20T10:00:00", 1_795_168_800.0),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_timestamp(text: object, epoch: float | None) -> None:
    parsed = policy.parse_timestamp(text)
    assert parsed == pytest.approx(epoch) if epoch is not None else parsed is None


def test_format_timestamp_round_trips() -> None:
    assert policy.parse_timestamp(policy.format_timestamp(NOW + 0.25)) == NOW + 0.25


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"error": {"code": "refresh_token_reused", "message": "x"}}, "refresh_token_reused"),
        ({"error": "invalid_grant", "code": "ignored"}, "invalid_grant"),
        ({"code": "REFRESH_TOKEN_EXPIRED"}, "refresh_token_expired"),
        ({"error": {"message": "no code"}, "code": "top"}, None),
        ({"error": None, "code": "top_level"}, "top_level"),
        ({"error": 5}, None),
        ({"error": "has spaces and a token eyJabc"}, None),
        ({}, None),
        ("not an object", None),
        (None, None),
    ],
)
def test_error_code(body: object, code: str | None) -> None:
    assert policy.error_code(body) == code


@pytest.mark.parametrize(
    ("status", "code", "permanent"),
    [
        (401, None, True),
        (401, "server_error", True),
        (400, "refresh_token_expired", True),
        (400, "refresh_token_reused", True),
        (400, "refresh_token_invalidated", True),
        (400, "invalid_grant", True),
        (500, "invalid_grant", True),
        (400, None, False),
        (403, "forbidden", False),
        (429, None, False),
        (500, None, False),
        (503, "refresh_token_maybe", False),
        (None, None, False),
    ],
)
def test_is_permanent(status: int | None, code: str | None, permanent: bool) -> None:
    assert policy.is_permanent(status, code) is permanent


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("refresh_token_expired", "your refresh token has expired"),
        ("refresh_token_reused", "your refresh token was already used"),
        ("refresh_token_invalidated", "your refresh token was revoked"),
        ("invalid_grant", "could not be refreshed"),
        (None, "could not be refreshed"),
    ],
)
def test_permanent_messages(code: str | None, reason: str) -> None:
    message = policy.permanent_message(code)
    assert f"{reason}. Sign in again with `codex login`." in message
    assert message.endswith("Sign in again with `codex login`.")


@pytest.mark.parametrize(
    ("attempt", "retry_after", "jitter", "delay"),
    [
        (1, None, 0.0, 0.5),
        (1, None, 0.999, 0.9995),
        (2, None, 0.0, 1.0),
        (3, None, 0.5, 3.0),
        (9, None, 0.0, 128.0),
        (10, None, 1.0, 300.0),  # 512 s capped at 5 minutes
        (10_000, None, 0.0, 150.0),
        (1, 30.0, 0.0, 30.0),  # Retry-After is a floor
        (10, 5.0, 1.0, 300.0),
        (1, 10**9, 0.0, 3600.0),
        (1, 0.0, 0.0, 0.5),
    ],
)
def test_backoff_delay(attempt: int, retry_after: float | None, jitter: float, delay: float):
    assert policy.backoff_delay(attempt, retry_after, jitter) == pytest.approx(delay)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Thu, 15 Jan 2027 08:00:30 GMT", 30.0),
        ("Thu, 15 Jan 2027 07:59:00 GMT", 0.0),
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    now = 1_800_000_000.0  # 2027-01-15T08:00:00Z
    assert policy.parse_retry_after(value, now) == seconds
