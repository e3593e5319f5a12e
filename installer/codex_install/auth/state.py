"""The sign-in state as the launcher sees it, from files alone (SPEC §9, §10).

On the launcher's hot path: this module and everything it imports stay free of httpx, requests
and click, and reading the state makes no request.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from codex_install.auth.ledger import Poison, read_ledger
from codex_install.auth.store import AuthSnapshot, load_snapshot

TYPE_CHECKING = False  # not typing's: importing typing costs ms on the codex-launch hot path
if TYPE_CHECKING:
    from typing import Literal

    CredentialKind = Literal["signed_out", "apikey", "chatgpt", "poisoned"]


@dataclass(frozen=True)
class CredentialState:
    kind: CredentialKind
    stale: bool  # a chatgpt token that needs a refresh (SPEC §9 staleness rule)
    email: str | None = None
    plan: str | None = None
    api_key_last4: str | None = None
    reason: str | None = None  # for "poisoned": the user message, ending in the sign-in hint


SIGNED_OUT = CredentialState(kind="signed_out", stale=False)


def credential_state(
    snapshot: AuthSnapshot | None, poison: Poison | None, now: float
) -> CredentialState:
    """Pure: the state of one snapshot given the poison recorded for it (if any)."""
    if snapshot is None or not snapshot.signed_in:
        return SIGNED_OUT
    if snapshot.mode == "apikey":
        key = snapshot.api_key or ""
        return CredentialState(kind="apikey", stale=False, api_key_last4=key[-4:] or None)
    claims = snapshot.claims
    stale = snapshot.stale(now)
    if poison is not None:
        return CredentialState(
            kind="poisoned",
            stale=stale,
            email=claims.email,
            plan=claims.plan,
            reason=poison.reason,
        )
    return CredentialState(kind="chatgpt", stale=stale, email=claims.email, plan=claims.plan)


def read_credential_state(
    codex_home: Path, *, env: Mapping[str, str] | None = None, now: float | None = None
) -> CredentialState:
    """Read auth.json and the persisted poison; AuthFileError (exit 2) when auth.json is
    malformed or unreadable. ``env`` is accepted for symmetry with AuthManager: the state is
    decided by the files in ``codex_home`` alone."""
    del env
    snapshot = load_snapshot(codex_home)
    poison = read_ledger(codex_home).poison_for(snapshot.digest) if snapshot else None
    return credential_state(snapshot, poison, time.time() if now is None else now)
