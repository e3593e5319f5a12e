"""JWT claim decoding without signature checks (SPEC §9).

The claims only schedule refreshes and label output; the token endpoint and the Codex backend are
the ones that verify signatures, so checking them here would add a key fetch for no safety gain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from codex_install.auth.quick import jwt_payload

TYPE_CHECKING = False  # not typing's: importing typing costs ms on the codex-launch hot path
if TYPE_CHECKING:
    from typing import Any

OPENAI_AUTH_CLAIM = "https://api.openai.com/auth"
OPENAI_PROFILE_CLAIM = "https://api.openai.com/profile"


@dataclass(frozen=True)
class IdClaims:
    """What the id_token says about the signed-in user."""

    email: str | None = None
    plan: str | None = None
    account_id: str | None = None
    user_id: str | None = None


def decode_claims(token: object) -> dict[str, Any] | None:
    """The payload of a JWT as a dict, or None when ``token`` is not a decodable JWT."""
    return jwt_payload(token)


def expiry(token: object) -> float | None:
    """The ``exp`` claim (seconds since the epoch), or None when absent or not a number."""
    claims = decode_claims(token)
    if claims is None:
        return None
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        return None
    try:
        value = float(exp)
    except OverflowError:  # an integer beyond any float: no usable expiry
        return None
    return value if math.isfinite(value) else None


def id_claims(token: object) -> IdClaims:
    """The claims as Codex reads them (codex-rs/login/src/token_data.rs,
    ``parse_chatgpt_jwt_claims``): ``email``, else the profile claim's email; under the auth
    claim the plan, the account (workspace) id, and ``chatgpt_user_id``, else ``user_id``."""
    claims = decode_claims(token) or {}
    auth = _dict(claims.get(OPENAI_AUTH_CLAIM))
    profile = _dict(claims.get(OPENAI_PROFILE_CLAIM))
    return IdClaims(
        email=_str(claims.get("email")) or _str(profile.get("email")),
        plan=_str(auth.get("chatgpt_plan_type")),
        account_id=_str(auth.get("chatgpt_account_id")),
        user_id=_str(auth.get("chatgpt_user_id")) or _str(auth.get("user_id")),
    )


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
