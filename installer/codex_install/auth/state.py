"""The sign-in state as the launcher sees it, from files alone (SPEC §9, §10).

On the launcher's hot path: this module and everything it imports stay free of httpx, requests
and click, and reading the state makes no request.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from codex_install.auth.codexconfig import CodexConfig, read_codex_config, restriction
from codex_install.auth.ledger import Poison, read_ledger
from codex_install.auth.store import EXTERNAL_MODES, AuthSnapshot, load_snapshot

TYPE_CHECKING = False  # not typing's: importing typing costs ms on the codex-launch hot path
if TYPE_CHECKING:
    from typing import Literal

    # "external": a mode whose credential only Codex can check (store.EXTERNAL_MODES).
    CredentialKind = Literal["signed_out", "apikey", "chatgpt", "poisoned", "external"]


@dataclass(frozen=True)
class CredentialState:
    kind: CredentialKind
    stale: bool  # a chatgpt token that needs a refresh (SPEC §9 staleness rule)
    email: str | None = None
    plan: str | None = None
    api_key_last4: str | None = None
    # "poisoned": the user message, ending in the sign-in hint; "signed_out": why credentials
    # that are there do not count (config.toml refuses them), one line without a hint.
    reason: str | None = None
    method: str | None = None  # auth.json's auth mode (store.AUTH_MODES) when signed in


SIGNED_OUT = CredentialState(kind="signed_out", stale=False)


def credential_state(
    snapshot: AuthSnapshot | None, poison: Poison | None, now: float
) -> CredentialState:
    """Pure: the state of one snapshot given the poison recorded for it (if any)."""
    if snapshot is None or not snapshot.signed_in:
        return SIGNED_OUT
    mode = snapshot.mode
    if mode == "apikey":
        key = snapshot.api_key or ""
        return CredentialState(
            kind="apikey", stale=False, api_key_last4=key[-4:] or None, method=mode
        )
    if mode in EXTERNAL_MODES:
        return CredentialState(kind="external", stale=False, method=mode)
    claims = snapshot.claims
    # chatgptAuthTokens are refreshed by whoever provided them, never by Codex (measured: an
    # expired one is handed out as it is) — and so never by us.
    stale = snapshot.stale(now) if mode == "chatgpt" else False
    if poison is not None:
        return CredentialState(
            kind="poisoned",
            stale=stale,
            email=claims.email,
            plan=claims.plan,
            reason=poison.reason,
            method=mode,
        )
    return CredentialState(
        kind="chatgpt", stale=stale, email=claims.email, plan=claims.plan, method=mode
    )


def restricted(
    state: CredentialState, snapshot: AuthSnapshot | None, config: CodexConfig
) -> CredentialState:
    """Pure: ``state`` as Codex sees it under the config's sign-in restrictions — signed out,
    with the reason, when the config refuses these credentials."""
    if snapshot is None or state.kind == "signed_out":
        return state
    reason = restriction(config, snapshot.mode, snapshot.account_id)
    return state if reason is None else replace(SIGNED_OUT, reason=reason)


def read_credential_state(
    codex_home: Path,
    *,
    env: Mapping[str, str] | None = None,
    now: float | None = None,
    args: Sequence[str] = (),
) -> CredentialState:
    """Read auth.json, the persisted poison and config.toml's sign-in restrictions (with the
    ``-c`` overrides in ``args``); AuthFileError (exit 2) when auth.json is malformed or
    unreadable. ``env`` is accepted for symmetry with AuthManager: the state is decided by the
    files in ``codex_home`` alone."""
    del env
    snapshot = load_snapshot(codex_home)
    poison = read_ledger(codex_home).poison_for(snapshot.digest) if snapshot else None
    state = credential_state(snapshot, poison, time.time() if now is None else now)
    return restricted(state, snapshot, read_codex_config(codex_home, args))
