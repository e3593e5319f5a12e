"""``$CODEX_HOME/auth.json``: Codex's own credential file, read and written in its format (SPEC §9).

A snapshot is the whole file; its identity is the SHA-256 of the canonical JSON, so whitespace or
key order changes are not "material" but any field change is.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from codex_install.auth import jwt
from codex_install.auth.policy import format_timestamp, is_stale, parse_timestamp
from codex_install.auth.quick import AUTH_CAP
from codex_install.auth.quick import AUTH_FILE as AUTH_FILE
from codex_install.errors import AuthFileError
from codex_install.fs import UnreadableFileError, atomic_write_text, read_regular

TYPE_CHECKING = False  # not typing's: importing typing costs ms on the codex-launch hot path
if TYPE_CHECKING:
    from typing import Any

# Codex 0.171.0's AuthMode, spelled as auth.json spells it (its generate-ts AuthMode.ts). Any
# other `auth_mode` — another case, another type — makes Codex refuse the whole file (measured:
# signed out everywhere, `codex login status` exit 1).
AUTH_MODES = (
    "apikey",
    "chatgpt",
    "chatgptAuthTokens",
    "headers",
    "agentIdentity",
    "personalAccessToken",
    "bedrockApiKey",
    "bedrockAccessKeys",
)
# Modes whose credential only Codex can check (a header provider, a signed agent identity, a
# token it verifies with the server, AWS material): neither status answers nor refreshes here.
EXTERNAL_MODES = frozenset(AUTH_MODES[3:])

TOKEN_FIELDS = ("id_token", "access_token", "refresh_token")

# A writer that truncates then writes (Codex does) can be caught mid-write; a short re-read tells
# that apart from a file that is really malformed.
_READ_ATTEMPTS = 3
_READ_RETRY_S = 0.02
# A temp copy beside a shared (symlinked-to) auth.json this old is a dead writer's, whatever lock
# its writer held: an atomic write takes milliseconds.
_FOREIGN_TEMP_AGE_S = 60.0


@dataclass(frozen=True)
class AuthSnapshot:
    """One parsed auth.json. ``data`` is the whole document and must be treated as read-only."""

    data: Mapping[str, Any] = field(repr=False)
    digest: str
    # Where it was read: "file" (auth.json) or "keyring" (Codex's keyring item); a refresh
    # writes back there. Not part of the identity: the same credentials are the same snapshot.
    origin: str = field(default="file", compare=False)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> AuthSnapshot:
        return cls(data=data, digest=snapshot_digest(data))

    @property
    def mode(self) -> str:
        """One of AUTH_MODES (parse_auth refused any other); absent or null: an API key when
        OPENAI_API_KEY is a string, else ChatGPT, as Codex resolves it."""
        mode = self.data.get("auth_mode")
        if isinstance(mode, str):
            return mode
        return "apikey" if isinstance(self.data.get("OPENAI_API_KEY"), str) else "chatgpt"

    @property
    def account_id(self) -> str | None:
        """The ChatGPT workspace (``tokens.account_id``), as Codex routes and restricts it."""
        value = self.tokens.get("account_id")
        return value if isinstance(value, str) else None

    @property
    def api_key(self) -> str | None:
        key = self.data.get("OPENAI_API_KEY")
        return key if isinstance(key, str) and key else None

    @property
    def tokens(self) -> Mapping[str, Any]:
        tokens = self.data.get("tokens")
        return tokens if isinstance(tokens, Mapping) else {}

    def token(self, name: str) -> str | None:
        value = self.tokens.get(name)
        return value if isinstance(value, str) and value else None

    @property
    def signed_in(self) -> bool:
        """Credentials this mode can use: a key, or ChatGPT tokens. External modes are Codex's
        to judge, so they count as signed in here."""
        if self.mode == "apikey":
            return self.api_key is not None
        if self.mode in EXTERNAL_MODES:
            return True
        return self.token("access_token") is not None or self.token("refresh_token") is not None

    @property
    def claims(self) -> jwt.IdClaims:
        return jwt.id_claims(self.token("id_token"))

    @property
    def access_expiry(self) -> float | None:
        return jwt.expiry(self.token("access_token"))

    def stale(self, now: float) -> bool:
        return is_stale(self.access_expiry, parse_timestamp(self.data.get("last_refresh")), now)


def snapshot_digest(data: Mapping[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # surrogatepass: JSON may escape lone surrogates ("\ud800"); they must not crash the digest.
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def auth_path(codex_home: Path) -> Path:
    return codex_home / AUTH_FILE


def parse_auth(raw: bytes, path: Path) -> AuthSnapshot:
    """Parse auth.json bytes; AuthFileError when it is not a JSON object of Codex's shape."""
    hint = f"fix or remove {path}, or sign in again with `codex login`"
    if not raw.strip():
        raise AuthFileError(f"{path} is empty", hint=hint)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested too deep
        # The decoder's message quotes file content, which may be a token.
        raise AuthFileError(f"{path} is not valid JSON", hint=hint) from None
    if not isinstance(data, dict):
        raise AuthFileError(f"{path} is not a JSON object", hint=hint)
    if data.get("tokens") is not None and not isinstance(data["tokens"], dict):
        raise AuthFileError(f"{path}: `tokens` is not an object", hint=hint)
    key = data.get("OPENAI_API_KEY")
    if key is not None and not isinstance(key, str):
        raise AuthFileError(f"{path}: `OPENAI_API_KEY` is not a string", hint=hint)
    mode = data.get("auth_mode")
    if mode is not None and mode not in AUTH_MODES:
        # Remote-ish text (any program may have written it): its type, never its value.
        raise AuthFileError(f"{path}: `auth_mode` is not one Codex knows", hint=hint)
    return AuthSnapshot.from_data(data)


def load_snapshot(
    codex_home: Path, *, sleep: Callable[[float], None] | None = None
) -> AuthSnapshot | None:
    """The current auth.json, or None when there is none. Never writes. A FIFO, a device or a
    file beyond AUTH_CAP is AuthFileError at once, unread (issue 21)."""
    path = auth_path(codex_home)
    for attempt in range(_READ_ATTEMPTS):
        try:
            raw = read_regular(path, AUTH_CAP, what="auth file")
        except UnreadableFileError as err:
            raise AuthFileError(str(err), hint=f"fix or remove {path}") from err
        if raw is None:
            return None
        try:
            return parse_auth(raw, path)
        except AuthFileError:
            if attempt + 1 == _READ_ATTEMPTS:
                raise
            (time.sleep if sleep is None else sleep)(_READ_RETRY_S)
    raise AssertionError("unreachable")


def merge_tokens(
    data: Mapping[str, Any], new_tokens: Mapping[str, str], now: float
) -> dict[str, Any]:
    """auth.json after a refresh: the tokens given replace the old ones, every other field (known
    or not) is kept, ``last_refresh`` is now."""
    merged = copy.deepcopy(dict(data))
    tokens = merged.get("tokens")
    if not isinstance(tokens, dict):
        tokens = {}
        merged["tokens"] = tokens
    for name in TOKEN_FIELDS:
        value = new_tokens.get(name)
        if isinstance(value, str) and value:
            tokens[name] = value
    merged["last_refresh"] = format_timestamp(now)
    return merged


def write_auth(codex_home: Path, data: Mapping[str, Any]) -> AuthSnapshot:
    # Through a symlink, as Codex's own in-place write goes: an auth.json linked into several
    # CODEX_HOMEs must stay one file, or the other copies keep a refresh token that this
    # refresh has just spent (and their next refresh is `refresh_token_reused`).
    path = Path(os.path.realpath(auth_path(codex_home)))
    atomic_write_text(path, json.dumps(data, indent=2) + "\n", mode=0o600)
    return AuthSnapshot.from_data(data)


# Linux's FS_IOC_GETFLAGS and the inode flags under which no rename may replace the file.
_FS_IOC_GETFLAGS = 0x80086601
_FS_IMMUTABLE_FL, _FS_APPEND_FL = 0x10, 0x20


def unstorable(codex_home: Path) -> str | None:
    """Why a refreshed auth.json could not be written where auth.json really lives (its
    realpath), or None when it can: a temp file can be created beside it, and nothing forbids
    that file replacing it (an immutable or append-only file, another user's file in a sticky
    directory). Asked under the refresh lock before a refresh token is spent (issue 21): the
    server rotates the token as it answers, so an answer that cannot be stored costs the sign-in."""
    path = Path(os.path.realpath(auth_path(codex_home)))
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        return f"cannot create a file in {path.parent}: {err.strerror or err}"
    os.close(fd)
    _unlink_quietly(tmp)
    try:
        st = os.stat(path)
        parent = os.stat(path.parent)
    except OSError:
        return None  # no auth.json (any more): nothing to refresh, nothing to replace
    if _flags(path) & (_FS_IMMUTABLE_FL | _FS_APPEND_FL):
        return f"{path} is immutable or append-only"
    me = os.geteuid()
    if parent.st_mode & stat.S_ISVTX and me not in (0, st.st_uid, parent.st_uid):
        return f"{path} belongs to another user in a sticky directory"
    return None


def _flags(path: Path) -> int:
    """The file's inode flags (0 where the platform or filesystem has none)."""
    if not sys.platform.startswith("linux"):
        return 0
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError:
        return 0
    try:
        buf = fcntl.ioctl(fd, _FS_IOC_GETFLAGS, b"\0" * 8)
    except OSError:
        return 0
    finally:
        os.close(fd)
    return int.from_bytes(buf[:4], sys.byteorder)


def sweep_temp_files(codex_home: Path, names: tuple[str, ...], *, now: float | None = None) -> None:
    """Remove the temp files of :func:`atomic_write_text` that a writer killed before its rename
    left behind (whole copies of the credentials). Call only under the refresh lock: every
    writer of these files holds it, so any found then belong to a dead process.

    A file that is a symlink (auth.json shared by several CODEX_HOMEs) is written, so its temp
    copies are left, next to the real file: they are swept there too, but only once they are
    older than a write could take, since a writer from another CODEX_HOME holds another lock.
    """
    for name in names:
        for stale in codex_home.glob(f".{name}.*.tmp"):
            _unlink_quietly(str(stale))
        real = Path(os.path.realpath(codex_home / name))
        if real.parent == Path(os.path.realpath(codex_home)):
            continue
        cutoff = (time.time() if now is None else now) - _FOREIGN_TEMP_AGE_S
        for stale in real.parent.glob(f".{real.name}.*.tmp"):
            with contextlib.suppress(OSError):
                if stale.lstat().st_mtime < cutoff:
                    stale.unlink()


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
