"""The one failure classifier on what a registry adds: its error-code bodies, a push's words,
a streamed upload asked for twice."""

from __future__ import annotations

import json

import httpx
import pytest

from codex_install.errors import NetworkError
from codex_install.http.classify import classify_error, classify_status
from codex_install.http.network import Failed, failure_error


def _errors(code: object, message: object = None) -> bytes:
    entry = {"code": code} if message is None else {"code": code, "message": message}
    return json.dumps({"errors": [entry]}).encode()


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            _errors("MANIFEST_UNKNOWN", "manifest unknown"),
            "HTTP 404 (MANIFEST_UNKNOWN: manifest unknown)",
        ),
        (_errors("DENIED"), "HTTP 404 (DENIED)"),
        (b"<html>not found</html>", "HTTP 404"),
        (b"{not json", "HTTP 404"),
        (b'{"errors": "no list"}', "HTTP 404"),
        (_errors(7, "a code that is no string"), "HTTP 404"),
        (b"[" * 100_000, "HTTP 404"),  # nested past the parser's depth
    ],
)
def test_a_registry_error_body_names_its_code_or_nothing(body: bytes, detail: str) -> None:
    failure = classify_status(404, {}, body=body)
    assert failure is not None and failure.detail == detail and failure.kind == "not_found"


def test_a_registry_error_message_is_escaped_and_cut() -> None:
    failure = classify_status(403, {}, body=_errors("DENIED", "\x1b[31mred\x1b[0m" + "x" * 500))
    assert failure is not None and "\x1b" not in failure.detail
    assert len(failure.detail) < 160 and not failure.retryable


def test_a_busy_registry_is_retried_and_a_refused_login_is_not() -> None:
    busy = classify_status(503, {"retry-after": "2"}, body=_errors("UNAVAILABLE"))
    assert busy is not None and busy.retryable and busy.retry_after == 2.0
    refused = classify_status(401, {"www-authenticate": 'Bearer realm="x"'})
    assert refused is not None and not refused.retryable


def test_a_push_is_said_as_one() -> None:
    failure = classify_status(403, {}, body=_errors("DENIED", "no push"))
    assert failure is not None
    err = failure_error(
        Failed(failure, 1, True),
        "manifest 1.0.0",
        "https://registry.example/v2/acme/codex/manifests/1.0.0",
        seconds=30,
        source="registry oci://registry.example/acme/codex",
        verb="push",
    )
    assert isinstance(err, NetworkError)
    assert err.line().endswith(
        "cannot push manifest 1.0.0 to registry oci://registry.example/acme/codex: "
        "HTTP 403 (DENIED: no push)"
    )


def test_a_streamed_upload_asked_for_again_is_one_short_line() -> None:
    failure = classify_error(httpx.StreamConsumed())
    assert failure.detail.startswith("the server asked for the upload again mid-way")
    assert "\n" not in failure.detail and failure.answered
