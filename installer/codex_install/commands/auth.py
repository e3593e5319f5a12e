"""``codex-install auth status`` and ``auth serve``: the credential state of SPEC §9, printed
once or served as JSON-RPC on stdio."""

from __future__ import annotations

from typing import BinaryIO, TextIO

from codex_install.auth.manager import AuthManager
from codex_install.auth.rpc import serve as serve_rpc
from codex_install.auth.status import auth_status
from codex_install.config import Settings


def _manager(settings: Settings) -> AuthManager:
    return AuthManager(settings.paths.codex_home, env=settings.env)


def status(settings: Settings, *, include_token: bool, refresh: bool, as_json: bool) -> str:
    with _manager(settings) as manager:
        return auth_status(manager, include_token=include_token, refresh=refresh, as_json=as_json)


def status_and_state(
    settings: Settings, *, include_token: bool, refresh: bool, as_json: bool
) -> tuple[str, bool]:
    """What ``auth status`` prints, and whether Codex is signed in (exit 0) or not (exit 8:
    signed out, or credentials that can no longer be used), as ``codex login status``."""
    with _manager(settings) as manager:
        text = auth_status(manager, include_token=include_token, refresh=refresh, as_json=as_json)
        return text, manager.state().kind in ("apikey", "chatgpt")


def serve(settings: Settings, stdin: BinaryIO, stdout: TextIO) -> int:
    """Answer requests until EOF; the process exit code."""
    with _manager(settings) as manager:
        return serve_rpc(manager, stdin, stdout, account_updated=manager.account_updated)
