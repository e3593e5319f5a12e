"""`codex-install auth status`: the getAuthStatus object, as JSON or as text."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from codex_install.errors import printable

if TYPE_CHECKING:
    from codex_install.auth.manager import AuthManager

_EMAIL_MAX, _PLAN_MAX = 120, 40


def auth_status(manager: AuthManager, *, include_token: bool, refresh: bool, as_json: bool) -> str:
    status = manager.get_auth_status(include_token=include_token, refresh_token=refresh)
    if as_json:
        return json.dumps(status)
    account = manager.account_read(discover=False)  # who and which plan: no backend request
    return render_text(status, account, manager.state().reason)


def render_text(
    status: Mapping[str, object], account: Mapping[str, object], reason: str | None
) -> str:
    method = status.get("authMethod")
    acct = account.get("account")
    if method is None:
        lines = ["Signed out. Sign in with `codex login`."]
    elif method == "apikey":
        lines = ["Signed in with an API key."]
    elif isinstance(acct, Mapping):
        # Both come from the id_token: remote text, escaped and cut like any other.
        who = printable(str(acct.get("email") or "an unknown account"), _EMAIL_MAX)
        plan_type = acct.get("planType")
        plan = f" (plan: {printable(str(plan_type), _PLAN_MAX)})" if plan_type else ""
        lines = [f"Signed in with ChatGPT as {who}{plan}."]
    else:
        lines = [reason or "ChatGPT credentials are unusable. Sign in again with `codex login`."]
    if status.get("authToken") is not None:
        lines.append(f"token: {status['authToken']}")
    return "\n".join(printable(line) for line in lines)
