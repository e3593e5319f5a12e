"""Where Codex keeps the credentials: its ``cli_auth_credentials_store`` setting (SPEC §10).

Codex reads it from ``$CODEX_HOME/config.toml`` and from ``-c key=value`` overrides on its own
command line (codex-rs/config ``AuthCredentialsStoreMode``: ``file``, ``keyring``, ``auto``,
``ephemeral``; default ``file``). Only ``file`` means auth.json is the credential: in the others
the credentials may be in the OS keyring, which only Codex can read cheaply.

On the codex-launch hot path: ``os`` only (no ``re``, ``pathlib`` or a TOML parser), and
config.toml is parsed only when it mentions the key at all.
"""

from __future__ import annotations

import os

from codex_install.auth.quick import CONFIG_CAP, read_small

TYPE_CHECKING = False  # not typing's: importing typing costs ms on the codex-launch hot path
if TYPE_CHECKING:
    from collections.abc import Sequence

STORE_KEY = "cli_auth_credentials_store"
# Settings that can make Codex refuse the credentials in auth.json (auth/codexconfig.py reads
# them); the hot path only asks whether they are mentioned at all.
RESTRICTION_KEYS = ("forced_login_method", "forced_chatgpt_workspace_id")
FILE_STORE = "file"
CONFIG_FILE = "config.toml"
_CONFIG_FLAGS = ("-c", "--config")


def config_overrides(args: Sequence[str], key: str) -> list[str]:
    """The raw values of every ``-c KEY=…`` / ``--config KEY=…`` before ``--``, in order (Codex
    applies them in order, so the last one wins)."""
    found: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            break
        value: str | None = None
        if arg in _CONFIG_FLAGS and i + 1 < len(args):
            value = args[i + 1]
            i += 1
        elif arg.startswith(("-c=", "--config=")):
            value = arg.split("=", 1)[1]
        if value is not None:
            name, sep, raw = value.partition("=")
            if sep and name.strip() == key:
                found.append(raw)
        i += 1
    return found


def store_from_args(args: Sequence[str]) -> str | None:
    """The last ``-c cli_auth_credentials_store=…`` override, or None."""
    found = config_overrides(args, STORE_KEY)
    return _toml_scalar(found[-1]) if found else None


def store_from_config(text: str) -> str | None:
    """The top-level ``cli_auth_credentials_store`` of a config.toml, or None. A key inside a
    ``[table]`` is some other setting; the first table header ends the top level."""
    if STORE_KEY not in text:
        return None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            return None
        key, sep, raw = stripped.partition("=")
        if sep and key.strip().strip("\"'") == STORE_KEY:
            return _toml_scalar(_drop_comment(raw))
    return None


def read_config_text(codex_home: str) -> str:
    """config.toml's text; empty when there is none or it is unreadable (Codex's defaults)."""
    try:
        return read_small(os.path.join(codex_home, CONFIG_FILE), CONFIG_CAP).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def credentials_store(codex_home: str, args: Sequence[str], text: str | None = None) -> str:
    """``file``, ``keyring``, ``auto`` or ``ephemeral`` (or whatever else was written, which
    Codex would reject: treated as "not the file", so Codex is asked). ``text`` is config.toml's
    when the caller has read it already."""
    override = store_from_args(args)
    if override is not None:
        return override.lower()
    text = read_config_text(codex_home) if text is None else text
    return (store_from_config(text) or FILE_STORE).lower()


def mentions_restrictions(text: str, args: Sequence[str]) -> bool:
    """Whether config text or ``-c`` arguments may restrict sign-in at all (RESTRICTION_KEYS),
    without parsing TOML: then the full reader decides."""
    return any(key in text or any(key in arg for arg in args) for key in RESTRICTION_KEYS)


def _toml_scalar(raw: str) -> str:
    """A TOML string (either quote) or a bare word; Codex takes an unparsable ``-c`` value as
    a literal string, so a bare word is that word."""
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _drop_comment(raw: str) -> str:
    value = raw.strip()
    if value[:1] in "\"'":
        end = value.find(value[0], 1)
        return value[: end + 1] if end > 0 else value
    return value.split("#", 1)[0]
