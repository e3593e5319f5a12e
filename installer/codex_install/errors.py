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
        ├── RefreshError (1)           token refresh failed (permanent or transient)
        └── AccountReadError (1)       account/read cannot answer (as Codex: a JSON-RPC error)

Messages never contain tokens or keys: every secret the process holds (:func:`hold_secret`) is
masked in each message and hint, whatever server text carried it, and a URL is shown through
:func:`shown_url`. ``str(error)`` is always one printable line, whatever
remote text (asset names, error bodies, entry names) it carries: a newline or an escape sequence
from a server must not forge output. ``error.line()``, what the CLI prints, is also cut to
:data:`MAX_LINE` characters.
"""

from __future__ import annotations

MAX_LINE = 300
# C0 and C1 controls, DEL and the Unicode bidi overrides/isolates, escaped as Python would.
_UNPRINTABLE = [
    *range(0x20),
    0x7F,
    *range(0x80, 0xA0),
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
]
_ESCAPES = {c: repr(chr(c))[1:-1] for c in _UNPRINTABLE}


def printable(text: str, limit: int | None = None) -> str:
    """``text`` with control characters escaped and, given a ``limit``, cut to that many
    characters in the middle (the end of a message says what happens next, so it stays)."""
    clean = text.translate(_ESCAPES)
    if limit is None or len(clean) <= limit:
        return clean
    tail = limit // 3
    return clean[: max(limit - tail - 1, 0)] + "…" + clean[len(clean) - tail :]


_SECRETS: dict[str, str] = {}  # secret -> what is shown instead


def hold_secret(value: str | None, shown: str = "***") -> None:
    """Remember ``value`` (a token, a key, a password, a ``${VAR}`` expansion) so that no
    message, hint or printed string ever shows it (:func:`scrub`), but ``shown`` (for an
    expansion: the ``${VAR}`` text it came from)."""
    if value and len(value) >= 6:  # shorter would mask ordinary words
        _SECRETS.setdefault(value, shown)


def scrub(text: str) -> str:
    """``text`` with every secret the process holds masked."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, _SECRETS[secret])
    return text


def shown_url(url: str) -> str:
    """A URL as people see it: no ``user:password@``, no query (signed CDN URLs and tokens
    ride in it), no fragment, no secret the process holds; the rest as given."""
    scheme, sep, rest = url.partition("://")
    if not sep:  # "user:password@host:port", as proxy variables are spelled
        scheme, rest = "", url
    end = min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))
    at = rest.rfind("@", 0, end) if "@" in rest[:end] else _hidden_at(rest, end)
    if at >= 0:
        rest = "***@" + rest[at + 1 :]
    rest = rest.split("?", 1)[0].split("#", 1)[0]
    return scrub(f"{scheme}{sep}{rest}")


def _hidden_at(rest: str, end: int) -> int:
    """The ``@`` ending a password that holds a ``/``, ``?`` or ``#`` (``user:pa/ss@host``: a
    URL parser takes the authority to end there), or -1. An ``@`` right after a ``/`` starts a path
    segment (npm's ``/@openai/codex``)."""
    if ":" not in rest[:end]:
        return -1
    found = [i for i in range(end + 1, len(rest)) if rest[i] == "@" and rest[i - 1] != "/"]
    return found[-1] if found else -1


class CodexInstallError(Exception):
    """Base of every expected failure; ``exit_code`` is the process exit status."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        message, hint = scrub(message), scrub(hint) if hint else hint
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        text = self.message if not self.hint else f"{self.message} ({self.hint})"
        return printable(text)

    def line(self, prefix: str = "") -> str:
        """The one line a user sees: ``prefix`` and the message, at most MAX_LINE long."""
        return printable(prefix + str(self), MAX_LINE)


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


class AccountReadError(AuthError):
    """``account/read`` answered with an error, as Codex's app-server answers it: an invalid
    account (``invalid_request``: -32600) or failed workspace routing discovery (-32603)."""

    def __init__(self, message: str, *, invalid_request: bool = False) -> None:
        super().__init__(message)
        self.invalid_request = invalid_request


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
