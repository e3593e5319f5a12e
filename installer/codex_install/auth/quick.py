"""The codex-launch hot path's one question: are the credentials in auth.json usable as they
are? Answered from the files with ``os`` and C modules only (SPEC §10: small overhead).

``True`` means usable now (an API key, or a ChatGPT access token more than 5 minutes from its
``exp``, with no refresh trouble recorded); ``None`` means "ask the full reader" (auth/state.py),
which knows every rule and every error message. This module never says "not usable": the full
reader does, so there is one place for those answers.
"""

from __future__ import annotations

import binascii
import os
import stat

TYPE_CHECKING = False  # not typing's: importing typing costs ms on the codex-launch hot path
if TYPE_CHECKING:
    from typing import Any

AUTH_FILE = "auth.json"
LEDGER_FILE = "codex-install-auth-state.json"
STALE_BEFORE_EXPIRY_S = 5 * 60
# What each file Codex or we keep in CODEX_HOME may weigh before it is refused unread (issue 21):
# Codex's auth.json is a few KiB, the ledger a few hundred bytes, a config.toml rarely 100 KiB.
AUTH_CAP = 1 << 20
LEDGER_CAP = 64 << 10
CONFIG_CAP = 4 << 20
_URLSAFE = bytes.maketrans(b"-_", b"+/")


class _ScanContext:
    """What CPython's ``_json.make_scanner`` reads off a decoder: the defaults of
    ``json.JSONDecoder()``."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float  # NaN, Infinity, -Infinity, as json.loads reads them
    memo: dict[str, str] = {}  # noqa: RUF012  (read by the scanner, which clears it itself)


def _make_loads() -> Any:
    # The json package imports `re` (json.decoder), ~7 ms of the launcher's budget; the C
    # scanner under it does not. Where there is no C scanner, json itself.
    try:
        from _json import make_scanner
    except ImportError:  # not CPython
        import json

        return json.loads
    scan = make_scanner(_ScanContext())  # type: ignore[arg-type]  # typeshed: a JSONDecoder

    def loads(text: str) -> Any:
        value, end = scan(text, 0)
        if text[end:].strip():
            raise ValueError("trailing data")
        return value

    return loads


_loads = _make_loads()


def load_json(text: str) -> Any:
    """A JSON document with leading whitespace allowed; raises on anything malformed (the caller
    then asks the full reader, whose message names the problem)."""
    return _loads(text.lstrip())


def jwt_payload(token: object) -> dict[str, Any] | None:
    """The claims of a JWT, unverified (see auth/jwt.py for why), or None."""
    if not isinstance(token, str):
        return None
    parts = token.split(".")
    if len(parts) != 3 or not parts[1]:
        return None
    raw = parts[1].encode("ascii", "replace").translate(_URLSAFE)
    try:
        claims = load_json(binascii.a2b_base64(raw + b"=" * (-len(raw) % 4)).decode("utf-8"))
    except Exception:
        return None
    return claims if isinstance(claims, dict) else None


def read_small(path: str, cap: int) -> bytes:
    """``fs.read_regular``'s rule with ``os`` alone (fs imports pathlib, ~15 ms, which the hot
    path cannot pay): opened without blocking, a regular file, never read past ``cap``. Raises
    OSError (FileNotFoundError when absent) for anything else: a FIFO, a device, a symlink to
    ``/dev/zero``."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        data = os.read(fd, cap + 1)
        while len(data) <= cap and (chunk := os.read(fd, cap + 1 - len(data))):
            data += chunk
        if len(data) > cap:
            raise OSError(f"{path} is larger than {cap} bytes")
        return data
    finally:
        os.close(fd)


def usable_as_is(codex_home: str, now: float) -> bool | None:
    """True when auth.json holds credentials codex can use as they are; None otherwise (no file,
    malformed, stale, refresh trouble recorded, anything unusual)."""
    try:
        raw = read_small(os.path.join(codex_home, AUTH_FILE), AUTH_CAP)
        data = load_json(raw.decode("utf-8"))
        if _trouble_recorded(codex_home):
            return None
    except Exception:  # any failure at all: the full reader says what is wrong
        return None
    return _usable(data, now) or None


def _usable(data: object, now: float) -> bool:
    """auth.json's document as store.AuthSnapshot reads its mode, key and tokens."""
    if not isinstance(data, dict):
        return False
    key = data.get("OPENAI_API_KEY")
    if key is not None and not isinstance(key, str):
        return False
    mode = data.get("auth_mode")
    if mode is None:
        mode = "apikey" if key is not None else "chatgpt"
    if mode == "apikey":
        return bool(key)
    tokens = data.get("tokens")
    if mode != "chatgpt" or not isinstance(tokens, dict):
        return False
    return _expires_after(tokens.get("access_token"), now + STALE_BEFORE_EXPIRY_S)


def _expires_after(token: object, when: float) -> bool:
    """The JWT's ``exp`` is later than ``when``. No exp is False: the 8-day rule needs the
    full reader's timestamp parsing."""
    exp = (jwt_payload(token) or {}).get("exp")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        return False
    try:
        value = float(exp)
    except OverflowError:  # beyond any float: no usable expiry, as in auth/jwt.py
        return False
    return value - value == 0 and value > when  # NaN and infinities are no expiry either


def _trouble_recorded(codex_home: str) -> bool:
    """The refresh ledger (auth/ledger.py) names a snapshot: poison or backoff for some
    auth.json, maybe this one — only the full reader can tell."""
    try:
        ledger = load_json(read_small(os.path.join(codex_home, LEDGER_FILE), LEDGER_CAP).decode())
    except FileNotFoundError:
        return False
    return not isinstance(ledger, dict) or ledger.get("snapshot") is not None
