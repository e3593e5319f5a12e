"""Pure: the ``account/read`` answer of the status protocol, shaped as Codex's app-server shapes
it (SPEC §9).

Keys and their order are those of Codex 0.169.0's ``GetAccountResponse``, measured over stdio:
``{"account", "userId", "requiresOpenaiAuth", "workspaceRouting"}``. Where each value comes from:

- ``account``: ``{"type": "apiKey"}`` or ``{"type": "chatgpt", "email", "planType",
  "workspaceName"}`` (codex-rs/app-server-protocol/src/protocol/v2/account.rs, ``Account``);
  ``null`` when signed out and, beyond Codex, when the snapshot is poisoned.
- ``email``: the id_token's ``email``, else its profile claim's email; ``userId``:
  ``chatgpt_user_id``, else ``user_id`` (codex-rs/login/src/token_data.rs). API key: ``null``.
- ``planType``: Codex's ``PlanType`` names (token_data.rs ``PlanType::from_raw_value``, with
  ``hc`` = enterprise and ``education`` = edu); a plan it does not know, or none, is
  ``"unknown"`` (manager.rs ``account_plan_type``).
- ``workspaceName`` and ``workspaceRouting``: Codex fills these from a ChatGPT backend request
  (``/wham/accounts/check``, app-server account_processor/workspace_routing.rs; the routing field
  is behind its experimental ``account/read.workspaceRouting`` gate). No id_token claim carries
  them, and a status answer here makes no backend request, so they are ``null`` — which is also
  what Codex answers for API-key and signed-out states.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: this module may sit on the launcher's import path
if TYPE_CHECKING:
    from codex_install.auth.jwt import IdClaims

_PLAN_ALIASES = {"hc": "enterprise", "education": "edu"}
KNOWN_PLANS = frozenset({"free", "go", "plus", "pro", "team", "business", "enterprise", "edu"})


def plan_type(raw: str | None) -> str:
    """Codex's ``planType`` for the id_token's ``chatgpt_plan_type``."""
    if raw is None:
        return "unknown"
    plan = raw.strip().lower()
    plan = _PLAN_ALIASES.get(plan, plan)
    return plan if plan in KNOWN_PLANS else "unknown"


def account_response(method: str | None, claims: IdClaims | None) -> dict[str, object]:
    """``method`` is "apikey", "chatgpt" or None (signed out or poisoned)."""
    account: dict[str, object] | None = None
    user_id: str | None = None
    if method == "apikey":
        account = {"type": "apiKey"}
    elif method == "chatgpt" and claims is not None:
        account = {
            "type": "chatgpt",
            "email": claims.email,
            "planType": plan_type(claims.plan),
            "workspaceName": None,
        }
        user_id = claims.user_id
    return {
        "account": account,
        "userId": user_id,
        "requiresOpenaiAuth": True,
        "workspaceRouting": None,
    }
