from __future__ import annotations

import pytest

from codex_install.auth import jwt
from servers.oauth import id_token, make_jwt


def test_id_claims_come_from_the_openai_auth_claim() -> None:
    claims = jwt.id_claims(id_token(email="a@example.com", plan="pro", account="acct-9"))
    assert claims == jwt.IdClaims(
        email="a@example.com", plan="pro", account_id="acct-9", user_id="user-1"
    )


@pytest.mark.parametrize(
    ("token", "exp"),
    [
        (make_jwt({"exp": 1_800_000_000}), 1_800_000_000.0),
        (make_jwt({"exp": 1.5}), 1.5),
        (make_jwt({"exp": "soon"}), None),
        (make_jwt({"exp": True}), None),
        (make_jwt({}), None),
        ("not-a-jwt", None),
        ("a.!!!.c", None),
        ("a..c", None),
        ("a.bm90IGpzb24.c", None),  # "not json"
        ("a.WzFd.c", None),  # a JSON list, not an object
        (None, None),
        (42, None),
    ],
)
def test_expiry(token: object, exp: float | None) -> None:
    assert jwt.expiry(token) == exp


def test_claims_of_garbage_are_empty() -> None:
    assert jwt.id_claims("garbage") == jwt.IdClaims()
    assert jwt.id_claims(make_jwt({"email": 3, jwt.OPENAI_AUTH_CLAIM: "x"})) == jwt.IdClaims()
