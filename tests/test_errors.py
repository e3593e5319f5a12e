"""errors: one tree, each class with the exit code of SPEC §6, and one line per failure."""

from __future__ import annotations

import pytest

from codex_install import errors


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (errors.CodexInstallError, 1),
        (errors.UsageError, 2),
        (errors.NotFoundError, 3),
        (errors.NetworkError, 4),
        (errors.RateLimitError, 4),
        (errors.VerificationError, 5),
        (errors.UnsafeArchiveError, 5),
        (errors.SmokeTestError, 5),
        (errors.UnsupportedPlatformError, 6),
        (errors.FilesystemError, 7),
        (errors.SignInRequiredError, 8),
        (errors.AuthFileError, 2),
    ],
)
def test_every_class_carries_its_exit_code(cls: type[errors.CodexInstallError], code: int) -> None:
    assert cls.exit_code == code
    assert issubclass(cls, errors.CodexInstallError)


def test_the_hint_follows_the_message_on_the_same_line() -> None:
    err = errors.UsageError("--sha256 must be 64 hex digits", hint="pass the archive's digest")
    assert str(err) == "--sha256 must be 64 hex digits (pass the archive's digest)"
    assert str(errors.UsageError("plain")) == "plain"


def test_only_connection_failures_are_marked_for_the_npm_fallback() -> None:
    assert errors.NetworkError("x", connection_level=True).connection_level
    assert not errors.NetworkError("HTTP 500").connection_level


def test_str_escapes_control_characters_and_line_cuts_in_the_middle() -> None:
    err = errors.NotFoundError("asset a\nb\x1b[0m\u202e", hint="x")
    assert str(err) == "asset a\\nb\\x1b[0m\\u202e (x)"
    long = errors.NetworkError("y" * 1000 + "; nothing was installed")
    line = long.line("codex-install: error: ")
    assert len(line) == errors.MAX_LINE
    assert line.startswith("codex-install: error: yyy") and line.endswith("nothing was installed")
