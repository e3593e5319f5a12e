"""The one exception tree of codex-install.

Every expected failure is a ``CodexInstallError``; the CLI (and only the CLI) turns it into one
line on stderr and the exit code the class carries (SPEC §6)::

    CodexInstallError (1)
    ├── UsageError (2)                 bad flag, bad version string, malformed input file
    ├── NotFoundError (3)              release, tag, asset or platform package does not exist
    ├── NetworkError (4)               unreachable, timeout, retries exhausted
    │   └── RateLimitError (4)         GitHub rate limit exhausted (reset time + token hint)
    ├── VerificationError (5)          digest, size, integrity, SUMS mismatch
    │   ├── UnsafeArchiveError (5)     traversal, links out, devices, duplicates, too big
    │   └── SmokeTestError (5)         bin/codex --version did not print codex-cli <ver>
    ├── UnsupportedPlatformError (6)   OS/arch without a Codex build
    ├── FilesystemError (7)            permissions, lock, disk
    ├── SignInRequiredError (8)        launcher, non-interactive, no usable credentials
    └── AuthError (1)                  auth.json / token refresh problems
        ├── AuthFileError (2)          malformed or unreadable auth.json (never rewritten)
        └── RefreshError (1)           token refresh failed (permanent or transient)

Messages never contain tokens or keys.
"""

from __future__ import annotations


class CodexInstallError(Exception):
    """Base of every expected failure; ``exit_code`` is the process exit status."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class UsageError(CodexInstallError):
    exit_code = 2


class NotFoundError(CodexInstallError):
    exit_code = 3


class NetworkError(CodexInstallError):
    """The network step failed. ``connection_level`` marks DNS/connect/TLS/timeout failures,
    the only ones that make ``--source auto`` fall back to npm."""

    exit_code = 4

    def __init__(
        self, message: str, *, hint: str | None = None, connection_level: bool = False
    ) -> None:
        super().__init__(message, hint=hint)
        self.connection_level = connection_level


class RateLimitError(NetworkError):
    pass


class VerificationError(CodexInstallError):
    exit_code = 5


class UnsafeArchiveError(VerificationError):
    pass


class SmokeTestError(VerificationError):
    pass


class UnsupportedPlatformError(CodexInstallError):
    exit_code = 6


class FilesystemError(CodexInstallError):
    exit_code = 7


class SignInRequiredError(CodexInstallError):
    exit_code = 8


class AuthError(CodexInstallError):
    exit_code = 1


class AuthFileError(AuthError):
    exit_code = 2


class RefreshError(AuthError):
    """A token refresh failed. ``permanent`` failures poison the snapshot (SPEC §9)."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        self.retry_after = retry_after
