"""Pure: the ``account/read`` answer of the status protocol, shaped as Codex's app-server shapes
it (SPEC §9).

Keys and their order are those of Codex 0.169.0's ``GetAccountResponse``, measured over stdio:
``{"account", "userId", "requiresOpenaiAuth", "workspaceRouting"}``. Where each value comes from:

- ``account``: ``{"type": "apiKey"}`` or ``{"type": "chatgpt", "email", "planType",
  "workspaceName"}`` (codex-rs/app-server-protocol/src/protocol/v2/account.rs, ``Account``);
  ``null`` when signed out and, beyond Codex, when the snapshot is poisoned.
- ``email``: the id_token's ``email``, else its profile claim's email; ``userId``:
  ``chatgpt_user_id``, else ``user_id`` (codex-rs/login/src/token_data.rs). API key: ``null``.
- ``planType``: Codex 0.171.0's ``PlanType`` names (its generate-ts ``PlanType.ts``; token_data.rs
  ``PlanType::from_raw_value`` reads ``hc`` as enterprise and ``education`` as edu); a plan it
  does not know, or none, is ``"unknown"`` (manager.rs ``account_plan_type``).
- ``workspaceRouting``: Codex 0.171.0 fills it for a ChatGPT account with a workspace id from
  the backend's accounts check, without any experimental opt-in (auth/routing.py does the same
  discovery); ``null`` otherwise. ``workspaceName`` stays ``null``: Codex 0.171.0 answers
  ``null`` too, with the accounts check answering (measured).
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: this module may sit on the launcher's import path
if TYPE_CHECKING:
    from codex_install.auth.jwt import IdClaims

_PLAN_ALIASES = {"hc": "enterprise", "education": "edu"}
KNOWN_PLANS = frozenset(
    {
        *("free", "go", "plus", "pro", "prolite", "promax", "team"),
        *("self_serve_business_prolite", "self_serve_business_usage_based", "business"),
        *("ent26", "enterprise_cbp_automation", "enterprise_cbp_usage_based", "enterprise"),
        *("edu", "edu_plus", "edu_pro", "sci", "sci_plus"),
    }
)


def plan_type(raw: str | None) -> str:
    """Codex's ``planType`` for the id_token's ``chatgpt_plan_type``."""
    if raw is None:
        return "unknown"
    plan = raw.strip().lower()
    plan = _PLAN_ALIASES.get(plan, plan)
    return plan if plan in KNOWN_PLANS else "unknown"


def account_response(
    method: str | None, claims: IdClaims | None, routing: dict[str, str] | None = None
) -> dict[str, object]:
    """``method`` is "apikey", "chatgpt" / "chatgptAuthTokens" or None (signed out or
    poisoned); ``routing`` the workspace routing discovered for a ChatGPT account."""
    account: dict[str, object] | None = None
    user_id: str | None = None
    if method == "apikey":
        account = {"type": "apiKey"}
    elif method in ("chatgpt", "chatgptAuthTokens") and claims is not None:
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
        "workspaceRouting": routing,
    }
